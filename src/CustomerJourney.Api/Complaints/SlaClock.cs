using System.Collections.Frozen;
using System.Globalization;

namespace CustomerJourney.Complaints;

/// <summary>
/// Measures the time a service promise (SLA) counts: every hour, or only the opening hours of a calendar.
/// Invariant: <c>Elapsed(from, Add(from, b)) == b</c> for every <c>b &gt;= 0</c>.
/// </summary>
public interface ISlaClock
{
    /// <summary>The countable time between two instants; zero when <paramref name="to"/> is not after <paramref name="from"/>.</summary>
    TimeSpan Elapsed(DateTimeOffset from, DateTimeOffset to);

    /// <summary>The earliest instant at which <paramref name="budget"/> of countable time has elapsed since <paramref name="from"/>.</summary>
    DateTimeOffset Add(DateTimeOffset from, TimeSpan budget);
}

/// <summary>Every hour counts, nights, weekends and holidays included.</summary>
public sealed class CalendarHoursClock : ISlaClock
{
    public static CalendarHoursClock Instance { get; } = new();

    private CalendarHoursClock()
    {
    }

    public TimeSpan Elapsed(DateTimeOffset from, DateTimeOffset to) => to > from ? to - from : TimeSpan.Zero;

    public DateTimeOffset Add(DateTimeOffset from, TimeSpan budget)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(budget, TimeSpan.Zero);
        return from + budget;
    }
}

/// <summary>
/// Only the opening windows of a weekly calendar count, read on the wall clock of its time zone; holidays are closed all day.
/// An instant counts when the wall clock, as far as it has got, shows a time inside a window. So across a change of clocks:
/// the hour skipped in spring is simply missing from any window spanning it (a window inside it is empty that day); during the
/// hour repeated in autumn the clock is taken to stay where it had got, just before the change, so that hour counts only
/// for a window open across the change, and a window inside it is open during its first occurrence only.
/// Works day by day, so long spans cost one step per local date, not per minute.
/// </summary>
public sealed class BusinessHoursClock(BusinessCalendar calendar) : ISlaClock
{
    public BusinessCalendar Calendar { get; } = calendar;

    public TimeSpan Elapsed(DateTimeOffset from, DateTimeOffset to)
    {
        if (to <= from)
        {
            return TimeSpan.Zero;
        }

        var start = from.UtcDateTime;
        var end = to.UtcDateTime;
        var total = TimeSpan.Zero;
        // One day of margin either side: the windows of a local date always lie between that date's local midnights,
        // so dates outside [date(from) - 1, date(to) + 1] cannot reach into the span; clipping handles the rest.
        var last = LocalDate(to).AddDays(1);
        for (var date = LocalDate(from).AddDays(-1); date <= last; date = date.AddDays(1))
        {
            foreach (var (opens, closes) in Windows(date))
            {
                var counted = Min(closes, end) - Max(opens, start);
                if (counted > TimeSpan.Zero)
                {
                    total += counted;
                }
            }
        }

        return total;
    }

    public DateTimeOffset Add(DateTimeOffset from, TimeSpan budget)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(budget, TimeSpan.Zero);
        if (budget == TimeSpan.Zero)
        {
            return from;
        }

        var start = from.UtcDateTime;
        var remaining = budget;
        // A valid calendar opens at least once a week, so only holidays (and a window lost in a DST gap) can make
        // days in a row closed; more closed days than that means the calendar can never open again.
        var closedDaysAllowed = Calendar.Holidays.Count + 14;
        var closedDays = 0;
        for (var date = LocalDate(from).AddDays(-1); ; date = date.AddDays(1))
        {
            var open = false;
            foreach (var (opens, closes) in Windows(date))
            {
                var counting = Max(opens, start);
                if (closes <= counting)
                {
                    continue;
                }

                open = true;
                var available = closes - counting;
                if (remaining <= available)
                {
                    return new DateTimeOffset(counting + remaining).ToOffset(from.Offset);
                }

                remaining -= available;
            }

            closedDays = open ? 0 : closedDays + 1;
            if (closedDays > closedDaysAllowed)
            {
                throw new InvalidOperationException(
                    $"The business calendar in {Calendar.Zone.Id} has no opening hours after {date:yyyy-MM-dd}, so a budget of {budget} can never elapse.");
            }
        }
    }

    private DateOnly LocalDate(DateTimeOffset instant) => DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(instant, Calendar.Zone).DateTime);

    /// <summary>The opening windows of a local date as UTC instants, in order and not overlapping.</summary>
    private IEnumerable<(DateTime Opens, DateTime Closes)> Windows(DateOnly date)
    {
        if (Calendar.Holidays.Contains(date) || !Calendar.Week.TryGetValue(date.DayOfWeek, out var windows))
        {
            yield break;
        }

        foreach (var window in windows)
        {
            var opens = ToUtc(date.ToDateTime(window.Opens));
            var closes = ToUtc(window.Closes == OpeningWindow.EndOfDay ? date.AddDays(1).ToDateTime(TimeOnly.MinValue) : date.ToDateTime(window.Closes));
            if (closes > opens)
            {
                yield return (opens, closes);
            }
        }
    }

    /// <summary>
    /// The first instant at which the wall clock shows <paramref name="local"/> or later. A time the clocks skip in spring
    /// means the instant they jump; a time they show twice in autumn means its first occurrence.
    /// </summary>
    private DateTime ToUtc(DateTime local)
    {
        var zone = Calendar.Zone;
        if (zone.IsAmbiguousTime(local))
        {
            return DateTime.SpecifyKind(local - zone.GetAmbiguousTimeOffsets(local).Max(), DateTimeKind.Utc);
        }

        if (!zone.IsInvalidTime(local))
        {
            return TimeZoneInfo.ConvertTimeToUtc(local, zone);
        }

        // In a gap: the transition lies between the instants this wall-clock time would mean under the offsets
        // either side of it. Search for the first instant under the later offset.
        var before = zone.GetUtcOffset(local.AddDays(-1));
        var after = zone.GetUtcOffset(local.AddDays(1));
        var low = (local - after).Ticks;
        var high = (local - before).Ticks;
        while (low < high)
        {
            var middle = low + ((high - low) / 2);
            if (zone.GetUtcOffset(new DateTime(middle, DateTimeKind.Utc)) == after)
            {
                high = middle;
            }
            else
            {
                low = middle + 1;
            }
        }

        return new DateTime(low, DateTimeKind.Utc);
    }

    private static DateTime Min(DateTime a, DateTime b) => a < b ? a : b;

    private static DateTime Max(DateTime a, DateTime b) => a > b ? a : b;
}

/// <summary>
/// A weekly timetable of opening windows (local wall-clock times in <see cref="Zone"/>) and closed local dates.
/// A day missing from <see cref="Week"/> is closed. The week must open at least once, so a business clock always advances.
/// </summary>
public sealed record BusinessCalendar(TimeZoneInfo Zone, IReadOnlyDictionary<DayOfWeek, IReadOnlyList<OpeningWindow>> Week, IReadOnlySet<DateOnly> Holidays)
{
    public IReadOnlyDictionary<DayOfWeek, IReadOnlyList<OpeningWindow>> Week { get; init => field = Checked(value); } = Checked(Week);

    public IReadOnlySet<DateOnly> Holidays { get; init => field = value.ToFrozenSet(); } = Holidays.ToFrozenSet();

    private static FrozenDictionary<DayOfWeek, IReadOnlyList<OpeningWindow>> Checked(IReadOnlyDictionary<DayOfWeek, IReadOnlyList<OpeningWindow>> week)
    {
        ArgumentNullException.ThrowIfNull(week);
        var checkedWeek = new Dictionary<DayOfWeek, IReadOnlyList<OpeningWindow>>();
        foreach (var (day, windows) in week)
        {
            if (!Enum.IsDefined(day))
            {
                throw new ArgumentException($"{day} is not a day of the week.", nameof(week));
            }

            var sorted = windows.OrderBy(w => w.Opens).ToArray();
            for (var i = 0; i < sorted.Length; i++)
            {
                if (sorted[i].Opens >= sorted[i].Closes)
                {
                    throw new ArgumentException($"On {day} the window {sorted[i]} does not open before it closes.", nameof(week));
                }

                if (i > 0 && sorted[i].Opens < sorted[i - 1].Closes)
                {
                    throw new ArgumentException($"On {day} the windows {sorted[i - 1]} and {sorted[i]} overlap.", nameof(week));
                }
            }

            if (sorted.Length > 0)
            {
                checkedWeek[day] = sorted;
            }
        }

        if (checkedWeek.Count == 0)
        {
            throw new ArgumentException("A business calendar must open at least once a week; for a clock that never stops, use calendar hours.", nameof(week));
        }

        return checkedWeek.ToFrozenDictionary();
    }
}

/// <summary>
/// An opening window in local wall-clock time; <see cref="EndOfDay"/> as <see cref="Closes"/> means midnight at the end of the day.
/// </summary>
public readonly record struct OpeningWindow(TimeOnly Opens, TimeOnly Closes)
{
    /// <summary>As <see cref="Closes"/>: open until midnight at the end of the day ("24:00").</summary>
    public static readonly TimeOnly EndOfDay = TimeOnly.MaxValue;

    public TimeOnly Closes { get; init; } = Closes > Opens ? Closes : throw new ArgumentException($"A window must open before it closes ({Format(Opens)}-{Format(Closes)}).", nameof(Closes));

    public override string ToString() => $"{Format(Opens)}-{Format(Closes)}";

    private static string Format(TimeOnly time) => time == EndOfDay ? "24:00" : time.ToString("HH:mm", CultureInfo.InvariantCulture);
}
