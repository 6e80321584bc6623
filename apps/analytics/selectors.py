"""The dashboards' figures, read from the rollups (models.py says what counts for a brand).

Every figure takes the same filters: the membership (tenant and brand scoping), one brand, a range of
UTC days `since`..`until` (both included), and optionally a channel id, a language and a listening level.
Share of voice ignores the level (it is itself a split by level); response times ignore it too (they
belong to conversations, not to mentions) and filter on the conversation's channel and language.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from django.db import connection
from django.db.models import (
    Aggregate,
    Case,
    Count,
    Exists,
    FloatField,
    IntegerField,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce

from apps.accounts.models import Team
from apps.accounts.tenancy import scoped
from apps.connectors.models import Channel
from apps.conversations.models import Message, NeedsReply
from apps.core.db import local_settings
from apps.listening.models import Mention

from .models import (
    AuthorDaily,
    ConversationTiming,
    IntentDaily,
    MessageDaily,
    MessageHourly,
    TermDaily,
    VoiceDaily,
)
from .services import LEVEL_ORDER, day_start
from .trends import BASELINE_DAYS, MIN_COUNT, MIN_SCORE, Trend, emerging

#: Ranges up to this many days are drawn per hour; longer ones per day.
HOURLY_UP_TO_DAYS = 3


@dataclass(frozen=True)
class Filters:
    """One dashboard's filters: what the page, its CSV exports and its drill-downs share."""

    brand_id: int
    since: date
    until: date
    channel_id: int | None = None
    language: str = ""
    level: str = ""

    @property
    def start(self) -> datetime:
        return day_start(self.since)

    @property
    def end(self) -> datetime:
        return day_start(self.until + timedelta(days=1))

    @property
    def hourly(self) -> bool:
        return (self.until - self.since).days + 1 <= HOURLY_UP_TO_DAYS


class PercentileDisc(Aggregate):
    """The smallest value whose share of the ordered values reaches `fraction` (nearest rank): always one
    of the values, so the figure can be checked by hand."""

    function = "percentile_disc"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, expression, fraction: float, **extra):
        super().__init__(expression, fraction=float(fraction), **extra)


def _rollup(model, membership, filters: Filters, *, level: bool = True) -> QuerySet:
    """The rollup's rows for the brand, the range and the filters, scoped to the membership."""
    rows = scoped(model, membership).filter(brand_id=filters.brand_id)
    if model is MessageHourly:
        rows = rows.filter(hour__gte=filters.start, hour__lt=filters.end)
    elif model is ConversationTiming:
        rows = rows.filter(started_at__gte=filters.start, started_at__lt=filters.end)
    else:
        rows = rows.filter(day__gte=filters.since, day__lte=filters.until)
    if filters.channel_id is not None:
        rows = rows.filter(channel_id=filters.channel_id)
    if filters.language:
        rows = rows.filter(language=filters.language)
    if level and filters.level:
        rows = rows.filter(level=filters.level)
    return rows


def _axis(filters: Filters) -> list[datetime]:
    step = timedelta(hours=1) if filters.hourly else timedelta(days=1)
    moments, moment = [], filters.start
    while moment < filters.end:
        moments.append(moment)
        moment += step
    return moments


def _messages(membership, filters: Filters, *, intent: bool = False) -> QuerySet:
    """The message rollup that answers the range: hourly for short ranges, daily (by sentiment, or by
    intent for the intent breakdown) for the others."""
    if filters.hourly:
        return _rollup(MessageHourly, membership, filters)
    return _rollup(IntentDaily if intent else MessageDaily, membership, filters)


def _per_period(rows: QuerySet, filters: Filters, *columns: str):
    """(period start, *columns, messages) rows: per hour or per UTC day."""
    period = "hour" if filters.hourly else "day"
    grouped = rows.values(period, *columns).annotate(n=Sum("messages")).values_list(period, *columns, "n")
    if filters.hourly:
        return list(grouped)
    return [(day_start(day), *rest) for day, *rest in grouped]


def volume_total(*, membership, filters: Filters) -> int:
    return _messages(membership, filters).aggregate(n=Coalesce(Sum("messages"), 0))["n"]


def volume_over_time(*, membership, filters: Filters) -> list[tuple[datetime, int]]:
    """The brand's messages per hour (ranges up to HOURLY_UP_TO_DAYS days) or per UTC day, zeros included."""
    counts = dict(_per_period(_messages(membership, filters), filters))
    return [(moment, counts.get(moment, 0)) for moment in _axis(filters)]


def sentiment_trend(*, membership, filters: Filters) -> dict[str, list[tuple[datetime, int]]]:
    """Per sentiment ("" = not classified yet), the messages per hour or day, zeros included."""
    counts: dict[str, dict[datetime, int]] = {}
    for moment, sentiment, n in _per_period(_messages(membership, filters), filters, "sentiment"):
        counts.setdefault(sentiment, {})[moment] = n
    axis = _axis(filters)
    return {
        sentiment: [(moment, by_moment.get(moment, 0)) for moment in axis]
        for sentiment, by_moment in sorted(counts.items())
    }


def _breakdown(membership, filters: Filters, column: str) -> list[tuple[str, int]]:
    return list(
        _messages(membership, filters, intent=column == "intent")
        .values(column)
        .annotate(n=Sum("messages"))
        .order_by("-n", column)
        .values_list(column, "n")
    )


def intent_breakdown(*, membership, filters: Filters) -> list[tuple[str, int]]:
    """(intent, messages), most first; "" = not classified yet."""
    return _breakdown(membership, filters, "intent")


def language_mix(*, membership, filters: Filters) -> list[tuple[str, int]]:
    """(language, messages), most first; "" = not detected."""
    return _breakdown(membership, filters, "language")


def level_mix(*, membership, filters: Filters) -> list[tuple[str, int]]:
    """(listening level, messages), most first."""
    return _breakdown(membership, filters, "level")


def channel_mix(*, membership, filters: Filters) -> list[dict]:
    """Per channel: id, name, kind and messages, most first."""
    counts = list(
        _messages(membership, filters)
        .values("channel_id")
        .annotate(messages=Sum("messages"))
        .order_by("-messages", "channel_id")
        .values_list("channel_id", "messages")
    )
    # Named after aggregating: joining the channel to every rollup row first costs more than the sums.
    names = {
        pk: (name, kind)
        for pk, name, kind in scoped(Channel, membership)
        .filter(pk__in=[pk for pk, _ in counts])
        .values_list("pk", "name", "kind")
    }
    return [
        {
            "channel_id": pk,
            "name": names.get(pk, ("", ""))[0],
            "kind": names.get(pk, ("", ""))[1],
            "messages": n,
        }
        for pk, n in counts
    ]


def share_of_voice(*, membership, filters: Filters) -> list[tuple[str, int]]:
    """(competitor, messages): "" is the brand itself (messages to or about it), then each competitor
    named by a competitor-level mention; most first."""
    return list(
        _rollup(VoiceDaily, membership, filters, level=False)
        .values("competitor")
        .annotate(n=Sum("messages"))
        .order_by("-n", "competitor")
        .values_list("competitor", "n")
    )


def top_terms(*, membership, filters: Filters, hashtags: bool = False, limit: int | None = 20) -> QuerySet:
    """(term, messages containing it), most first; hashtags or words (phrases are the trends'). `limit=None`
    gives them all."""
    rows = (
        _rollup(TermDaily, membership, filters)
        .filter(is_hashtag=hashtags)
        .exclude(term__contains=" ")
        .values("term")
        .annotate(n=Sum("messages"))
        .order_by("-n", "term")
        .values_list("term", "n")
    )
    return rows[:limit] if limit else rows


def _trends(rows: QuerySet, *, day: date, first_day: date | None, min_count: int, min_score: float):
    """trends.emerging() over TermDaily rows of one brand: `day` against the days before it."""
    if first_day is None:
        return []
    baseline_days = min(BASELINE_DAYS, (day - first_day).days)
    counts = (
        rows.filter(day__gte=day - timedelta(days=max(baseline_days, 0)), day__lte=day)
        .values("language", "term")
        .annotate(
            recent=Coalesce(Sum("messages", filter=Q(day=day)), 0),
            baseline=Coalesce(Sum("messages", filter=Q(day__lt=day)), 0),
        )
        .filter(recent__gte=min_count)
        .values_list("language", "term", "recent", "baseline")
    )
    return emerging(counts, baseline_days=baseline_days, min_count=min_count, min_score=min_score)


def emerging_terms(*, membership, filters: Filters, limit: int | None = 20) -> list[Trend]:
    """The terms, phrases and hashtags emerging on the range's last day (trends.py), in each language, for
    the dashboard's channel, language and level."""
    history = replace(filters, since=date.min)
    first_day = _rollup(MessageDaily, membership, history).aggregate(first=Min("day"))["first"]
    rows = _rollup(TermDaily, membership, history)
    found = _trends(rows, day=filters.until, first_day=first_day, min_count=MIN_COUNT, min_score=MIN_SCORE)
    return found[:limit] if limit else found


def brand_emerging_terms(*, brand_id: int, day: date, min_count: int, min_score: float) -> list[Trend]:
    """emerging_terms() of a whole brand, for the alerts. Not scoped to a membership: callers are workers."""
    first_day = MessageDaily.objects.filter(brand_id=brand_id).aggregate(first=Min("day"))["first"]
    rows = TermDaily.objects.filter(brand_id=brand_id)
    return _trends(rows, day=day, first_day=first_day, min_count=min_count, min_score=min_score)


AUTHOR_COLUMNS = [
    "identity_id",
    "messages",
    "handle",
    "display_name",
    "kind",
    "followers",
    "verified",
    "customer_id",
]
_AUTHOR_ORDER = {
    "messages": "messages DESC, followers DESC, identity_id",
    "followers": "followers DESC, messages DESC, identity_id",
}


def _author_totals(membership, filters: Filters) -> tuple[str, tuple]:
    """SQL of a `totals` CTE: the authors of the range with their messages and followers (the largest count
    the range's rollup rows recorded: each row's is the identity's when its bucket was last recomputed)."""
    aggregated = (
        _rollup(AuthorDaily, membership, filters)
        .values("identity_id")
        .annotate(messages=Sum("messages"), followers=Max("followers"))
    )
    sql, params = aggregated.order_by().query.sql_with_params()
    return f"WITH totals AS MATERIALIZED ({sql})", params


# The authors' rows with their identity's names, followers from the rollup.
_AUTHOR_ROWS = """SELECT t.identity_id, t.messages, i.handle, i.display_name, i.kind, t.followers, i.verified,
        i.customer_id
    FROM totals t JOIN customers_identity i ON i.id = t.identity_id"""


def _author_key(by: str):
    """The Python sort key of _AUTHOR_ORDER[by] for rows as dicts."""
    if by == "messages":
        return lambda row: (-row["messages"], -row["followers"], row["identity_id"])
    return lambda row: (-row["followers"], -row["messages"], row["identity_id"])


def top_authors(
    *, membership, filters: Filters, by: str = "messages", limit: int | None = 20
) -> Iterator[dict]:
    """The authors of the brand's messages with their message count and followers: the most active
    (`by="messages"`) or the most influential (`by="followers"`, their follower count as the rollups
    recorded it, see `_author_totals`). With `limit=None`, every author, read in chunks by a server-side
    cursor (the CSV export)."""
    sql, params = _author_totals(membership, filters)
    sql = f"{sql} SELECT * FROM ({_AUTHOR_ROWS}) authors ORDER BY {_AUTHOR_ORDER[by]}"
    if limit:
        sql, params = f"{sql} LIMIT %s", (*params, limit)
    with connection.chunked_cursor() as cursor:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(2000):
            for row in rows:
                yield dict(zip(AUTHOR_COLUMNS, row, strict=True))


def author_leaders(*, membership, filters: Filters, limit: int = 20) -> tuple[list[dict], list[dict]]:
    """top_authors(by="messages") and top_authors(by="followers") for the page, from one aggregation of the
    range's author rows (the costliest figure: a row per author and day); only the leaders are joined to
    their identities."""
    sql, params = _author_totals(membership, filters)
    with _figure_memory(), connection.cursor() as cursor:
        cursor.execute(
            f"""{sql}, leaders AS (
                    (SELECT 'messages' AS by, * FROM totals ORDER BY {_AUTHOR_ORDER["messages"]} LIMIT %s)
                    UNION ALL
                    (SELECT 'followers', * FROM totals ORDER BY {_AUTHOR_ORDER["followers"]} LIMIT %s))
                SELECT t.by, t.identity_id, t.messages, i.handle, i.display_name, i.kind, t.followers,
                       i.verified, i.customer_id
                FROM leaders t JOIN customers_identity i ON i.id = t.identity_id""",
            [*params, limit, limit],
        )
        rows = cursor.fetchall()
    leaders: dict[str, list[dict]] = {"messages": [], "followers": []}
    for by, *values in rows:
        leaders[by].append(dict(zip(AUTHOR_COLUMNS, values, strict=True)))
    return (
        sorted(leaders["messages"], key=_author_key("messages")),
        sorted(leaders["followers"], key=_author_key("followers")),
    )


#: Sorting a year of a brand's conversations (or hashing a year of its authors) in memory instead of in
#: temporary files: the default work_mem (4 MB) spills these figures to disk.
FIGURE_WORK_MEM = "64MB"


def _figure_memory():
    """A block whose queries may sort and hash FIGURE_WORK_MEM in memory (only there)."""
    return local_settings(work_mem=FIGURE_WORK_MEM)


def response_times(*, membership, filters: Filters, by: str) -> list[dict]:
    """First-response and resolution times in seconds, median and 90th percentile (nearest rank), per
    team (`by="team"`; None = no team) or per channel (`by="channel"`), for the conversations that started
    in the range. `conversations` counts them all; each time counts those that have it."""
    key, model = {"team": ("team_id", Team), "channel": ("channel_id", Channel)}[by]
    with _figure_memory():
        rows = list(
            _rollup(ConversationTiming, membership, filters, level=False)
            .values(key)
            .annotate(
                conversations=Count("*"),  # not the key: the covering index lacks it
                responded=Count("first_response_seconds"),
                first_response_median=PercentileDisc("first_response_seconds", 0.5),
                first_response_p90=PercentileDisc("first_response_seconds", 0.9),
                resolved=Count("resolution_seconds"),
                resolution_median=PercentileDisc("resolution_seconds", 0.5),
                resolution_p90=PercentileDisc("resolution_seconds", 0.9),
            )
            .order_by(key)
        )
    names = dict(scoped(model, membership).filter(pk__in=[r[key] for r in rows]).values_list("pk", "name"))
    for row in rows:
        row["name"] = names.get(row[key], "")
    return sorted(rows, key=lambda row: (row["name"] == "", row["name"], row[key] or 0))


def brand_messages(*, membership, filters: Filters) -> QuerySet[Message]:
    """The raw inbound messages behind the figures (the same pairs as the rollups), oldest first, with
    `pair_level` annotated: for the messages CSV."""
    brand_mentions = Mention.objects.filter(brand_id=filters.brand_id).exclude(relevant=False)
    rank = _level_rank("level")
    first_level = brand_mentions.filter(message_id=OuterRef("pk")).annotate(rank=rank).order_by("rank")
    rows = (
        scoped(Message, membership)
        .filter(direction=Message.Direction.INBOUND, sent_at__gte=filters.start, sent_at__lt=filters.end)
        .filter(
            Q(conversation__brand_id=filters.brand_id)
            | Q(Exists(brand_mentions.filter(message_id=OuterRef("pk"))))
        )
        .annotate(
            pair_level=Case(
                When(conversation__brand_id=filters.brand_id, then=Value("to_brand")),
                default=Subquery(first_level.values("level")[:1]),
            )
        )
    )
    if filters.channel_id is not None:
        rows = rows.filter(channel_id=filters.channel_id)
    if filters.language:
        rows = rows.filter(language=filters.language)
    if filters.level:
        rows = rows.filter(pair_level=filters.level)
    return rows.order_by("sent_at", "pk")


def _level_rank(field: str):
    return Case(
        *[When(**{field: level}, then=Value(rank)) for rank, level in enumerate(LEVEL_ORDER)],
        output_field=IntegerField(),
    )


def brand_hourly_counts(
    *, brand_id: int, since: datetime, until: datetime
) -> list[tuple[datetime, int, int]]:
    """(hour, messages, negative messages) for one brand's hours from `since` to before `until`, hours
    without messages left out: for the alerts. Not scoped to a membership: callers are the workers."""
    rows = (
        MessageHourly.objects.filter(brand_id=brand_id, hour__gte=since, hour__lt=until)
        .values("hour")
        .annotate(
            total=Sum("messages"), negative=Coalesce(Sum("messages", filter=Q(sentiment="negative")), 0)
        )
        .order_by("hour")
    )
    return [(row["hour"], row["total"], row["negative"]) for row in rows]


def needs_reply_figures(*, membership, filters: Filters) -> dict:
    """The triage of the brand's inbound messages in the range: how many each decision gave (what "optional"
    and "no_reply" held back from the agents' "Needs reply" view), and how often agents overruled it (one
    click changed the decision the model gave). Read from the messages (an index range of the brand's
    conversations' messages), not from a rollup: the panel is fetched after the page."""
    from django.db.models import Count, Q
    from django.db.models.fields.json import KT

    rows = scoped(Message, membership).filter(
        conversation__brand_id=filters.brand_id,
        direction=Message.Direction.INBOUND,
        sent_at__gte=filters.start,
        sent_at__lt=filters.end,
    )
    if filters.channel_id is not None:
        rows = rows.filter(channel_id=filters.channel_id)
    if filters.language:
        rows = rows.filter(language=filters.language)
    overruled = Q(classification__needs_reply__corrected=True) & ~Q(
        needs_reply=KT("classification__needs_reply__predicted")
    )
    counts = {
        row["needs_reply"]: row
        for row in rows.values("needs_reply")
        .annotate(n=Count("pk"), overruled=Count("pk", filter=overruled))
        .order_by()
    }
    decisions = [
        (value, label, counts.get(value, {}).get("n", 0), counts.get(value, {}).get("overruled", 0))
        for value, label in NeedsReply.choices
    ]
    triaged = sum(n for _, _, n, _ in decisions)
    held_back = sum(n for value, _, n, _ in decisions if value != NeedsReply.REPLY)
    overruled_total = sum(o for *_, o in decisions)
    return {
        "decisions": decisions,
        "waiting": counts.get("", {}).get("n", 0),
        "triaged": triaged,
        "held_back": held_back,
        "held_back_share": held_back / triaged if triaged else 0.0,
        "overruled": overruled_total,
        "overruled_share": overruled_total / triaged if triaged else 0.0,
    }
