"""Business-time arithmetic: when a target of so many working minutes falls due, and how much working time
lies between two moments, in a calendar's time zone, skipping closed days and holidays. Pure functions of
their arguments (no clock, no database), so that SLA deadlines can be checked at any moment."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# A calendar open for no minute at all would never reach a deadline: give up after this many days.
HORIZON_DAYS = 400


def _minutes(text: str) -> int:
    hours, _, minutes = str(text).partition(":")
    value = int(hours) * 60 + int(minutes or 0)
    if not 0 <= value <= 24 * 60:
        raise ValueError(f"“{text}” is not a time of day")
    return value


def weekly_parse(weekly: dict) -> list[list[tuple[int, int]]]:
    """{"mon": [["09:00", "17:00"]], ...} → per weekday (Monday first) the open intervals in minutes."""
    if not isinstance(weekly, dict):
        raise ValueError("opening hours are a mapping of weekdays to intervals")
    unknown = set(weekly) - set(WEEKDAYS)
    if unknown:
        raise ValueError(f"unknown weekdays: {', '.join(sorted(unknown))}")
    days = []
    for name in WEEKDAYS:
        intervals = []
        for interval in weekly.get(name) or []:
            try:
                start, end = (_minutes(part) for part in interval)
            except (TypeError, ValueError):
                raise ValueError(f'{name}: {interval!r} is not an interval like ["09:00", "17:00"]') from None
            if end <= start:
                raise ValueError(f"{name}: {interval[0]}–{interval[1]} ends before it starts")
            intervals.append((start, end))
        days.append(sorted(intervals))
    return days


@dataclass(frozen=True)
class Calendar:
    """Open hours in a time zone; holidays are closed all day."""

    timezone: str = "UTC"
    weekly: tuple = ()  # weekly_parse()'s result, as tuples
    holidays: frozenset[date] = field(default_factory=frozenset)
    # Each local day's open intervals as UTC moments, worked out once per process (ingestion asks for a
    # deadline per message: bench/routing.py).
    _days: dict = field(default_factory=dict, compare=False, hash=False, repr=False)

    @classmethod
    def build(cls, *, timezone: str, weekly: dict, holidays=()) -> Calendar:
        return cls(
            timezone=timezone,
            weekly=tuple(tuple(day) for day in weekly_parse(weekly)),
            holidays=frozenset(holidays),
        )

    def _open_intervals(self, start: datetime):
        """The open intervals from the local day of `start` on, in order, as whole microseconds since the
        epoch (integer arithmetic: exact, and several times faster than datetimes)."""
        zone = ZoneInfo(self.timezone)
        day = start.astimezone(zone).date()
        moment = _micros(start)
        for _ in range(HORIZON_DAYS):
            intervals = self._days.get(day)
            if intervals is None:
                intervals = self._days[day] = (
                    ()
                    if day in self.holidays
                    else tuple(
                        (_micros(_at(day, o, zone)), _micros(_at(day, c, zone)))
                        for o, c in self.weekly[day.weekday()]
                    )
                )
            for opens, closes in intervals:
                if closes > moment:
                    yield (opens if opens > moment else moment), closes
            day += timedelta(days=1)

    def is_open(self, at: datetime) -> bool:
        moment = _micros(at)
        for opens, _closes in self._open_intervals(at):
            return opens <= moment
        return False

    def add(self, start: datetime, minutes: float) -> datetime:
        """The moment `minutes` of open time after `start` (start itself when it is 0)."""
        left = round(minutes * 60_000_000)
        for opens, closes in self._open_intervals(start):
            if opens + left <= closes:
                return _moment(opens + left)
            left -= closes - opens
        raise ValueError(f"the calendar is not open for {minutes} minutes within {HORIZON_DAYS} days")

    def between(self, start: datetime, end: datetime) -> timedelta:
        """Open time from `start` to `end` (zero when end is not after start)."""
        total = 0
        if end <= start:
            return timedelta()
        stop = _micros(end)
        for opens, closes in self._open_intervals(start):
            if opens >= stop:
                break
            total += min(closes, stop) - opens
        return timedelta(microseconds=total)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def _micros(moment: datetime) -> int:
    return (moment - _EPOCH) // _MICROSECOND


def _moment(micros: int) -> datetime:
    return _EPOCH + timedelta(microseconds=micros)


def _at(day: date, minute: int, zone: ZoneInfo) -> datetime:
    """The local time of day as a UTC moment (arithmetic on aware local times is wall-clock arithmetic,
    which is an hour off across a DST change)."""
    if minute == 24 * 60:
        day, minute = day + timedelta(days=1), 0
    return datetime.combine(day, time(minute // 60, minute % 60), tzinfo=zone).astimezone(UTC)


class AlwaysOpen:
    """No business hours: the clock runs around the clock."""

    def is_open(self, at: datetime) -> bool:
        return True

    def add(self, start: datetime, minutes: float) -> datetime:
        return start + timedelta(minutes=minutes)

    def between(self, start: datetime, end: datetime) -> timedelta:
        return max(end - start, timedelta())


ALWAYS_OPEN = AlwaysOpen()


def weekly_from_text(text: str) -> dict:
    """The settings page's hours, one weekday a line: "mon 09:00-12:00 13:00-17:00" → weekly mapping."""
    weekly: dict[str, list] = {}
    for line in text.splitlines():
        words = line.replace(",", " ").split()
        if not words:
            continue
        day = words[0].lower()[:3]
        if day not in WEEKDAYS:
            raise ValueError(f"“{words[0]}” is not a weekday (mon, tue, wed, thu, fri, sat, sun)")
        for span in words[1:]:
            start, sep, end = span.partition("-")
            if not sep:
                raise ValueError(f"“{span}” is not hours like 09:00-17:00")
            weekly.setdefault(day, []).append([start, end])
    weekly_parse(weekly)
    return weekly


def weekly_to_text(weekly: dict) -> str:
    return "\n".join(
        f"{day} " + " ".join(f"{start}-{end}" for start, end in weekly[day])
        for day in WEEKDAYS
        if weekly.get(day)
    )
