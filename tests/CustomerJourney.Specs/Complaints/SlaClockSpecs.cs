using System.Globalization;
using CsCheck;
using CustomerJourney.Complaints;

namespace CustomerJourney.Specs.Complaints;

/// <summary>How much of a service promise has run: every hour, or only a calendar's opening hours on its local wall clock.</summary>
public sealed class SlaClockSpecs
{
    private static readonly TimeZoneInfo Stockholm = TimeZoneInfo.FindSystemTimeZoneById("Europe/Stockholm");

    /// <summary>Mon–Fri 09:00–17:00 UTC; 2 March 2026 is a Monday.</summary>
    private static readonly BusinessHoursClock Weekdays = Clock(TimeZoneInfo.Utc, "09:00-17:00");

    private static DateTimeOffset Utc(string instant) => DateTimeOffset.Parse(instant + "Z", CultureInfo.InvariantCulture);

    /// <summary>A wall-clock time in Stockholm that occurs exactly once.</summary>
    private static DateTimeOffset InStockholm(string local)
    {
        var time = DateTime.Parse(local, CultureInfo.InvariantCulture);
        return new DateTimeOffset(time, Stockholm.GetUtcOffset(time));
    }

    private static OpeningWindow[] Windows(string windows) =>
    [
        .. windows.Split(',').Select(w => w.Split('-')).Select(w => new OpeningWindow(
            TimeOnly.Parse(w[0], CultureInfo.InvariantCulture),
            w[1] == "24:00" ? OpeningWindow.EndOfDay : TimeOnly.Parse(w[1], CultureInfo.InvariantCulture))),
    ];

    private static BusinessHoursClock Clock(TimeZoneInfo zone, string weekdays, string? weekend = null, params string[] holidays)
    {
        var week = new Dictionary<DayOfWeek, IReadOnlyList<OpeningWindow>>();
        foreach (var day in Enum.GetValues<DayOfWeek>())
        {
            var windows = day is DayOfWeek.Saturday or DayOfWeek.Sunday ? weekend : weekdays;
            if (windows is not null)
            {
                week[day] = Windows(windows);
            }
        }

        return new BusinessHoursClock(new BusinessCalendar(zone, week, holidays.Select(DateOnly.Parse).ToHashSet()));
    }

    private static BusinessHoursClock SundaysOnly(string windows) =>
        new(new BusinessCalendar(Stockholm, new Dictionary<DayOfWeek, IReadOnlyList<OpeningWindow>> { [DayOfWeek.Sunday] = Windows(windows) }, new HashSet<DateOnly>()));

    [Fact]
    public void Calendar_hours_count_every_hour_nights_weekends_and_clock_changes_included()
    {
        var clock = CalendarHoursClock.Instance;

        Assert.Equal(TimeSpan.FromHours(66), clock.Elapsed(Utc("2026-03-06T16:00"), Utc("2026-03-09T10:00")));
        Assert.Equal(Utc("2026-03-09T10:00"), clock.Add(Utc("2026-03-06T16:00"), TimeSpan.FromHours(66)));
        Assert.Equal(TimeSpan.FromHours(23), clock.Elapsed(InStockholm("2026-03-29T00:00"), InStockholm("2026-03-30T00:00")));
        Assert.Equal(TimeSpan.Zero, clock.Elapsed(Utc("2026-03-09T10:00"), Utc("2026-03-06T16:00")));
        Assert.Equal(Utc("2026-03-06T16:00"), clock.Add(Utc("2026-03-06T16:00"), TimeSpan.Zero));
    }

    [Fact]
    public void Business_hours_within_a_day_count_only_the_time_between_opening_and_closing()
    {
        Assert.Equal(TimeSpan.FromHours(2.5), Weekdays.Elapsed(Utc("2026-03-02T10:00"), Utc("2026-03-02T12:30")));
        Assert.Equal(TimeSpan.FromHours(8), Weekdays.Elapsed(Utc("2026-03-02T06:00"), Utc("2026-03-02T20:00")));
        Assert.Equal(Utc("2026-03-02T13:00"), Weekdays.Add(Utc("2026-03-02T10:00"), TimeSpan.FromHours(3)));
    }

    [Fact]
    public void A_budget_left_at_closing_time_carries_over_to_the_next_opening()
    {
        Assert.Equal(Utc("2026-03-03T10:00"), Weekdays.Add(Utc("2026-03-02T16:00"), TimeSpan.FromHours(2)));
        Assert.Equal(TimeSpan.FromHours(2), Weekdays.Elapsed(Utc("2026-03-02T16:00"), Utc("2026-03-03T10:00")));
    }

    [Fact]
    public void Weekends_do_not_count()
    {
        Assert.Equal(Utc("2026-03-09T10:00"), Weekdays.Add(Utc("2026-03-06T16:00"), TimeSpan.FromHours(2)));
        Assert.Equal(TimeSpan.Zero, Weekdays.Elapsed(Utc("2026-03-07T00:00"), Utc("2026-03-09T00:00")));
    }

    [Fact]
    public void A_budget_that_runs_out_at_closing_time_ends_at_closing_not_at_the_next_opening()
    {
        Assert.Equal(Utc("2026-03-02T17:00"), Weekdays.Add(Utc("2026-03-02T09:00"), TimeSpan.FromHours(8)));
        Assert.Equal(Utc("2026-03-06T17:00"), Weekdays.Add(Utc("2026-03-06T15:00"), TimeSpan.FromHours(2)));
    }

    [Theory]
    [InlineData("2026-03-07T12:00", "2026-03-09T10:00")]
    [InlineData("2026-03-02T07:00", "2026-03-02T10:00")]
    [InlineData("2026-03-02T17:00", "2026-03-03T10:00")]
    [InlineData("2026-03-02T23:59", "2026-03-03T10:00")]
    public void A_start_outside_opening_hours_counts_from_the_next_opening(string from, string due)
    {
        Assert.Equal(Utc(due), Weekdays.Add(Utc(from), TimeSpan.FromHours(1)));
    }

    [Fact]
    public void A_zero_budget_ends_where_it_starts_even_when_closed()
    {
        Assert.Equal(Utc("2026-03-07T12:00"), Weekdays.Add(Utc("2026-03-07T12:00"), TimeSpan.Zero));
        Assert.Equal(Utc("2026-03-02T10:00"), Weekdays.Add(Utc("2026-03-02T10:00"), TimeSpan.Zero));
    }

    [Fact]
    public void The_due_time_keeps_the_offset_of_the_start()
    {
        var from = Utc("2026-03-02T10:00").ToOffset(TimeSpan.FromHours(-5));

        var due = Weekdays.Add(from, TimeSpan.FromHours(1));

        Assert.Equal((Utc("2026-03-02T11:00"), TimeSpan.FromHours(-5)), (due, due.Offset));
    }

    [Fact]
    public void Holidays_are_closed_all_day()
    {
        var clock = Clock(TimeZoneInfo.Utc, "09:00-17:00", weekend: null, "2026-03-03");

        Assert.Equal(Utc("2026-03-04T10:00"), clock.Add(Utc("2026-03-02T16:00"), TimeSpan.FromHours(2)));
        Assert.Equal(TimeSpan.Zero, clock.Elapsed(Utc("2026-03-03T00:00"), Utc("2026-03-04T00:00")));
    }

    [Fact]
    public void Several_windows_a_day_skip_the_breaks_between_them()
    {
        var office = Clock(Stockholm, "08:00-12:00,13:00-17:00");

        Assert.Equal(InStockholm("2026-03-02T14:00"), office.Add(InStockholm("2026-03-02T11:00"), TimeSpan.FromHours(2)));
        Assert.Equal(TimeSpan.FromHours(1), office.Elapsed(InStockholm("2026-03-02T11:30"), InStockholm("2026-03-02T13:30")));
        Assert.Equal(InStockholm("2026-03-02T13:30"), office.Add(InStockholm("2026-03-02T12:15"), TimeSpan.FromMinutes(30)));
        Assert.Equal(TimeSpan.FromHours(8), office.Elapsed(InStockholm("2026-03-02T00:00"), InStockholm("2026-03-03T00:00")));
    }

    [Fact]
    public void Opening_hours_follow_the_wall_clock_across_spring_forward_and_fall_back()
    {
        var office = Clock(Stockholm, "08:00-17:00");

        Assert.Equal(Utc("2026-03-30T07:00"), office.Add(InStockholm("2026-03-27T16:00"), TimeSpan.FromHours(2)));
        Assert.Equal(Utc("2026-10-26T08:00"), office.Add(InStockholm("2026-10-23T16:00"), TimeSpan.FromHours(2)));
        Assert.Equal(TimeSpan.FromHours(18), office.Elapsed(InStockholm("2026-03-27T08:00"), InStockholm("2026-03-30T17:00")));
        Assert.Equal(TimeSpan.FromHours(18), office.Elapsed(InStockholm("2026-10-23T08:00"), InStockholm("2026-10-26T17:00")));
    }

    [Fact]
    public void A_day_open_around_the_clock_lasts_23_hours_in_spring_and_25_in_autumn()
    {
        var always = Clock(Stockholm, "00:00-24:00", weekend: "00:00-24:00");

        Assert.Equal(TimeSpan.FromHours(23), always.Elapsed(InStockholm("2026-03-29T00:00"), InStockholm("2026-03-30T00:00")));
        Assert.Equal(TimeSpan.FromHours(25), always.Elapsed(InStockholm("2026-10-25T00:00"), InStockholm("2026-10-26T00:00")));
        Assert.Equal(InStockholm("2026-03-30T00:00"), always.Add(InStockholm("2026-03-29T00:00"), TimeSpan.FromHours(23)));
    }

    [Fact]
    public void A_window_inside_the_skipped_hour_is_empty_that_day_and_one_across_it_loses_the_hour()
    {
        var skipped = SundaysOnly("02:00-03:00");
        var across = SundaysOnly("01:30-03:30");
        var closingInside = SundaysOnly("01:00-02:30");
        var openingInside = SundaysOnly("02:30-04:00");

        Assert.Equal(TimeSpan.Zero, skipped.Elapsed(InStockholm("2026-03-29T00:00"), InStockholm("2026-03-30T00:00")));
        Assert.Equal(TimeSpan.FromHours(1), skipped.Elapsed(InStockholm("2026-03-22T00:00"), InStockholm("2026-03-23T00:00")));
        Assert.Equal(InStockholm("2026-04-05T02:30"), skipped.Add(InStockholm("2026-03-28T12:00"), TimeSpan.FromMinutes(30)));
        Assert.Equal(TimeSpan.FromHours(1), across.Elapsed(InStockholm("2026-03-29T00:00"), InStockholm("2026-03-30T00:00")));
        Assert.Equal(Utc("2026-03-29T01:00"), across.Add(InStockholm("2026-03-29T00:00"), TimeSpan.FromMinutes(30)));
        Assert.Equal(TimeSpan.FromHours(1), closingInside.Elapsed(InStockholm("2026-03-29T00:00"), InStockholm("2026-03-30T00:00")));
        Assert.Equal(TimeSpan.FromHours(1), openingInside.Elapsed(InStockholm("2026-03-29T00:00"), InStockholm("2026-03-30T00:00")));
        Assert.Equal(InStockholm("2026-03-29T03:30"), openingInside.Add(InStockholm("2026-03-29T00:00"), TimeSpan.FromMinutes(30)));
    }

    [Fact]
    public void A_window_across_the_repeated_hour_counts_it_twice_and_one_inside_it_counts_its_first_occurrence()
    {
        var across = SundaysOnly("01:30-03:30");
        var inside = SundaysOnly("02:00-02:30");
        var openingInside = SundaysOnly("02:45-03:30");

        Assert.Equal(TimeSpan.FromHours(3), across.Elapsed(InStockholm("2026-10-25T00:00"), InStockholm("2026-10-26T00:00")));
        Assert.Equal(TimeSpan.FromMinutes(30), inside.Elapsed(InStockholm("2026-10-25T00:00"), InStockholm("2026-10-26T00:00")));
        Assert.Equal(Utc("2026-10-25T00:30"), inside.Add(InStockholm("2026-10-25T00:00"), TimeSpan.FromMinutes(30)));
        Assert.Equal(TimeSpan.Zero, inside.Elapsed(Utc("2026-10-25T01:00"), Utc("2026-10-25T01:30")));
        Assert.Equal(TimeSpan.FromMinutes(105), openingInside.Elapsed(InStockholm("2026-10-25T00:00"), InStockholm("2026-10-26T00:00")));
    }

    [Fact]
    public void Long_budgets_and_spans_take_whole_days_at_a_time()
    {
        Assert.Equal(Utc("2026-08-21T17:00"), Weekdays.Add(Utc("2026-03-02T09:00"), TimeSpan.FromHours(1000)));
        Assert.Equal(TimeSpan.FromHours(260 * 40), Weekdays.Elapsed(Utc("2026-01-05T00:00"), Utc("2026-01-05T00:00").AddDays(260 * 7)));
        var office = Clock(Stockholm, "08:00-12:00,13:00-17:00", weekend: null, "2026-12-24", "2026-12-25");
        var from = InStockholm("2026-01-05T08:00");
        Assert.Equal(TimeSpan.FromHours(100_000), office.Elapsed(from, office.Add(from, TimeSpan.FromHours(100_000))));
    }

    [Fact]
    public void A_calendar_that_never_opens_is_refused()
    {
        Assert.Throws<ArgumentException>(() => new BusinessCalendar(Stockholm, new Dictionary<DayOfWeek, IReadOnlyList<OpeningWindow>>(), new HashSet<DateOnly>()));
        Assert.Throws<ArgumentException>(() => new BusinessCalendar(
            Stockholm, new Dictionary<DayOfWeek, IReadOnlyList<OpeningWindow>> { [DayOfWeek.Monday] = [] }, new HashSet<DateOnly>()));
    }

    [Fact]
    public void Windows_that_overlap_or_close_before_they_open_are_refused()
    {
        Assert.Throws<ArgumentException>(() => new OpeningWindow(new TimeOnly(17, 0), new TimeOnly(9, 0)));
        Assert.Throws<ArgumentException>(() => new OpeningWindow(new TimeOnly(9, 0), new TimeOnly(9, 0)));
        Assert.Throws<ArgumentException>(() => Clock(Stockholm, "08:00-12:00,11:00-17:00"));
        Assert.Throws<ArgumentException>(() => new BusinessCalendar(
            Stockholm, new Dictionary<DayOfWeek, IReadOnlyList<OpeningWindow>> { [DayOfWeek.Monday] = [default] }, new HashSet<DateOnly>()));
    }

    [Fact]
    public void A_negative_budget_is_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Weekdays.Add(Utc("2026-03-02T10:00"), TimeSpan.FromTicks(-1)));
        Assert.Throws<ArgumentOutOfRangeException>(() => CalendarHoursClock.Instance.Add(Utc("2026-03-02T10:00"), TimeSpan.FromTicks(-1)));
    }

    private static readonly string[] Zones = ["UTC", "Europe/Stockholm", "America/New_York", "Australia/Lord_Howe", "America/Santiago", "America/Havana", "Asia/Kolkata"];

    private static TimeOnly Quarter(int quarter) => quarter == 96 ? OpeningWindow.EndOfDay : new TimeOnly(quarter / 4, quarter % 4 * 15);

    /// <summary>
    /// Random weekly timetables on quarter hours, in zones with 30-minute DST (Lord Howe) and transitions at midnight
    /// (Santiago, Havana), with holidays.
    /// </summary>
    private static readonly Gen<BusinessHoursClock> Clocks =
        Gen.Select(
            Gen.Int[0, Zones.Length - 1],
            Gen.Int[0, 96].Array[0, 6].Array[7],
            Gen.Int[0, 4 * 366].Array[0, 8],
            (zone, days, holidays) =>
            {
                var week = new Dictionary<DayOfWeek, IReadOnlyList<OpeningWindow>>();
                for (var day = 0; day < 7; day++)
                {
                    var points = days[day].Distinct().Order().ToArray();
                    week[(DayOfWeek)day] = [.. Enumerable.Range(0, points.Length / 2).Select(i => new OpeningWindow(Quarter(points[2 * i]), Quarter(points[(2 * i) + 1])))];
                }

                if (week.Values.All(windows => windows.Count == 0))
                {
                    week[DayOfWeek.Wednesday] = [new OpeningWindow(new TimeOnly(9, 0), new TimeOnly(17, 0))];
                }

                var first = new DateOnly(2024, 1, 1);
                return new BusinessHoursClock(new BusinessCalendar(
                    TimeZoneInfo.FindSystemTimeZoneById(Zones[zone]), week, holidays.Select(first.AddDays).ToHashSet()));
            });

    /// <summary>Instants from 2024 to 2027, mostly on 5-minute marks so that they often hit an opening or closing exactly.</summary>
    private static readonly Gen<DateTimeOffset> Instants =
        Gen.Select(Gen.Int[0, 4 * 366 * 288], Gen.Int[0, 3], Gen.Long[0, TimeSpan.TicksPerMinute * 5], (fiveMinutes, exact, ticks) =>
            new DateTimeOffset(2024, 1, 1, 0, 0, 0, TimeSpan.Zero).AddMinutes(fiveMinutes * 5.0).AddTicks(exact == 0 ? ticks : 0));

    private static readonly Gen<TimeSpan> Budgets =
        Gen.Select(Gen.Int[0, 200 * 12], Gen.Int[0, 3], Gen.Long[0, TimeSpan.TicksPerHour], (fiveMinutes, exact, ticks) =>
            TimeSpan.FromMinutes(fiveMinutes * 5) + TimeSpan.FromTicks(exact == 0 ? ticks : 0));

    private static string Describe(BusinessHoursClock clock) =>
        $"{clock.Calendar.Zone.Id} " +
        string.Join(" ", clock.Calendar.Week.OrderBy(d => d.Key).Select(d => $"{d.Key}:{string.Join(",", d.Value)}")) +
        $" holidays:{string.Join(",", clock.Calendar.Holidays.Order().Select(d => d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)))}";

    [Fact]
    public void Adding_a_budget_then_measuring_gives_the_budget_back_and_no_earlier_instant_would()
    {
        Gen.Select(Clocks, Instants, Budgets).Sample((clock, from, budget) =>
        {
            var due = clock.Add(from, budget);

            Assert.True(due >= from);
            Assert.Equal(budget, clock.Elapsed(from, due));
            if (budget > TimeSpan.Zero)
            {
                Assert.True(clock.Elapsed(from, due.AddTicks(-1)) < budget);
            }
        }, iter: 2_000, print: t => $"{Describe(t.Item1)} from {t.Item2:O} budget {t.Item3}");
    }

    [Fact]
    public void Elapsed_time_adds_up_over_consecutive_spans()
    {
        Gen.Select(Clocks, Instants, Gen.Int[0, 60 * 288].Array[2]).Sample((clock, a, steps) =>
        {
            var b = a.AddMinutes(steps[0] * 5.0);
            var c = b.AddMinutes(steps[1] * 5.0);

            Assert.Equal(clock.Elapsed(a, c), clock.Elapsed(a, b) + clock.Elapsed(b, c));
            Assert.Equal(TimeSpan.Zero, clock.Elapsed(c, a));
        }, iter: 2_000, print: t => $"{Describe(t.Item1)} from {t.Item2:O} steps {string.Join(",", t.Item3)}");
    }

    /// <summary>
    /// A reference that knows nothing of offsets or gaps: step minute by minute and count a minute when the wall clock,
    /// as far as it has got (never turned back), shows a time inside an opening window of its date.
    /// </summary>
    private static TimeSpan CountMinuteByMinute(BusinessCalendar calendar, DateTimeOffset from, DateTimeOffset to)
    {
        DateTime Local(DateTimeOffset instant) => TimeZoneInfo.ConvertTime(instant, calendar.Zone).DateTime;
        var shown = DateTime.MinValue;
        for (var instant = from.AddHours(-3); instant < from; instant = instant.AddMinutes(1))
        {
            shown = Local(instant) > shown ? Local(instant) : shown;
        }

        var counted = TimeSpan.Zero;
        for (var instant = from; instant < to; instant = instant.AddMinutes(1))
        {
            shown = Local(instant) > shown ? Local(instant) : shown;
            var (date, time) = (DateOnly.FromDateTime(shown), TimeOnly.FromDateTime(shown));
            if (!calendar.Holidays.Contains(date) && calendar.Week.TryGetValue(date.DayOfWeek, out var windows) && windows.Any(w => w.Opens <= time && time < w.Closes))
            {
                counted += TimeSpan.FromMinutes(1);
            }
        }

        return counted;
    }

    /// <summary>Noon (UTC) of each day in 2024–2027 on which the zone changes its offset.</summary>
    private static DateTimeOffset[] ClockChanges(TimeZoneInfo zone)
    {
        var first = new DateTimeOffset(2024, 1, 1, 12, 0, 0, TimeSpan.Zero);
        return [.. Enumerable.Range(0, 4 * 365).Select(d => first.AddDays(d)).Where(day => zone.GetUtcOffset(day.AddHours(-12)) != zone.GetUtcOffset(day.AddHours(12)))];
    }

    [Fact]
    public void Elapsed_agrees_with_counting_minute_by_minute_on_the_wall_clock_around_changes_of_clocks()
    {
        Gen.Select(Clocks, Gen.Int[0, 100], Gen.Int[-36 * 12, 36 * 12], Gen.Int[0, 48 * 12]).Sample((clock, change, shift, span) =>
        {
            var changes = ClockChanges(clock.Calendar.Zone);
            var around = changes.Length == 0 ? new DateTimeOffset(2026, 3, 29, 12, 0, 0, TimeSpan.Zero) : changes[change % changes.Length];
            var from = around.AddMinutes(shift * 5.0);
            var to = from.AddMinutes(span * 5.0);

            Assert.Equal(CountMinuteByMinute(clock.Calendar, from, to), clock.Elapsed(from, to));
        }, iter: 500, print: t => $"{Describe(t.Item1)} change {t.Item2} shift {t.Item3} span {t.Item4}");
    }
}
