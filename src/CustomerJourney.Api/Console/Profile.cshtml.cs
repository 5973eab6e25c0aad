using CustomerJourney.Access;
using CustomerJourney.Identity;
using CustomerJourney.Touchpoints;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace CustomerJourney.WebConsole;

/// <summary>A profile's members, identifiers (blind indexes) and links with their evidence; merge and split for the roles that may.</summary>
[Authorize(Policy = Policies.ReadCustomers)]
public sealed class ProfilePage(IAuthorizationService authorization, IDocumentSession session, IPersonalDataProtector personal) : PageModel
{
    [FromRoute]
    public string Id { get; set; } = "";

    public ProfileView? Profile { get; private set; }

    public ProblemDetails? Problem { get; private set; }

    /// <summary>What a merge or split just did, or why it was refused.</summary>
    public ProfileChange? Changed { get; private set; }

    public ProblemDetails? Refused { get; private set; }

    public bool MayLink { get; private set; }

    public async Task<IActionResult> OnGetAsync(CancellationToken cancellation)
    {
        await LoadAsync(cancellation);
        return Page();
    }

    public async Task<IActionResult> OnPostMergeAsync(string? other, string? reason, [FromServices] ProfileWriter writer, [FromServices] IdentityRules rules,
        [FromServices] TimeProvider clock, CancellationToken cancellation)
    {
        if (!await MayLinkAsync())
        {
            return Forbid();
        }

        var command = new MergeProfiles([Id, other ?? ""], Blank(reason));
        await ChangeAsync(MergeProfilesEndpoint.Validate(command), () => MergeProfilesEndpoint.Post(command, User, session, writer, rules, clock, cancellation));
        await LoadAsync(cancellation);
        return Page();
    }

    public async Task<IActionResult> OnPostSplitAsync(string? member, string? reason, [FromServices] ProfileWriter writer, [FromServices] TimeProvider clock,
        CancellationToken cancellation)
    {
        if (!await MayLinkAsync())
        {
            return Forbid();
        }

        var command = new SplitProfile(Blank(member), Blank(reason));
        await ChangeAsync(SplitProfileEndpoint.Validate(Id, command), () => SplitProfileEndpoint.Post(Id, command, User, session, writer, clock, cancellation));
        await LoadAsync(cancellation);
        return Page();
    }

    /// <summary>The one call of GET /api/profiles/{id}'s code: what it answers is what the page shows.</summary>
    private async Task LoadAsync(CancellationToken cancellation)
    {
        MayLink = await MayLinkAsync();
        var answer = await ApiCalls.Answer<ProfileView>(GetProfileEndpoints.GetProfile(Id, ApiCalls.Query(HttpContext), User, session, personal, cancellation));
        (Profile, Problem) = (answer.Value, answer.Problem);
        if (Problem is not null)
        {
            Response.StatusCode = Problem.Status ?? StatusCodes.Status400BadRequest;
        }
    }

    /// <summary>Validates as Wolverine would before the endpoint; a broken identity rule is shown as the API would answer it.</summary>
    private async Task ChangeAsync(ProblemDetails validation, Func<Task<IResult>> post)
    {
        // Wolverine's "no problems" carries no status; every refusal has one.
        if (validation.Status is not null)
        {
            Refused = validation;
            return;
        }

        try
        {
            var answer = ApiAnswers.Of<ProfileChange>(await post());
            (Changed, Refused) = (answer.Value, answer.Problem);
            if (Changed is { } change && change.ProfileId != Id && ProfileIds.IsProfileId(Id))
            {
                Id = change.ProfileId;
            }
        }
        catch (IdentityRuleException broken)
        {
            Refused = new ProblemDetails { Status = broken.Status, Title = "Rule broken", Detail = broken.Message, Extensions = { ["rule"] = broken.Rule } };
        }
    }

    private async Task<bool> MayLinkAsync() => (await authorization.AuthorizeAsync(User, Policies.LinkProfiles)).Succeeded;

    private static string? Blank(string? text) => string.IsNullOrWhiteSpace(text) ? null : text;
}
