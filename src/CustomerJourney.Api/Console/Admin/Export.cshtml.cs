using System.Text.Json;
using CustomerJourney.Access;
using CustomerJourney.Complaints;
using CustomerJourney.Touchpoints;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Options;

namespace CustomerJourney.WebConsole.Admin;

/// <summary>The right of access: a person's data export, exactly as GET /api/customers/{id}/export answers it.</summary>
[Authorize(Policy = Policies.Administer)]
public sealed class ExportPage(IDocumentSession session, IPersonalDataProtector personal, UnreadablePersonalData unreadable, SlaPolicies policies,
    TimeProvider clock, IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> json) : PageModel
{
    [BindProperty(SupportsGet = true)]
    public string? CustomerId { get; set; }

    public CustomerExport? Export { get; private set; }

    public string? ExportJson { get; private set; }

    public ProblemDetails? Problem { get; private set; }

    /// <summary>The API's JSON options, indented for reading: built once.</summary>
    private static JsonSerializerOptions? Indented;

    public async Task OnGetAsync(CancellationToken cancellation)
    {
        if (CustomerId is not { Length: > 0 } customerId)
        {
            return;
        }

        var answer = ApiAnswers.Of<CustomerExport>(await ExportCustomerEndpoint.Get(customerId, session, personal, unreadable, policies, clock, json, cancellation));
        (Export, Problem) = (answer.Value, answer.Problem);
        if (Export is not null)
        {
            ExportJson = JsonSerializer.Serialize(Export, Indented ??= new JsonSerializerOptions(json.Value.SerializerOptions) { WriteIndented = true });
        }
    }
}
