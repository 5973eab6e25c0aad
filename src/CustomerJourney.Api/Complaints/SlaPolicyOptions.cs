using System.Collections.Frozen;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace CustomerJourney.Complaints;

/// <summary>
/// Configuration section "Complaints:Sla": the service promises made to a complaining customer, by policy and severity.
/// Only what is configured is here; <see cref="SlaPolicies.From"/> adds the built-in policies and calendars and checks it all.
/// </summary>
public sealed class SlaPolicyOptions
{
    public const string Section = "Complaints:Sla";

    /// <summary>The name of the policy in force.</summary>
    public string Current { get; set; } = SlaPolicies.Standard;

    public Dictionary<string, SlaPolicySettings> Policies { get; set; } = [];

    public Dictionary<string, SlaCalendarSettings> Calendars { get; set; } = [];
}

public sealed class SlaPolicySettings
{
    public SlaPromiseSettings Default { get; set; } = new();

    /// <summary>Keyed by severity (low, medium, high, critical); a field left out falls back to <see cref="Default"/>.</summary>
    public Dictionary<string, SlaPromiseSettings> Severities { get; set; } = [];
}

/// <summary>
/// Every field is optional here; after merging, a policy's default must name all three budgets.
/// Budgets are strings such as "1.00:00:00" (one day) or "04:00:00" (four hours), parsed by <see cref="SlaPolicies.From"/>:
/// the binder silently drops a value it cannot convert inside a dictionary (unless ErrorOnUnknownConfiguration is set),
/// and a mistyped promise must stop the service, not quietly fall back to a default.
/// </summary>
public sealed class SlaPromiseSettings
{
    /// <summary>Time to acknowledge the complaint.</summary>
    public string? Acknowledge { get; set; }

    /// <summary>Time to resolve it.</summary>
    public string? Resolve { get; set; }

    /// <summary>Time after resolution by which the customer is called back.</summary>
    public string? FollowUp { get; set; }

    /// <summary>"calendar" (every hour counts) or "business" (only the opening hours of <see cref="Calendar"/>).</summary>
    public string? Clock { get; set; }

    /// <summary>The name of a calendar under Complaints:Sla:Calendars; required with the business clock.</summary>
    public string? Calendar { get; set; }
}

public sealed class SlaCalendarSettings
{
    /// <summary>An IANA time zone id, e.g. "Europe/Stockholm"; opening hours are wall-clock times there.</summary>
    public string TimeZone { get; set; } = "UTC";

    /// <summary>Keyed by day name (monday..sunday): "08:00-12:00,13:00-17:00"; empty or missing means closed. "24:00" closes at midnight.</summary>
    public Dictionary<string, string> Week { get; set; } = [];

    /// <summary>Closed local dates, "yyyy-MM-dd".</summary>
    public List<string> Holidays { get; set; } = [];
}

/// <summary>The promises for one complaint: budgets, counted by <see cref="Clock"/>.</summary>
/// <param name="ClockName">"calendar", or "business:" and the calendar's name.</param>
public sealed record SlaPromises(TimeSpan Acknowledge, TimeSpan Resolve, TimeSpan FollowUp, ISlaClock Clock, string ClockName);

/// <summary>
/// The checked SLA policies: the built-ins, with configured policies merged over them field by field, and configured
/// calendars added or replacing a built-in calendar of the same name. Anything wrong throws with the configuration key to fix.
/// </summary>
public sealed class SlaPolicies
{
    public const string Standard = "standard";
    public const string BusinessHours = "business-hours";
    public const string Weekdays = "weekdays";
    public const string CalendarClock = "calendar";
    public const string BusinessClock = "business";

    private readonly FrozenDictionary<string, FrozenDictionary<ComplaintSeverity, SlaPromises>> _policies;

    private SlaPolicies(string current, FrozenDictionary<string, FrozenDictionary<ComplaintSeverity, SlaPromises>> policies)
    {
        Current = current;
        _policies = policies;
        Names = [.. policies.Keys.Order(StringComparer.Ordinal)];
    }

    /// <summary>The name of the policy in force.</summary>
    public string Current { get; }

    public IReadOnlyCollection<string> Names { get; }

    public bool TryGet(string policy, ComplaintSeverity severity, [MaybeNullWhen(false)] out SlaPromises promises)
    {
        promises = null;
        return _policies.TryGetValue(policy, out var bySeverity) && bySeverity.TryGetValue(severity, out promises);
    }

    /// <summary>The promises of the policy in force.</summary>
    public SlaPromises For(ComplaintSeverity severity) => _policies[Current][severity];

    public static SlaPolicies From(SlaPolicyOptions options)
    {
        var clocks = new Dictionary<string, (string Name, BusinessHoursClock Clock)>(StringComparer.OrdinalIgnoreCase)
        {
            [Weekdays] = (Weekdays, new(BuiltInWeekdays())),
        };
        foreach (var (name, calendar) in options.Calendars)
        {
            clocks[name] = (name, new BusinessHoursClock(Calendar($"{SlaPolicyOptions.Section}:Calendars:{name}", calendar)));
        }

        var configured = new Dictionary<string, SlaPolicySettings>(options.Policies, StringComparer.OrdinalIgnoreCase);
        var policies = new Dictionary<string, FrozenDictionary<ComplaintSeverity, SlaPromises>>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, builtIn) in BuiltInPolicies())
        {
            policies[name] = Policy(name, configured.GetValueOrDefault(name), builtIn, clocks);
        }

        foreach (var (name, policy) in options.Policies.Where(p => !policies.ContainsKey(p.Key)))
        {
            policies[name] = Policy(name, policy, builtIn: null, clocks);
        }

        var current = options.Current?.Trim() ?? "";
        if (!policies.ContainsKey(current))
        {
            throw Invalid("Current", $"names the policy '{current}', which is not defined; known policies: {string.Join(", ", policies.Keys.Order(StringComparer.Ordinal))}.");
        }

        return new SlaPolicies(current, policies.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase));
    }

    /// <summary>Acknowledge within a day, resolve within five, call back within three; a critical complaint within 2 h / 24 h / 1 day.</summary>
    private static Dictionary<string, SlaPolicySettings> BuiltInPolicies()
    {
        SlaPolicySettings Budgets(string clock, string? calendar) => new()
        {
            Default = new()
            {
                Acknowledge = "1.00:00:00",
                Resolve = "5.00:00:00",
                FollowUp = "3.00:00:00",
                Clock = clock,
                Calendar = calendar,
            },
            Severities = new(StringComparer.OrdinalIgnoreCase)
            {
                ["critical"] = new() { Acknowledge = "02:00:00", Resolve = "1.00:00:00", FollowUp = "1.00:00:00" },
            },
        };

        return new(StringComparer.OrdinalIgnoreCase)
        {
            [Standard] = Budgets(CalendarClock, calendar: null),
            [BusinessHours] = Budgets(BusinessClock, Weekdays),
        };
    }

    private static BusinessCalendar BuiltInWeekdays()
    {
        IReadOnlyList<OpeningWindow> nineToFive = [new(new TimeOnly(9, 0), new TimeOnly(17, 0))];
        var week = new Dictionary<DayOfWeek, IReadOnlyList<OpeningWindow>>
        {
            [DayOfWeek.Monday] = nineToFive,
            [DayOfWeek.Tuesday] = nineToFive,
            [DayOfWeek.Wednesday] = nineToFive,
            [DayOfWeek.Thursday] = nineToFive,
            [DayOfWeek.Friday] = nineToFive,
        };
        return new BusinessCalendar(TimeZoneInfo.Utc, week, new HashSet<DateOnly>());
    }

    private static FrozenDictionary<ComplaintSeverity, SlaPromises> Policy(
        string name, SlaPolicySettings? configured, SlaPolicySettings? builtIn, Dictionary<string, (string Name, BusinessHoursClock Clock)> clocks)
    {
        var prefix = $"Policies:{name}";
        var defaults = Merge(configured?.Default, builtIn?.Default);
        var severities = new Dictionary<ComplaintSeverity, (SlaPromiseSettings Settings, string Key)>();
        foreach (var (key, settings) in configured?.Severities ?? [])
        {
            if (!Enum.TryParse<ComplaintSeverity>(key, ignoreCase: true, out var severity) || !Enum.IsDefined(severity) || !char.IsLetter(key[0]))
            {
                throw Invalid($"{prefix}:Severities:{key}", "is not a severity; use low, medium, high or critical.");
            }

            severities[severity] = (settings, $"{prefix}:Severities:{key}");
        }

        var promises = new Dictionary<ComplaintSeverity, SlaPromises>();
        foreach (var severity in Enum.GetValues<ComplaintSeverity>())
        {
            var builtInOverride = builtIn?.Severities.GetValueOrDefault(severity.ToString());
            var (settings, key) = severities.TryGetValue(severity, out var found) ? found : (null, $"{prefix}:Default");
            var merged = Merge(settings, Merge(builtInOverride, defaults));
            // A value a severity leaves out comes from the default, so an error names the default's key.
            string KeyOf(Func<SlaPromiseSettings, string?> field) => settings is not null && !string.IsNullOrWhiteSpace(field(settings)) ? key : $"{prefix}:Default";

            promises[severity] = new SlaPromises(
                Budget(merged.Acknowledge, KeyOf(s => s.Acknowledge) + ":Acknowledge"),
                Budget(merged.Resolve, KeyOf(s => s.Resolve) + ":Resolve"),
                Budget(merged.FollowUp, KeyOf(s => s.FollowUp) + ":FollowUp"),
                ClockOf(merged, KeyOf(s => s.Clock), KeyOf(s => s.Calendar), clocks, out var clockName),
                clockName);
        }

        return promises.ToFrozenDictionary();
    }

    private static SlaPromiseSettings Merge(SlaPromiseSettings? over, SlaPromiseSettings? under) => new()
    {
        Acknowledge = Either(over?.Acknowledge, under?.Acknowledge),
        Resolve = Either(over?.Resolve, under?.Resolve),
        FollowUp = Either(over?.FollowUp, under?.FollowUp),
        Clock = Either(over?.Clock, under?.Clock),
        Calendar = Either(over?.Calendar, under?.Calendar),
    };

    private static string? Either(string? over, string? under) => string.IsNullOrWhiteSpace(over) ? under : over;

    private static TimeSpan Budget(string? text, string key)
    {
        const string Example = "a duration such as \"1.00:00:00\" (one day) or \"04:00:00\" (four hours)";
        if (string.IsNullOrWhiteSpace(text))
        {
            throw Invalid(key, $"is required: {Example}.");
        }

        if (!TimeSpan.TryParse(text.Trim(), CultureInfo.InvariantCulture, out var budget))
        {
            throw Invalid(key, $"is '{text}', which is not {Example}.");
        }

        return budget > TimeSpan.Zero ? budget : throw Invalid(key, $"must be a positive duration, not {text}.");
    }

    private static ISlaClock ClockOf(SlaPromiseSettings settings, string clockKey, string calendarKey, Dictionary<string, (string Name, BusinessHoursClock Clock)> clocks, out string clockName)
    {
        var clock = settings.Clock?.Trim() ?? CalendarClock;
        if (clock.Equals(CalendarClock, StringComparison.OrdinalIgnoreCase))
        {
            clockName = CalendarClock;
            return CalendarHoursClock.Instance;
        }

        if (!clock.Equals(BusinessClock, StringComparison.OrdinalIgnoreCase))
        {
            throw Invalid($"{clockKey}:Clock", $"is '{clock}'; use \"{CalendarClock}\" or \"{BusinessClock}\".");
        }

        // The business clock may come from the default while the calendar is missing everywhere: name the clock's level.
        var key = string.IsNullOrWhiteSpace(settings.Calendar) ? $"{clockKey}:Calendar" : $"{calendarKey}:Calendar";
        var calendar = settings.Calendar?.Trim();
        if (string.IsNullOrEmpty(calendar))
        {
            throw Invalid(key, $"is required with the {BusinessClock} clock: the name of a calendar under {SlaPolicyOptions.Section}:Calendars.");
        }

        if (!clocks.TryGetValue(calendar, out var businessClock))
        {
            throw Invalid(key, $"names the calendar '{calendar}', which is not defined; known calendars: {string.Join(", ", clocks.Keys.Order(StringComparer.Ordinal))}.");
        }

        clockName = $"{BusinessClock}:{businessClock.Name}";
        return businessClock.Clock;
    }

    private static BusinessCalendar Calendar(string prefix, SlaCalendarSettings settings)
    {
        TimeZoneInfo zone;
        try
        {
            zone = TimeZoneInfo.FindSystemTimeZoneById(settings.TimeZone);
        }
        catch (Exception e) when (e is TimeZoneNotFoundException or InvalidTimeZoneException or ArgumentException)
        {
            throw Invalid($"{prefix}:TimeZone", $"is '{settings.TimeZone}', which is not a time zone here; use an IANA id such as \"Europe/Stockholm\".", e);
        }

        var week = new Dictionary<DayOfWeek, IReadOnlyList<OpeningWindow>>();
        foreach (var (dayName, value) in settings.Week)
        {
            var key = $"{prefix}:Week:{dayName}";
            if (!Enum.TryParse<DayOfWeek>(dayName, ignoreCase: true, out var day) || !char.IsLetter(dayName[0]))
            {
                throw Invalid(key, "is not a day of the week; use monday..sunday.");
            }

            week[day] = Windows(key, value);
        }

        if (week.Values.All(windows => windows.Count == 0))
        {
            throw Invalid($"{prefix}:Week", "opens on no day; a business calendar needs at least one window such as monday = \"09:00-17:00\".");
        }

        var holidays = new HashSet<DateOnly>();
        for (var i = 0; i < settings.Holidays.Count; i++)
        {
            if (!DateOnly.TryParseExact(settings.Holidays[i]?.Trim(), "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var holiday))
            {
                throw Invalid($"{prefix}:Holidays:{i}", $"is '{settings.Holidays[i]}'; write a date as yyyy-MM-dd.");
            }

            holidays.Add(holiday);
        }

        return new BusinessCalendar(zone, week, holidays);
    }

    /// <summary>"08:00-12:00,13:00-17:00": ordered, not overlapping; "24:00" closes at midnight.</summary>
    private static OpeningWindow[] Windows(string key, string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return [];
        }

        var windows = new List<OpeningWindow>();
        foreach (var part in value.Split(',', StringSplitOptions.TrimEntries))
        {
            var times = part.Split('-', StringSplitOptions.TrimEntries);
            if (times.Length != 2 || !TryTime(times[0], out var opens) || opens == OpeningWindow.EndOfDay || !TryTime(times[1], out var closes))
            {
                throw Invalid(key, $"has the window '{part}'; write windows as HH:mm-HH:mm, comma-separated, e.g. \"08:00-12:00,13:00-17:00\".");
            }

            if (opens >= closes)
            {
                throw Invalid(key, $"has the window '{part}', which does not open before it closes.");
            }

            if (windows.Count > 0 && opens < windows[^1].Closes)
            {
                throw Invalid(key, $"has the window '{part}', which overlaps or comes before '{windows[^1]}'; list windows in order.");
            }

            windows.Add(new OpeningWindow(opens, closes));
        }

        return [.. windows];
    }

    private static bool TryTime(string text, out TimeOnly time)
    {
        if (text == "24:00")
        {
            time = OpeningWindow.EndOfDay;
            return true;
        }

        return TimeOnly.TryParseExact(text, "HH:mm", CultureInfo.InvariantCulture, DateTimeStyles.None, out time);
    }

    private static InvalidOperationException Invalid(string key, string problem, Exception? inner = null) =>
        new($"Configuration {(key.StartsWith(SlaPolicyOptions.Section, StringComparison.Ordinal) ? key : $"{SlaPolicyOptions.Section}:{key}")} {problem}", inner);
}
