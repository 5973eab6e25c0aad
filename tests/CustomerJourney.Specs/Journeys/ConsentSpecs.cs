using System.Globalization;
using CustomerJourney.Churn;
using CustomerJourney.Complaints;
using CustomerJourney.Journeys;
using CustomerJourney.Tests.Support;
using CustomerJourney.Touchpoints;
using CustomerJourney.WinBack;

namespace CustomerJourney.Specs.Journeys;

/// <summary>
/// Given consent statements (in record order), then what stands for a purpose. Every reader asks the one rule, so each
/// case is also checked against the summary, the churn flag and win-back: they must agree.
/// </summary>
public sealed class ConsentSpecs
{
    private const string Email = "marketing-email";
    private static readonly DateTimeOffset Start = new(2024, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static (Guid, Touchpoint) Statement(string statement)
    {
        // "given:email:1" = consent given for marketing-email on day 1.
        var parts = statement.Split(':');
        var purpose = "marketing-" + parts[1];
        var at = Start.AddDays(int.Parse(parts[2], CultureInfo.InvariantCulture));
        Touchpoint touchpoint = parts[0] == "given" ? new ConsentGiven { Purpose = purpose } : new ConsentWithdrawn { Purpose = purpose };
        return (Guid.NewGuid(), touchpoint.As("c-1", at, sourceId: statement, channel: Channel.Web));
    }

    public static TheoryData<string, string[], bool?> Cases => new()
    {
        { "never asked", [], null },
        { "given", ["given:email:1"], true },
        { "withdrawn later", ["given:email:1", "withdrawn:email:2"], false },
        { "an older withdrawal recorded later", ["given:email:2", "withdrawn:email:1"], true },
        { "same instant, withdrawal recorded first", ["given:email:0", "withdrawn:email:1", "given:email:1"], false },
        { "same instant, grant recorded first", ["given:email:0", "given:email:1", "withdrawn:email:1"], false },
        { "withdrawal, then a later grant", ["withdrawn:email:1", "given:email:2"], true },
        { "a grant for another purpose", ["given:email:1", "withdrawn:email:2", "given:app:3"], false },
        { "only another purpose", ["given:app:1"], null },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void The_latest_statement_in_business_time_stands_and_at_the_same_instant_the_withdrawal_wins(string name, string[] statements, bool? given)
    {
        var history = statements.Select(Statement).ToList();

        var standing = Consent.StandingAt(history, Email, null);

        Assert.True(given == standing?.Status.Given, name);
        Assert.Equal(given == true, Consent.IsGiven(history.Select(h => h.Item2), Email, null));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void The_summary_the_churn_flag_and_win_back_read_consent_the_same_way(string name, string[] statements, bool? given)
    {
        var history = statements.Select(Statement).ToList();
        var now = Start.AddDays(10);

        var summary = Spec.Summary("c-1").Given(history.Select(h => h.Item2));
        var flagged = ChurnFlagRules.Evaluate(history, null, now, new FlagSettings(), TimeZoneInfo.Utc, SlaPolicies.From(new SlaPolicyOptions()))
            .Any(f => f.Reason == FlagReasons.ConsentWithdrawn);
        var mayWrite = Consent.IsGiven(history.Select(h => h.Item2), WinBackRules.ConsentPurpose(Channel.Email), now);

        Assert.True(given == summary.Consents.GetValueOrDefault(Email)?.Given, name);
        Assert.True(given == false == flagged, name);
        Assert.True(given == true == mayWrite, name);
    }

    [Fact]
    public void Statements_after_the_instant_asked_about_do_not_count()
    {
        var history = new[] { "given:email:1", "withdrawn:email:5" }.Select(Statement).ToList();

        Assert.True(Consent.IsGiven(history.Select(h => h.Item2), Email, Start.AddDays(4)));
        Assert.False(Consent.IsGiven(history.Select(h => h.Item2), Email, Start.AddDays(5)));
    }

    [Fact]
    public void The_standing_statement_names_the_event_that_made_it()
    {
        var history = new[] { "given:email:1", "withdrawn:email:2", "given:email:2" }.Select(Statement).ToList();

        Assert.Equal(history[1].Item1, Consent.StandingAt(history, Email, null)!.Value.Id);
    }
}
