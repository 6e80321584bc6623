"""Spike detection on a brand's hourly series: pure functions, no database.

The baseline of a window (e.g. the latest hour) is the same window of the week in each of the previous weeks
— Monday 9:00 is compared with earlier Mondays at 9:00, never with Sunday night — summarised robustly: the
median, and the MAD (scaled by 1.4826 to estimate a standard deviation) as the spread, so that one unusual
week in the history (a past crisis, an outage) moves neither. The spread has a floor: for counts a
Poisson-like √median + 1, for a share the binomial standard error at the window's volume, so that a quiet
hour does not alarm on one message more than usual. The score is the robust z: (observed − median) / spread.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

HOUR = timedelta(hours=1)
WEEK = timedelta(weeks=1)
MAD_SCALE = 1.4826
DEFAULT_WEEKS = 8
# An anomaly needs this many previous weeks of history; before that, only threshold rules fire.
MIN_HISTORY_WEEKS = 2


@dataclass(frozen=True)
class HourCount:
    """One hour of a brand's inbound messages: how many, and how many of them negative."""

    inbound: int = 0
    negative: int = 0


@dataclass(frozen=True)
class Baseline:
    median: float
    spread: float
    weeks: int


@dataclass(frozen=True)
class Observation:
    """A window's figures: messages and negative ones (prorated for an hour still in progress)."""

    start: datetime
    end: datetime
    inbound: float
    negative: float

    @property
    def negative_share(self) -> float:
        """Percent of negative messages (0 when there are none)."""
        return 100.0 * self.negative / self.inbound if self.inbound else 0.0


@dataclass(frozen=True)
class Detection:
    observation: Observation
    observed: float
    expected: float
    spread: float
    score: float


def hour_start(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def hour_of_week(moment: datetime) -> int:
    """0 (Monday 0:00) … 167 (Sunday 23:00), in the moment's own timezone."""
    return moment.weekday() * 24 + moment.hour


def window_hours(now: datetime, hours: int) -> list[tuple[datetime, float]]:
    """The hours of the window that ends now: (hour start, the fraction of it that is in the window); the
    current hour is in progress, so it counts for the part of it that has passed."""
    current = hour_start(now)
    elapsed = (now - current) / HOUR
    spans = [(current - HOUR * back, 1.0) for back in range(hours - 1, 0, -1)]
    return [*spans, (current, elapsed)] if elapsed > 0 else [(current - HOUR * hours, 1.0), *spans]


def observe(counts: Mapping[datetime, HourCount], window: Sequence[tuple[datetime, float]]) -> Observation:
    """The window's observed figures: the current hour's counts are taken whole (what arrived so far)."""
    inbound = sum(counts.get(hour, HourCount()).inbound for hour, _ in window)
    negative = sum(counts.get(hour, HourCount()).negative for hour, _ in window)
    last_hour, last_fraction = window[-1]
    end = last_hour + HOUR * last_fraction  # now, when the last hour is in progress
    return Observation(start=window[0][0], end=end, inbound=inbound, negative=negative)


def weekly_history(
    counts: Mapping[datetime, HourCount],
    window: Sequence[tuple[datetime, float]],
    *,
    weeks: int = DEFAULT_WEEKS,
    history_start: datetime | None = None,
) -> list[Observation]:
    """The same window in each previous week (prorated like the current hour), oldest weeks that lie before
    the brand's first data left out: a brand new to CXM has no quiet history to be compared with."""
    found = []
    for back in range(1, weeks + 1):
        shifted = [(hour - WEEK * back, fraction) for hour, fraction in window]
        if history_start is not None and shifted[0][0] < hour_start(history_start):
            break
        inbound = sum(counts.get(hour, HourCount()).inbound * fraction for hour, fraction in shifted)
        negative = sum(counts.get(hour, HourCount()).negative * fraction for hour, fraction in shifted)
        found.append(
            Observation(start=shifted[0][0], end=shifted[-1][0] + HOUR, inbound=inbound, negative=negative)
        )
    return found


def robust_baseline(values: Sequence[float], *, floor: float = 0.0) -> Baseline:
    """Median and MAD-based spread of `values`, the spread never below `floor`."""
    if not values:
        return Baseline(median=0.0, spread=max(floor, 1.0), weeks=0)
    median = statistics.median(values)
    mad = statistics.median([abs(value - median) for value in values]) * MAD_SCALE
    return Baseline(median=median, spread=max(mad, floor), weeks=len(values))


def count_floor(median: float) -> float:
    """Counts vary like a Poisson variable at least: √median, and one more so a silent hour is not 0."""
    return math.sqrt(max(median, 0.0)) + 1.0


def share_floor(share_percent: float, volume: float) -> float:
    """The binomial standard error, in percentage points, of a share measured on `volume` messages; the
    share is pulled away from 0 and 100 % (Laplace) so that a never-negative brand still has some spread."""
    volume = max(volume, 1.0)
    share = (share_percent / 100.0 * volume + 1.0) / (volume + 2.0)
    return 100.0 * math.sqrt(share * (1.0 - share) / volume)


def robust_score(observed: float, baseline: Baseline) -> float:
    return (observed - baseline.median) / baseline.spread


def detect_volume(
    counts: Mapping[datetime, HourCount],
    *,
    now: datetime,
    hours: int = 1,
    weeks: int = DEFAULT_WEEKS,
    history_start: datetime | None = None,
) -> Detection | None:
    """The window's inbound volume against the same window in previous weeks; None without enough history."""
    window = window_hours(now, hours)
    history = weekly_history(counts, window, weeks=weeks, history_start=history_start)
    if len(history) < MIN_HISTORY_WEEKS:
        return None
    observation = observe(counts, window)
    values = [week.inbound for week in history]
    baseline = robust_baseline(values, floor=count_floor(statistics.median(values)))
    return Detection(
        observation=observation,
        observed=observation.inbound,
        expected=baseline.median,
        spread=baseline.spread,
        score=robust_score(observation.inbound, baseline),
    )


def detect_negative_share(
    counts: Mapping[datetime, HourCount],
    *,
    now: datetime,
    hours: int = 1,
    weeks: int = DEFAULT_WEEKS,
    history_start: datetime | None = None,
) -> Detection | None:
    """The window's share of negative messages (percent) against the same window in previous weeks (weeks
    without messages then say nothing about the share and are left out)."""
    window = window_hours(now, hours)
    history = [
        week
        for week in weekly_history(counts, window, weeks=weeks, history_start=history_start)
        if week.inbound > 0
    ]
    if len(history) < MIN_HISTORY_WEEKS:
        return None
    observation = observe(counts, window)
    shares = [week.negative_share for week in history]
    median = statistics.median(shares)
    baseline = robust_baseline(shares, floor=share_floor(median, observation.inbound))
    return Detection(
        observation=observation,
        observed=observation.negative_share,
        expected=baseline.median,
        spread=baseline.spread,
        score=robust_score(observation.negative_share, baseline),
    )


def observe_window(counts: Mapping[datetime, HourCount], *, now: datetime, hours: int = 1) -> Observation:
    """The window's figures alone, for threshold rules."""
    return observe(counts, window_hours(now, hours))
