"""The detector's pure functions: an hour-of-week baseline, robust to an outlier week, calm in quiet hours."""

from datetime import UTC, datetime, timedelta

import pytest

from apps.alerts.detection import (
    HOUR,
    WEEK,
    HourCount,
    count_floor,
    detect_negative_share,
    detect_volume,
    hour_of_week,
    robust_baseline,
    window_hours,
)

MONDAY_9 = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)


def weekly(hour: datetime, values: list[int], negatives: list[int] | None = None) -> dict:
    """Counts at `hour` in each previous week: values[0] one week before, values[1] two weeks before..."""
    negatives = negatives or [0] * len(values)
    return {
        hour - WEEK * (back + 1): HourCount(inbound=value, negative=negative)
        for back, (value, negative) in enumerate(zip(values, negatives, strict=True))
    }


def test_hour_of_week_counts_from_monday_midnight():
    assert hour_of_week(MONDAY_9) == 9
    assert hour_of_week(MONDAY_9 + timedelta(days=6, hours=14)) == 167


def test_the_window_ends_with_the_hour_in_progress_counted_for_its_elapsed_part():
    now = MONDAY_9 + timedelta(minutes=30)

    assert window_hours(now, 1) == [(MONDAY_9, 0.5)]
    assert window_hours(now, 2) == [(MONDAY_9 - HOUR, 1.0), (MONDAY_9, 0.5)]
    assert window_hours(MONDAY_9, 1) == [(MONDAY_9 - HOUR, 1.0)]


def test_the_baseline_is_the_same_hour_of_the_week_in_previous_weeks():
    # Monday mornings are busy (50 an hour), Sunday nights quiet (2 an hour).
    sunday_3 = MONDAY_9 - timedelta(hours=30)
    counts = {
        **weekly(MONDAY_9, [50, 48, 52, 51, 49, 50, 47, 53]),
        **weekly(sunday_3, [2, 1, 3, 2, 2, 1, 2, 3]),
    }

    busy_as_usual = detect_volume(
        {**counts, MONDAY_9: HourCount(50)}, now=MONDAY_9 + HOUR - timedelta(seconds=1)
    )
    busy_on_sunday = detect_volume(
        {**counts, sunday_3: HourCount(50)}, now=sunday_3 + HOUR - timedelta(seconds=1)
    )

    assert busy_as_usual.expected == pytest.approx(50, abs=1) and busy_as_usual.score < 1
    assert busy_on_sunday.expected == pytest.approx(2, abs=0.1) and busy_on_sunday.score > 10


def test_an_outlier_week_in_the_history_moves_neither_the_median_nor_the_spread():
    history = [10, 11, 9, 10, 500, 10, 12, 9]  # week 5 had a crisis at this hour
    counts = weekly(MONDAY_9, history)
    now = MONDAY_9 + HOUR - timedelta(seconds=1)

    normal = detect_volume({**counts, MONDAY_9: HourCount(11)}, now=now)
    spike = detect_volume({**counts, MONDAY_9: HourCount(60)}, now=now)

    assert normal.expected == pytest.approx(10, rel=1e-3)
    assert normal.spread == pytest.approx(count_floor(10), rel=1e-3)
    assert normal.score < 1
    assert spike.score > 4 * 3


def test_a_quiet_hour_does_not_alarm_on_one_message():
    counts = {**weekly(MONDAY_9, [0, 0, 1, 0, 0, 0, 0, 1]), MONDAY_9: HourCount(2)}

    found = detect_volume(counts, now=MONDAY_9 + timedelta(minutes=59))

    assert found.expected == 0 and found.spread == 1.0
    assert found.score < 4


def test_a_partial_hour_is_compared_with_the_same_part_of_the_usual_hour():
    counts = {**weekly(MONDAY_9, [60] * 8), MONDAY_9: HourCount(30)}

    halfway = detect_volume(counts, now=MONDAY_9 + timedelta(minutes=30))

    assert halfway.expected == pytest.approx(30) and abs(halfway.score) < 0.5


def test_without_two_weeks_of_history_there_is_no_anomaly_to_find():
    counts = {MONDAY_9 - WEEK: HourCount(5), MONDAY_9: HourCount(500)}

    assert detect_volume(counts, now=MONDAY_9 + timedelta(minutes=59), history_start=MONDAY_9 - WEEK) is None
    assert (
        detect_volume(counts, now=MONDAY_9 + timedelta(minutes=59)) is not None
    )  # zeros before: weeks count


def test_a_negative_share_spike_stands_out_of_its_usual_share():
    counts = weekly(MONDAY_9, [20] * 8, [2, 2, 3, 2, 1, 2, 2, 3])  # about 10 % negative
    now = MONDAY_9 + timedelta(minutes=59)

    crisis = detect_negative_share({**counts, MONDAY_9: HourCount(30, 18)}, now=now)
    ordinary = detect_negative_share({**counts, MONDAY_9: HourCount(20, 3)}, now=now)

    assert crisis.observed == 60 and crisis.expected == 10 and crisis.score > 4
    assert ordinary.score < 2


def test_a_share_measured_on_two_messages_has_a_wide_spread():
    counts = weekly(MONDAY_9, [20] * 8, [2] * 8)

    tiny = detect_negative_share({**counts, MONDAY_9: HourCount(2, 2)}, now=MONDAY_9 + timedelta(minutes=59))

    assert tiny.observed == 100 and tiny.spread > 20


def test_the_robust_baseline_of_nothing_still_has_a_spread():
    assert robust_baseline([]).spread == 1.0
    assert robust_baseline([4, 4, 4], floor=count_floor(4)).spread == 3.0
