using System.Globalization;
using System.Text.RegularExpressions;
using CustomerJourney.Complaints;
using Microsoft.Extensions.Configuration;

namespace CustomerJourney.Specs.Complaints;

/// <summary>Given the "Complaints:Sla" configuration, these promises per policy and severity, or a refusal naming the key to fix.</summary>
public sealed class SlaPoliciesSpecs
{
    private static SlaPolicies Load(params string[] settings)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(settings.Select(s => s.Split('=', 2)).Select(s => KeyValuePair.Create(s[0], (string?)s[1])))
            .Build();
        return SlaPolicies.From(configuration.GetSection(SlaPolicyOptions.Section).Get<SlaPolicyOptions>() ?? new SlaPolicyOptions());
    }

    private static DateTimeOffset Utc(string instant) => DateTimeOffset.Parse(instant + "Z", CultureInfo.InvariantCulture);

    private static (TimeSpan, TimeSpan, TimeSpan, string) Budgets(SlaPromises promises) =>
        (promises.Acknowledge, promises.Resolve, promises.FollowUp, promises.ClockName);

    [Fact]
    public void With_nothing_configured_the_standard_policy_is_in_force_on_calendar_hours()
    {
        var policies = Load();

        Assert.Equal("standard", policies.Current);
        Assert.Equal(["business-hours", "standard"], policies.Names);
        Assert.Equal((TimeSpan.FromDays(1), TimeSpan.FromDays(5), TimeSpan.FromDays(3), "calendar"), Budgets(policies.For(ComplaintSeverity.Low)));
        Assert.Equal((TimeSpan.FromDays(1), TimeSpan.FromDays(5), TimeSpan.FromDays(3), "calendar"), Budgets(policies.For(ComplaintSeverity.High)));
        Assert.Equal((TimeSpan.FromHours(2), TimeSpan.FromHours(24), TimeSpan.FromDays(1), "calendar"), Budgets(policies.For(ComplaintSeverity.Critical)));
        Assert.Same(CalendarHoursClock.Instance, policies.For(ComplaintSeverity.Medium).Clock);
    }

    [Fact]
    public void The_built_in_business_hours_policy_makes_the_same_promises_counted_on_weekdays_nine_to_five_UTC()
    {
        var policies = Load();

        Assert.True(policies.TryGet("business-hours", ComplaintSeverity.Critical, out var critical));
        Assert.Equal((TimeSpan.FromHours(2), TimeSpan.FromHours(24), TimeSpan.FromDays(1), "business:weekdays"), Budgets(critical));
        Assert.Equal(Utc("2026-03-09T10:00"), critical.Clock.Add(Utc("2026-03-06T16:00"), critical.Acknowledge));
    }

    [Fact]
    public void A_configured_policy_on_a_configured_calendar_can_be_put_in_force()
    {
        var policies = Load(
            "Complaints:Sla:Current=nordic",
            "Complaints:Sla:Policies:nordic:Default:Acknowledge=04:00:00",
            "Complaints:Sla:Policies:nordic:Default:Resolve=2.00:00:00",
            "Complaints:Sla:Policies:nordic:Default:FollowUp=1.00:00:00",
            "Complaints:Sla:Policies:nordic:Default:Clock=business",
            "Complaints:Sla:Policies:nordic:Default:Calendar=stockholm",
            "Complaints:Sla:Calendars:stockholm:TimeZone=Europe/Stockholm",
            "Complaints:Sla:Calendars:stockholm:Week:monday=08:00-12:00,13:00-17:00",
            "Complaints:Sla:Calendars:stockholm:Week:tuesday=08:00-12:00, 13:00-17:00",
            "Complaints:Sla:Calendars:stockholm:Week:wednesday=08:00-17:00",
            "Complaints:Sla:Calendars:stockholm:Week:thursday=08:00-17:00",
            "Complaints:Sla:Calendars:stockholm:Week:friday=08:00-15:00",
            "Complaints:Sla:Calendars:stockholm:Week:saturday=",
            "Complaints:Sla:Calendars:stockholm:Holidays:0=2026-12-24",
            "Complaints:Sla:Calendars:stockholm:Holidays:1=2026-12-25");

        var promises = policies.For(ComplaintSeverity.Medium);

        Assert.Equal("nordic", policies.Current);
        Assert.Equal(["business-hours", "nordic", "standard"], policies.Names);
        Assert.Equal((TimeSpan.FromHours(4), TimeSpan.FromDays(2), TimeSpan.FromDays(1), "business:stockholm"), Budgets(promises));
        // Wednesday 23 December 16:00 CET: one hour that day, Christmas Eve and Day closed, three on Monday the 28th from 08:00.
        Assert.Equal(Utc("2026-12-28T10:00"), promises.Clock.Add(Utc("2026-12-23T15:00"), promises.Acknowledge));
        // Then Monday's eight hours around lunch, and Tuesday's first four run out at noon.
        Assert.Equal(Utc("2026-12-29T11:00"), promises.Clock.Add(Utc("2026-12-23T15:00"), TimeSpan.FromHours(1 + 8 + 4)));
    }

    [Fact]
    public void A_severity_overrides_only_the_fields_it_names_and_inherits_the_rest_from_the_default()
    {
        var policies = Load(
            "Complaints:Sla:Policies:strict:Default:Acknowledge=08:00:00",
            "Complaints:Sla:Policies:strict:Default:Resolve=3.00:00:00",
            "Complaints:Sla:Policies:strict:Default:FollowUp=2.00:00:00",
            "Complaints:Sla:Policies:strict:Default:Clock=business",
            "Complaints:Sla:Policies:strict:Default:Calendar=weekdays",
            "Complaints:Sla:Policies:strict:Severities:high:Resolve=1.00:00:00",
            "Complaints:Sla:Policies:strict:Severities:Critical:Acknowledge=00:30:00",
            "Complaints:Sla:Policies:strict:Severities:Critical:Clock=calendar");

        Assert.True(policies.TryGet("strict", ComplaintSeverity.Low, out var low));
        Assert.True(policies.TryGet("strict", ComplaintSeverity.High, out var high));
        Assert.True(policies.TryGet("STRICT", ComplaintSeverity.Critical, out var critical));
        Assert.Equal((TimeSpan.FromHours(8), TimeSpan.FromDays(3), TimeSpan.FromDays(2), "business:weekdays"), Budgets(low));
        Assert.Equal((TimeSpan.FromHours(8), TimeSpan.FromDays(1), TimeSpan.FromDays(2), "business:weekdays"), Budgets(high));
        Assert.Equal((TimeSpan.FromMinutes(30), TimeSpan.FromDays(3), TimeSpan.FromDays(2), "calendar"), Budgets(critical));
        Assert.Equal("standard", policies.Current);
    }

    [Fact]
    public void Configuring_a_built_in_policy_changes_only_the_fields_configured()
    {
        var policies = Load(
            "Complaints:Sla:Policies:standard:Default:Acknowledge=12:00:00",
            "Complaints:Sla:Policies:standard:Severities:critical:Clock=business",
            "Complaints:Sla:Policies:standard:Severities:critical:Calendar=weekdays");

        Assert.Equal((TimeSpan.FromHours(12), TimeSpan.FromDays(5), TimeSpan.FromDays(3), "calendar"), Budgets(policies.For(ComplaintSeverity.Low)));
        Assert.Equal((TimeSpan.FromHours(2), TimeSpan.FromHours(24), TimeSpan.FromDays(1), "business:weekdays"), Budgets(policies.For(ComplaintSeverity.Critical)));
        Assert.True(policies.TryGet("business-hours", ComplaintSeverity.Low, out var untouched));
        Assert.Equal(TimeSpan.FromDays(1), untouched.Acknowledge);
    }

    [Fact]
    public void A_configured_calendar_replaces_a_built_in_one_of_the_same_name()
    {
        var policies = Load(
            "Complaints:Sla:Calendars:weekdays:TimeZone=Europe/Stockholm",
            "Complaints:Sla:Calendars:weekdays:Week:monday=09:00-17:00");

        Assert.True(policies.TryGet("business-hours", ComplaintSeverity.Low, out var promises));
        Assert.Equal(Utc("2026-03-09T09:00"), promises.Clock.Add(Utc("2026-03-02T15:00"), TimeSpan.FromHours(2)));
    }

    [Fact]
    public void An_unknown_policy_is_not_found()
    {
        Assert.False(Load().TryGet("gold", ComplaintSeverity.Low, out _));
    }

    [Theory]
    [InlineData("Complaints:Sla:Current", "Complaints:Sla:Current=gold")]
    [InlineData("Complaints:Sla:Policies:business-hours:Default:Calendar", "Complaints:Sla:Policies:business-hours:Default:Calendar=nowhere")]
    [InlineData("Complaints:Sla:Policies:p:Default:Calendar", "Complaints:Sla:Policies:p:Default:Clock=business", "Complaints:Sla:Policies:p:Default:Calendar=nowhere",
        "Complaints:Sla:Policies:p:Default:Acknowledge=1.00:00:00", "Complaints:Sla:Policies:p:Default:Resolve=1.00:00:00", "Complaints:Sla:Policies:p:Default:FollowUp=1.00:00:00")]
    [InlineData("Complaints:Sla:Policies:p:Default:Calendar", "Complaints:Sla:Policies:p:Default:Clock=business",
        "Complaints:Sla:Policies:p:Default:Acknowledge=1.00:00:00", "Complaints:Sla:Policies:p:Default:Resolve=1.00:00:00", "Complaints:Sla:Policies:p:Default:FollowUp=1.00:00:00")]
    [InlineData("Complaints:Sla:Policies:standard:Severities:high:Calendar", "Complaints:Sla:Policies:standard:Severities:high:Clock=business")]
    [InlineData("Complaints:Sla:Policies:standard:Severities:low:Calendar", "Complaints:Sla:Policies:standard:Severities:low:Clock=business", "Complaints:Sla:Policies:standard:Severities:low:Calendar=nowhere")]
    [InlineData("Complaints:Sla:Policies:standard:Default:Clock", "Complaints:Sla:Policies:standard:Default:Clock=weekly")]
    [InlineData("Complaints:Sla:Policies:standard:Default:Resolve", "Complaints:Sla:Policies:standard:Default:Resolve=-1.00:00:00")]
    [InlineData("Complaints:Sla:Policies:standard:Severities:high:FollowUp", "Complaints:Sla:Policies:standard:Severities:high:FollowUp=00:00:00")]
    [InlineData("Complaints:Sla:Policies:standard:Default:Acknowledge", "Complaints:Sla:Policies:standard:Default:Acknowledge=one day")]
    [InlineData("Complaints:Sla:Policies:standard:Severities:critical:Resolve", "Complaints:Sla:Policies:standard:Severities:critical:Resolve=4h")]
    [InlineData("Complaints:Sla:Policies:p:Default:Resolve", "Complaints:Sla:Policies:p:Default:Acknowledge=1.00:00:00", "Complaints:Sla:Policies:p:Default:FollowUp=1.00:00:00")]
    [InlineData("Complaints:Sla:Policies:standard:Severities:urgent", "Complaints:Sla:Policies:standard:Severities:urgent:Acknowledge=01:00:00")]
    [InlineData("Complaints:Sla:Calendars:c:TimeZone", "Complaints:Sla:Calendars:c:TimeZone=Mars/Olympus_Mons", "Complaints:Sla:Calendars:c:Week:monday=09:00-17:00")]
    [InlineData("Complaints:Sla:Calendars:c:Week:monday", "Complaints:Sla:Calendars:c:Week:monday=17:00-09:00")]
    [InlineData("Complaints:Sla:Calendars:c:Week:tuesday", "Complaints:Sla:Calendars:c:Week:monday=09:00-17:00", "Complaints:Sla:Calendars:c:Week:tuesday=9-5")]
    [InlineData("Complaints:Sla:Calendars:c:Week:monday", "Complaints:Sla:Calendars:c:Week:monday=08:00-12:00,11:00-17:00")]
    [InlineData("Complaints:Sla:Calendars:c:Week:monday", "Complaints:Sla:Calendars:c:Week:monday=08:00-12:00;13:00-17:00")]
    [InlineData("Complaints:Sla:Calendars:c:Week:funday", "Complaints:Sla:Calendars:c:Week:funday=09:00-17:00")]
    [InlineData("Complaints:Sla:Calendars:c:Week", "Complaints:Sla:Calendars:c:TimeZone=Europe/Stockholm", "Complaints:Sla:Calendars:c:Week:monday=")]
    [InlineData("Complaints:Sla:Calendars:c:Holidays:1", "Complaints:Sla:Calendars:c:Week:monday=09:00-17:00", "Complaints:Sla:Calendars:c:Holidays:0=2026-12-24", "Complaints:Sla:Calendars:c:Holidays:1=24/12/2026")]
    public void Bad_configuration_refuses_to_start_naming_the_key_to_fix(string key, params string[] settings)
    {
        var refusal = Assert.Throws<InvalidOperationException>(() => Load(settings));

        Assert.Matches($"{Regex.Escape(key)}[ ']", refusal.Message);
    }
}
