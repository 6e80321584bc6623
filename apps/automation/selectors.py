"""Reads of automation: the rules and settings a member may see, a rule's preview over the last days, and
the satisfaction figures of the dashboards. Scoped through apps.accounts.tenancy."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Avg, Count, F, Q, QuerySet
from django.db.models.functions import TruncWeek
from django.utils import timezone

from apps.accounts.tenancy import scoped
from apps.conversations.models import Conversation, Message

from .models import AutoReply, Rule, RuleRun, Survey, SurveySettings, Trigger
from .registry import Subject, conditions_test

#: The preview looks this far back, at this many of the latest messages or conversations at most.
PREVIEW_DAYS = 7
PREVIEW_LIMIT = 2000
PREVIEW_EXAMPLES = 20
MESSAGE_TRIGGERS = (Trigger.MESSAGE_RECEIVED, Trigger.MESSAGE_CLASSIFIED)


def rule_list(*, membership) -> QuerySet[Rule]:
    return scoped(Rule, membership).select_related("brand").annotate(run_count=Count("runs"))


def rule_runs(*, rule: Rule, limit: int = 50) -> QuerySet[RuleRun]:
    return rule.runs.select_related("conversation")[:limit]


def auto_reply_list(*, membership) -> QuerySet[AutoReply]:
    return scoped(AutoReply, membership).select_related("brand")


def survey_settings_list(*, membership) -> QuerySet[SurveySettings]:
    return scoped(SurveySettings, membership).select_related("brand")


@dataclass
class Preview:
    checked: int
    matched: int
    examples: list  # (conversation, message or None)
    capped: bool
    days: int = PREVIEW_DAYS


def rule_preview(*, rule: Rule, membership, days: int = PREVIEW_DAYS, limit: int = PREVIEW_LIMIT) -> Preview:
    """What the rule's conditions would have matched over the last `days`: the customers' messages of that
    time for a message trigger, else the conversations active in it. Nothing is changed."""
    since = timezone.now() - timedelta(days=days)
    if rule.trigger in MESSAGE_TRIGGERS:
        messages = scoped(Message, membership).filter(direction=Message.Direction.INBOUND, sent_at__gte=since)
        if rule.brand_id:
            messages = messages.filter(conversation__brand_id=rule.brand_id)
        if rule.trigger == Trigger.MESSAGE_CLASSIFIED:
            messages = messages.exclude(classified_at=None)
        rows = list(
            messages.select_related(
                "channel",
                "conversation__brand",
                "conversation__channel",
                "conversation__customer",
                "conversation__team",
            )
            .prefetch_related("conversation__tags", "conversation__customer__identities")
            .order_by("-sent_at", "-pk")[: limit + 1]
        )
        subjects = [Subject(event=rule.trigger, conversation=m.conversation, message=m) for m in rows[:limit]]
    else:
        conversations = scoped(Conversation, membership).filter(last_message_at__gte=since)
        if rule.brand_id:
            conversations = conversations.filter(brand_id=rule.brand_id)
        if rule.trigger == Trigger.CONVERSATION_CREATED:
            conversations = conversations.filter(created_at__gte=since)
        rows = list(
            conversations.select_related("brand", "channel", "customer", "team")
            .prefetch_related("tags", "customer__identities")
            .order_by("-last_message_at", "-pk")[: limit + 1]
        )
        subjects = [Subject(event=rule.trigger, conversation=c) for c in rows[:limit]]
    test = conditions_test(rule.conditions)
    matched = [s for s in subjects if test(s)]
    return Preview(
        checked=len(subjects),
        matched=len(matched),
        examples=[(s.conversation, s.message) for s in matched[:PREVIEW_EXAMPLES]],
        capped=len(rows) > limit,
        days=days,
    )


# ------------------------------------------------------------------------------------- satisfaction

#: What the dashboard groups answers by, and the label of each group.
SURVEY_GROUPS = {
    "agent": ("agent__username", "Agent"),
    "team": ("team__name", "Team"),
    "channel": ("channel__name", "Channel"),
    "brand": ("brand__name", "Brand"),
}


def _figures(queryset) -> QuerySet:
    return queryset.annotate(
        sent=Count("pk", filter=Q(refused="")),
        answered=Count("rating"),
        average=Avg("rating"),
        satisfied=Count("pk", filter=Q(rating__gte=4)),
    )


def survey_stats(*, membership, days: int = 30, brand_id: int | None = None) -> dict:
    """Satisfaction over the last `days`: overall, by agent, team, channel and brand, and week by week.
    CSAT is the share of answers rating 4 or 5."""
    since = timezone.now() - timedelta(days=days)
    surveys = scoped(Survey, membership).filter(sent_at__gte=since)
    if brand_id:
        surveys = surveys.filter(brand_id=brand_id)
    groups = {}
    for key, (path, label) in SURVEY_GROUPS.items():
        rows = _figures(surveys.values(group=F(path))).order_by("group")
        groups[key] = {"label": label, "rows": [_with_csat(row) for row in rows]}
    weeks = _figures(surveys.annotate(week=TruncWeek("sent_at")).values("week")).order_by("week")
    total = surveys.aggregate(
        sent=Count("pk", filter=Q(refused="")),
        answered=Count("rating"),
        average=Avg("rating"),
        satisfied=Count("pk", filter=Q(rating__gte=4)),
    )
    return {
        "total": _with_csat(total),
        "groups": groups,
        "weeks": [_with_csat(row) for row in weeks],
        "days": days,
    }


#: How many of a grouping's members (agents, teams...) a chart draws: those with the most answers.
CHART_SERIES = 6


def survey_charts(*, membership, days: int = 30, brand_id: int | None = None) -> dict:
    """The dashboard's charts (static/js/dashboard.js draws them): CSAT week by week, overall and by agent,
    team, channel and brand (the members with the most answers); a week without answers is a gap."""
    since = timezone.now() - timedelta(days=days)
    answered = scoped(Survey, membership).filter(sent_at__gte=since).exclude(rating=None)
    if brand_id:
        answered = answered.filter(brand_id=brand_id)
    answered = answered.annotate(week=TruncWeek("sent_at"))
    weeks = sorted(set(answered.values_list("week", flat=True)))
    labels = [week.strftime("%b %-d") for week in weeks]

    def csat(row) -> int:
        return round(100 * row["satisfied"] / row["answered"])

    figures = {"answered": Count("pk"), "satisfied": Count("pk", filter=Q(rating__gte=4))}
    overall = {row["week"]: csat(row) for row in answered.values("week").annotate(**figures)}
    charts = {
        "csat": {
            "type": "line",
            "labels": labels,
            "datasets": [{"label": "CSAT %", "data": [overall.get(week) for week in weeks]}],
            "urls": [],
        }
    }
    for key, (path, _) in SURVEY_GROUPS.items():
        top = [
            row["group"]
            for row in answered.values(group=F(path))
            .annotate(n=Count("pk"))
            .order_by("-n", "group")[:CHART_SERIES]
        ]
        rows = answered.filter(**{f"{path}__in": [g for g in top if g is not None]})
        by_group: dict = {}
        for row in rows.values("week", group=F(path)).annotate(**figures):
            by_group.setdefault(row["group"], {})[row["week"]] = csat(row)
        charts[key] = {
            "type": "line",
            "labels": labels,
            "datasets": [
                {
                    "label": str(group),
                    "data": [by_group.get(group, {}).get(w) for w in weeks],
                    "spanGaps": True,
                }
                for group in top
                if group is not None
            ],
            "urls": [],
        }
    return charts


def _with_csat(row: dict) -> dict:
    row = dict(row)
    row["csat"] = round(100 * row["satisfied"] / row["answered"]) if row["answered"] else None
    row["response_rate"] = round(100 * row["answered"] / row["sent"]) if row["sent"] else None
    return row


def survey_latest_answers(*, membership, limit: int = 20) -> QuerySet[Survey]:
    return (
        scoped(Survey, membership)
        .exclude(rating=None)
        .select_related("conversation", "customer", "agent", "brand")
        .order_by("-answered_at")[:limit]
    )
