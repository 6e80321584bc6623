"""Alerts: rules per brand, their evaluation against the brand's hourly series, and the alerts they raise —
told in the app, by email and by webhook, once per crisis.

One crisis is one alert: while a rule's latest alert was still seen within the rule's cool-down, a spike
that goes on (into the next hour, the next evaluation) updates that alert — its peak, its window — instead
of raising another. Evaluations of one rule are serialised by a row lock, and evaluating twice at the same
moment changes nothing, so the beat may run them as often as it likes.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from apps.accounts.models import Membership, Role
from apps.analytics.services import rollups_refresh
from apps.core.audit import audit_record

from . import detection, selectors
from .detection import HOUR, WEEK, Observation
from .models import Alert, AlertRule

logger = logging.getLogger(__name__)

HISTORY_WEEKS = detection.DEFAULT_WEEKS
WEBHOOK_EVENT = "alert.raised"


class AlertRuleInvalid(ValueError):
    """A rule that cannot be saved as given; the message says why."""


@dataclass(frozen=True)
class Finding:
    """What an evaluation saw when a rule's condition holds."""

    observation: Observation
    observed: float
    expected: float | None
    score: float | None
    subject: str = ""


# --- rules -----------------------------------------------------------------------------------------------


@transaction.atomic
def alert_rule_save(*, rule: AlertRule, actor, notify_members=None) -> AlertRule:
    """Create or change a rule (validated); `notify_members` replaces the chosen members when given."""
    if rule.is_anomaly and rule.sensitivity <= 0:
        raise AlertRuleInvalid("the sensitivity must be above 0")
    if not rule.is_anomaly and rule.threshold is None:
        raise AlertRuleInvalid("a threshold rule needs its threshold")
    if rule.is_share and rule.threshold is not None and not 0 <= rule.threshold <= 100:
        raise AlertRuleInvalid("a share threshold is a percentage between 0 and 100")
    if rule.created_by_id is None and getattr(actor, "pk", None):
        rule.created_by = actor
    try:
        rule.full_clean()
    except ValidationError as error:
        raise AlertRuleInvalid("; ".join(error.messages)) from error
    created = rule.pk is None
    rule.save()
    if notify_members is not None:
        rule.notify_members.set(notify_members)
    audit_record(
        organization=rule.organization,
        actor=actor,
        action="alert_rule.created" if created else "alert_rule.updated",
        target=rule,
        data={"kind": rule.kind, "brand": rule.brand_id, "active": rule.active},
    )
    return rule


# --- evaluation ------------------------------------------------------------------------------------------


def _finding(rule: AlertRule, counts, *, now: datetime, history_start: datetime | None) -> Finding | None:
    hours = rule.window_hours
    if rule.is_anomaly:
        detect = detection.detect_negative_share if rule.is_share else detection.detect_volume
        found = detect(counts, now=now, hours=hours, weeks=HISTORY_WEEKS, history_start=history_start)
        if found is None or found.observation.inbound < rule.min_volume or found.score < rule.sensitivity:
            return None
        return Finding(found.observation, found.observed, found.expected, found.score)
    observation = detection.observe_window(counts, now=now, hours=hours)
    observed = observation.negative_share if rule.is_share else observation.inbound
    if observation.inbound < rule.min_volume or observed < rule.threshold:
        return None
    return Finding(observation, observed, None, None)


def alert_rules_evaluate(*, now: datetime | None = None) -> int:
    """Evaluate every active rule (the beat, every few minutes); returns how many alerts were raised.
    Each brand's series is read once for all of its rules."""
    now = now or timezone.now()
    rules_by_brand: dict[int, list[int]] = defaultdict(list)
    for rule_id, brand_id in AlertRule.objects.filter(active=True).values_list("id", "brand_id"):
        rules_by_brand[brand_id].append(rule_id)
    raised = 0
    for brand_id, rule_ids in rules_by_brand.items():
        counts, history_start = _brand_series(brand_id, now)
        for rule_id in rule_ids:
            try:
                _, created = alert_rule_evaluate(
                    rule_id=rule_id, now=now, counts=counts, history_start=history_start
                )
            except Exception:  # one broken rule must not keep the others from being evaluated
                logger.exception("alert rule %s could not be evaluated", rule_id)
                continue
            raised += created
    return raised


def _brand_series(brand_id: int, now: datetime):
    # The series come from the dashboards' rollups: bring them up to date with what has just arrived
    # (usually nothing is left: the workers refresh them seconds after each batch).
    rollups_refresh()
    since = detection.hour_start(now) - WEEK * HISTORY_WEEKS - HOUR * 24
    counts = selectors.brand_hourly_counts(brand_id=brand_id, since=since, until=now)
    # The brand's history starts at its first hour with messages: earlier weeks are not "quiet" weeks.
    history_start = min(counts) if counts else None
    return counts, history_start


@transaction.atomic
def alert_rule_evaluate(
    *, rule_id: int, now: datetime | None = None, counts=None, history_start=None
) -> tuple[Alert | None, bool]:
    """Evaluate one rule at `now`: (the alert raised or updated, or None; whether it is a new one)."""
    now = now or timezone.now()
    rule = (
        AlertRule.objects.select_for_update(of=("self",)).select_related("brand").filter(pk=rule_id).first()
    )
    if rule is None or not rule.active:
        return None, False
    if counts is None:
        counts, history_start = _brand_series(rule.brand_id, now)
    AlertRule.objects.filter(pk=rule.pk).update(last_evaluated_at=now)
    if rule.is_trend:
        findings = _trend_findings(rule, now=now)
    else:
        finding = _finding(rule, counts, now=now, history_start=history_start)
        findings = [finding] if finding else []
    first, raised = None, False
    for finding in findings:
        # A trend rule follows each emerging term on its own: one alert per term while it lasts.
        latest = rule.alerts.filter(subject=finding.subject).order_by("-last_seen_at", "-id").first()
        if latest is not None and latest.last_seen_at >= now - timedelta(hours=rule.cooldown_hours):
            alert, created = _alert_continue(latest, finding, now), False
        else:
            alert, created = _alert_raise(rule, finding, now), True
        first, raised = first or alert, raised or created
    return first, raised


#: A trend rule raises for the strongest few emerging terms of an evaluation (a term, its phrase and its
#: hashtag often rise together; more would be one crisis told many times).
TREND_ALERTS_PER_EVALUATION = 3


def _trend_findings(rule: AlertRule, *, now: datetime) -> list[Finding]:
    """The rule's brand's terms emerging today (UTC) against their previous days (apps/analytics/trends.py),
    from the rollups that _brand_series has just brought up to date."""
    from apps.analytics.selectors import brand_emerging_terms
    from apps.analytics.services import day_start

    today = now.astimezone(UTC).date()
    trends = brand_emerging_terms(
        brand_id=rule.brand_id, day=today, min_count=rule.min_volume, min_score=rule.sensitivity
    )
    start = day_start(today)
    return [
        Finding(
            Observation(start=start, end=now, inbound=trend.recent, negative=0),
            observed=trend.recent,
            expected=trend.usual,
            score=trend.score,
            subject=f"{trend.term} · {trend.language}" if trend.language else trend.term,
        )
        for trend in trends[:TREND_ALERTS_PER_EVALUATION]
    ]


def _samples(rule: AlertRule, start: datetime, end: datetime, subject: str = "") -> list[int]:
    term = subject.split(" · ")[0].lstrip("#") if rule.is_trend else ""
    return selectors.window_samples(
        brand=rule.brand, start=start, end=end, negative_only=rule.is_share, containing=term
    )


def _alert_continue(alert: Alert, finding: Finding, now: datetime) -> Alert:
    """The same crisis seen again: the alert follows it (window, peak) without telling anyone again."""
    alert.last_seen_at = max(alert.last_seen_at, now)
    alert.window_end = max(alert.window_end, finding.observation.end)
    if finding.observed > alert.peak_observed:
        alert.peak_observed, alert.peak_at = finding.observed, now
    if not alert.sample_message_ids:
        alert.sample_message_ids = _samples(alert.rule, alert.window_start, alert.window_end, alert.subject)
    alert.save()
    return alert


def _alert_raise(rule: AlertRule, finding: Finding, now: datetime) -> Alert:
    observation = finding.observation
    alert = Alert.objects.create(
        organization_id=rule.organization_id,
        rule=rule,
        brand=rule.brand,
        kind=rule.kind,
        window_start=observation.start,
        window_end=observation.end,
        observed=finding.observed,
        expected=finding.expected,
        score=finding.score,
        volume=round(observation.inbound),
        subject=finding.subject,
        peak_observed=finding.observed,
        peak_at=now,
        last_seen_at=now,
        sample_message_ids=_samples(rule, observation.start, observation.end, finding.subject),
    )
    audit_record(
        organization=rule.organization,
        actor=None,
        action="alert.raised",
        target=alert,
        data={"rule": rule.pk, "observed": finding.observed, "score": finding.score},
    )
    _notify(alert)
    return alert


# --- telling people --------------------------------------------------------------------------------------


def alert_url(alert: Alert) -> str:
    return f"{settings.CXM_BASE_URL}{reverse('alerts:detail', args=[alert.pk])}"


def alert_summary(alert: Alert) -> str:
    """One line: what happened, in numbers."""
    if alert.is_trend:
        usual = f", usually {alert.expected:.1f} a day" if alert.expected is not None else ""
        return f"{alert.brand.name}: “{alert.subject}” in {alert.observed:.0f} messages today{usual}"
    unit = "% negative" if alert.is_share else " messages"
    figure = f"{alert.observed:.0f}{unit}"
    usual = f", usually {alert.expected:.0f}{unit}" if alert.expected is not None else ""
    hours = alert.rule.window_hours
    span = f"the last {hours} hours" if hours > 1 else "the last hour"
    return f"{alert.brand.name}: {figure} in {span}{usual}"


def alert_recipients(rule: AlertRule):
    """Who hears of the rule's alerts in the app: the admins and community managers of the organisation who
    may see the brand (the notifications page is theirs), narrowed to the rule's chosen members if any."""
    memberships = Membership.objects.filter(
        Q(brands__isnull=True) | Q(brands=rule.brand_id),
        organization_id=rule.organization_id,
        role__in=[Role.ADMIN, Role.COMMUNITY_MANAGER],
    )
    chosen = list(rule.notify_members.values_list("id", flat=True))
    if chosen:
        memberships = memberships.filter(user_id__in=chosen)
    return [membership.user for membership in memberships.select_related("user").distinct()]


def _notify(alert: Alert) -> None:
    from apps.conversations.models import Message
    from apps.notifications.models import Notification
    from apps.notifications.services import notifications_send
    from apps.webhooks.services import event_publish

    rule = alert.rule
    if rule.notify_in_app and alert.sample_message_ids:
        # A notification belongs to a conversation (that is how brand scoping reaches it): the top sample's.
        top = Message.objects.select_related("conversation").get(pk=alert.sample_message_ids[0])
        notifications_send(
            recipients=alert_recipients(rule),
            kind=Notification.Kind.ALERT,
            conversation=top.conversation,
            actor=None,
            message=top,
            link=reverse("alerts:detail", args=[alert.pk]),
        )
    if rule.notify_webhook:
        event_publish(
            organization_id=alert.organization_id, event=WEBHOOK_EVENT, payload=alert_payload(alert)
        )
    if rule.email_recipients:
        from .tasks import alert_email_task

        transaction.on_commit(lambda: alert_email_task.delay(alert.pk))


def alert_payload(alert: Alert) -> dict:
    return {
        "alert": alert.pk,
        "url": alert_url(alert),
        "rule": {"id": alert.rule_id, "name": alert.rule.name},
        "brand": {"id": alert.brand_id, "name": alert.brand.name},
        "kind": alert.kind,
        "summary": alert_summary(alert),
        "window_start": alert.window_start.isoformat(),
        "window_end": alert.window_end.isoformat(),
        "observed": alert.observed,
        "expected": alert.expected,
        "score": alert.score,
        "volume": alert.volume,
        "subject": alert.subject,
        "sample_message_ids": alert.sample_message_ids,
    }


def alert_email_send(*, alert_id: int) -> int:
    """Email the rule's recipients about the alert, one message each; returns how many were sent."""
    alert = Alert.objects.select_related("rule", "brand").filter(pk=alert_id).first()
    if alert is None or not alert.rule.email_recipients:
        return 0
    from apps.conversations.models import Message

    samples = Message.objects.filter(pk__in=alert.sample_message_ids[:5]).values_list("text", flat=True)
    body = "\n".join(
        [
            alert_summary(alert) + ".",
            f"Window: {alert.window_start:%Y-%m-%d %H:%M} – {alert.window_end:%H:%M} UTC",
            *(
                [f"Score: {alert.score:.1f} (the rule raises at {alert.rule.sensitivity:g})"]
                if alert.score
                else []
            ),
            "",
            "Some of the messages:",
            *[f"  – {text[:200]}" for text in samples],
            "",
            f"See the alert: {alert_url(alert)}",
        ]
    )
    subject = f"[CXM alert] {alert.rule.name}: {alert_summary(alert)}"
    connection = get_connection()
    emails = [
        EmailMessage(subject=subject[:200], body=body, to=[address])
        for address in alert.rule.email_recipients
    ]
    return connection.send_messages(emails) or 0


# --- people acting on an alert ---------------------------------------------------------------------------


@transaction.atomic
def alert_acknowledge(*, alert: Alert, actor) -> Alert:
    if alert.status == Alert.Status.OPEN:
        alert.status = Alert.Status.ACKNOWLEDGED
        alert.acknowledged_by, alert.acknowledged_at = actor, timezone.now()
        alert.save(update_fields=["status", "acknowledged_by", "acknowledged_at"])
        audit_record(
            organization=alert.rule.organization, actor=actor, action="alert.acknowledged", target=alert
        )
    return alert


@transaction.atomic
def alert_resolve(*, alert: Alert, actor) -> Alert:
    if alert.status != Alert.Status.RESOLVED:
        alert.status = Alert.Status.RESOLVED
        alert.resolved_by, alert.resolved_at = actor, timezone.now()
        alert.save(update_fields=["status", "resolved_by", "resolved_at"])
        audit_record(organization=alert.rule.organization, actor=actor, action="alert.resolved", target=alert)
    return alert
