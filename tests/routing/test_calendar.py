"""Business-time arithmetic: deadlines skip nights, weekends and holidays in the calendar's time zone."""

from datetime import UTC, date, datetime, timedelta

from apps.routing.calendar import ALWAYS_OPEN, Calendar

OFFICE = {day: [["09:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}


def test_a_deadline_set_on_friday_afternoon_falls_after_the_weekend_and_a_holiday():
    # Given Paris office hours, and Monday 7 December 2026 a holiday
    calendar = Calendar.build(timezone="Europe/Paris", weekly=OFFICE, holidays=[date(2026, 12, 7)])
    friday = datetime(2026, 12, 4, 15, 0, tzinfo=UTC)  # 16:00 in Paris: one open hour left
    # When a 4-hour target starts then
    due = calendar.add(friday, 240)
    # Then 1 h on Friday, none over the weekend or the holiday, 3 h on Tuesday: 12:00 in Paris
    assert due == datetime(2026, 12, 8, 11, 0, tzinfo=UTC)
    assert calendar.between(friday, due) == timedelta(hours=4)
    assert not calendar.is_open(datetime(2026, 12, 5, 12, 0, tzinfo=UTC))  # Saturday
    assert not calendar.is_open(datetime(2026, 12, 7, 10, 0, tzinfo=UTC))  # the holiday
    assert calendar.is_open(datetime(2026, 12, 8, 8, 30, tzinfo=UTC))  # Tuesday 09:30 in Paris


def test_a_clock_across_a_daylight_saving_change_counts_real_hours():
    calendar = Calendar.build(timezone="Europe/Paris", weekly={"sun": [["00:00", "24:00"]]})
    # 29 March 2026: Paris skips 02:00–03:00, so the day has 23 hours
    start = datetime(2026, 3, 28, 23, 0, tzinfo=UTC)  # Sunday 00:00 in Paris
    assert calendar.between(start, start + timedelta(days=2)) == timedelta(hours=23)


def test_without_business_hours_the_clock_never_stops():
    start = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
    assert ALWAYS_OPEN.add(start, 60) == start + timedelta(hours=1)
    assert ALWAYS_OPEN.is_open(start)


def test_opening_hours_are_checked():
    import pytest

    for weekly in ({"mon": [["17:00", "09:00"]]}, {"someday": []}, {"mon": [["9am"]]}):
        with pytest.raises(ValueError):
            Calendar.build(timezone="UTC", weekly=weekly)
