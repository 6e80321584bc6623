"""Reads for alerts: the brand's hourly series (the detector's input), rules, alerts and their samples."""

from __future__ import annotations

import statistics
from datetime import datetime, timedelta

from django.db.models import F, QuerySet

from apps.accounts.models import Brand, Membership
from apps.accounts.tenancy import scoped
from apps.analytics.selectors import brand_hourly_counts as rollup_hourly_counts
from apps.conversations.models import Message

from .detection import HOUR, HourCount, hour_start
from .models import Alert, AlertRule

SAMPLE_SIZE = 10
# The alert page's chart: this many hours before the spike's window and after it (up to now).
CHART_HOURS_BEFORE = 48
CHART_HOURS_AFTER = 12


def brand_hourly_counts(*, brand_id: int, since: datetime, until: datetime) -> dict[datetime, HourCount]:
    """Inbound messages of the brand per hour (UTC) from `since`'s hour to `until`, with how many were
    negative: the detector's input. Read from the dashboards' hourly rollup, so that an alert counts the
    brand's messages exactly as its dashboard does (its conversations' and its relevant mentions') and the
    beat reads a few thousand rollup rows rather than weeks of raw messages."""
    rows = rollup_hourly_counts(brand_id=brand_id, since=hour_start(since), until=until)
    return {hour: HourCount(inbound=total, negative=negative) for hour, total, negative in rows}


def rule_list(*, membership: Membership, brand_id: int | None = None) -> QuerySet[AlertRule]:
    rules = scoped(AlertRule, membership).select_related("brand")
    return rules.filter(brand_id=brand_id) if brand_id else rules


def alert_list(*, membership: Membership, status: str = "", brand_id: int | None = None) -> QuerySet[Alert]:
    alerts = scoped(Alert, membership).select_related("brand", "rule")
    if status in Alert.Status.values:
        alerts = alerts.filter(status=status)
    return alerts.filter(brand_id=brand_id) if brand_id else alerts


def open_alert_count(*, membership: Membership) -> int:
    return scoped(Alert, membership).filter(status=Alert.Status.OPEN).count()


def window_samples(
    *,
    brand: Brand,
    start: datetime,
    end: datetime,
    negative_only: bool = False,
    containing: str = "",
    limit: int = SAMPLE_SIZE,
) -> list[int]:
    """The ids of the window's most telling inbound messages (those holding `containing` when given, for a
    trend): highest priority first, then the latest."""
    messages = Message.objects.filter(
        organization_id=brand.organization_id,
        conversation__brand_id=brand.pk,
        direction=Message.Direction.INBOUND,
        sent_at__gte=start,
        sent_at__lt=end,
    )
    if negative_only:
        messages = messages.filter(sentiment="negative")
    if containing:
        messages = messages.filter(text__icontains=containing)
    ordered = messages.order_by(F("priority").desc(nulls_last=True), "-sent_at", "-id")
    return list(ordered.values_list("id", flat=True)[:limit])


def alert_samples(*, alert: Alert, membership: Membership) -> list[Message]:
    """The alert's sample messages the membership may see, in the alert's order, with their conversations."""
    found = {
        message.pk: message
        for message in scoped(Message, membership)
        .filter(pk__in=alert.sample_message_ids)
        .select_related("conversation", "channel")
    }
    return [found[pk] for pk in alert.sample_message_ids if pk in found]


def alert_chart(*, alert: Alert, now: datetime, weeks: int) -> dict:
    """The hourly series around the spike, and the band of the usual level for each hour (median ± spread of
    the same hour in previous weeks), as the alert page's chart draws it."""
    from .detection import count_floor, robust_baseline, share_floor

    first = hour_start(alert.window_start) - HOUR * CHART_HOURS_BEFORE
    last = min(hour_start(alert.window_end) + HOUR * CHART_HOURS_AFTER, hour_start(now))
    counts = brand_hourly_counts(
        brand_id=alert.brand_id, since=first - timedelta(weeks=weeks), until=last + HOUR
    )
    labels, observed, median, low, high = [], [], [], [], []
    hour = first
    while hour <= last:
        history = [counts.get(hour - timedelta(weeks=back), HourCount()) for back in range(1, weeks + 1)]
        current = counts.get(hour, HourCount())
        if alert.is_share:
            shares = [100.0 * h.negative / h.inbound for h in history if h.inbound]
            value = 100.0 * current.negative / current.inbound if current.inbound else None
            middle = statistics.median(shares) if shares else 0.0
            baseline = robust_baseline(shares, floor=share_floor(middle, max(current.inbound, 1)))
        else:
            values = [float(h.inbound) for h in history]
            value = current.inbound
            baseline = robust_baseline(values, floor=count_floor(statistics.median(values)))
        labels.append(hour.strftime("%a %d %H:00"))
        observed.append(value)
        median.append(round(baseline.median, 2))
        low.append(round(max(0.0, baseline.median - baseline.spread), 2))
        high.append(round(baseline.median + baseline.spread * alert.rule.sensitivity, 2))
        hour += HOUR
    return {
        "labels": labels,
        "observed": observed,
        "median": median,
        "low": low,
        "high": high,
        "unit": "% negative" if alert.is_share else "messages",
        "window": [
            hour_start(alert.window_start).strftime("%a %d %H:00"),
            hour_start(alert.window_end).strftime("%a %d %H:00"),
        ],
    }
