"""Keeping the dashboards' rollups current (see models.py for what counts for a brand).

`rollups_recompute` rebuilds whole buckets (brands × UTC days) from the raw tables; `rollups_refresh`
recomputes the buckets the database triggers marked dirty; `rollups_refresh_soon` asks a worker to do
that shortly (debounced), and the beat sweeps every minute whatever was missed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction

from .terms import STOP_WORDS, TEXT_LIMIT, TOKEN_PATTERN

LEVEL_ORDER = ["to_brand", "about_brand", "competitor", "category"]
_REFRESH_QUEUED_KEY = "analytics:rollup-refresh-queued"
# The first key of the rollups' advisory locks (the second is the brand id).
_LOCK_NAMESPACE = 0x524F4C4C

# The (message, brand) pairs of the range: the brands' own conversations' inbound messages (level
# to_brand), and inbound messages of other conversations that a relevant mention tags for one of the
# brands (the first level of LEVEL_ORDER among its mentions for that brand).
_PAIRS = """
WITH own AS (
    SELECT m.id, m.sent_at, m.channel_id, m.language, m.sentiment, m.intent, m.author_identity_id,
           m.text, c.brand_id, 'to_brand'::varchar AS level
    FROM conversations_message m JOIN conversations_conversation c ON c.id = m.conversation_id
    WHERE m.organization_id = %(organization)s AND m.sent_at >= %(start)s AND m.sent_at < %(end)s
      AND m.direction = 'inbound' AND c.brand_id = ANY(%(brands)s)
), mentioned AS (
    SELECT m.id, m.sent_at, m.channel_id, m.language, m.sentiment, m.intent, m.author_identity_id,
           m.text, x.brand_id,
           (%(levels)s::varchar[])[min(array_position(%(levels)s::varchar[], x.level::varchar))] AS level
    FROM conversations_message m
    JOIN conversations_conversation c ON c.id = m.conversation_id
    JOIN listening_mention x ON x.message_id = m.id
    WHERE m.organization_id = %(organization)s AND m.sent_at >= %(start)s AND m.sent_at < %(end)s
      AND m.direction = 'inbound' AND x.brand_id = ANY(%(brands)s) AND x.brand_id <> c.brand_id
      AND x.relevant IS NOT FALSE
    GROUP BY m.id, x.brand_id
), pairs AS (SELECT * FROM own UNION ALL SELECT * FROM mentioned)
"""

_DELETE = {
    "analytics_messagehourly": "hour",
    "analytics_messagedaily": "day",
    "analytics_intentdaily": "day",
    "analytics_voicedaily": "day",
    "analytics_termdaily": "day",
    "analytics_authordaily": "day",
    "analytics_conversationtiming": "started_at",
}

# Every rollup that counts pairs is filled by one statement, so the pairs (a scan of the range's messages
# with their mentions, and the tokenising) are computed once per recompute: data-modifying CTEs.
_INSERT_PAIR_ROLLUPS = f"""{_PAIRS}
, hourly AS (
    INSERT INTO analytics_messagehourly
        (organization_id, brand_id, hour, channel_id, language, level, sentiment, intent, messages)
    SELECT %(organization)s, brand_id, date_trunc('hour', sent_at, 'UTC'), channel_id, language, level,
           sentiment, intent, count(*)
    FROM pairs GROUP BY 2, 3, 4, 5, 6, 7, 8
), daily AS (
    INSERT INTO analytics_messagedaily
        (organization_id, brand_id, day, channel_id, language, level, sentiment, messages)
    SELECT %(organization)s, brand_id, (sent_at AT TIME ZONE 'UTC')::date, channel_id, language, level,
           sentiment, count(*)
    FROM pairs GROUP BY 2, 3, 4, 5, 6, 7
), intents AS (
    INSERT INTO analytics_intentdaily
        (organization_id, brand_id, day, channel_id, language, level, intent, messages)
    SELECT %(organization)s, brand_id, (sent_at AT TIME ZONE 'UTC')::date, channel_id, language, level,
           intent, count(*)
    FROM pairs GROUP BY 2, 3, 4, 5, 6, 7
), voice AS (
    INSERT INTO analytics_voicedaily
        (organization_id, brand_id, day, channel_id, language, competitor, messages)
    SELECT %(organization)s, brand_id, (sent_at AT TIME ZONE 'UTC')::date, channel_id, language, '', count(*)
    FROM pairs WHERE level IN ('to_brand', 'about_brand') GROUP BY 2, 3, 4, 5
    UNION ALL
    SELECT %(organization)s, x.brand_id, (m.sent_at AT TIME ZONE 'UTC')::date, m.channel_id, m.language,
           x.competitor, count(*)
    FROM listening_mention x JOIN conversations_message m ON m.id = x.message_id
    WHERE m.organization_id = %(organization)s AND m.sent_at >= %(start)s AND m.sent_at < %(end)s
      AND m.direction = 'inbound' AND x.brand_id = ANY(%(brands)s) AND x.level = 'competitor'
      AND x.competitor <> '' AND x.relevant IS NOT FALSE
    GROUP BY 2, 3, 4, 5, 6
), authors AS (
    INSERT INTO analytics_authordaily
        (organization_id, brand_id, day, channel_id, language, level, identity_id, followers, messages)
    SELECT %(organization)s, p.brand_id, (p.sent_at AT TIME ZONE 'UTC')::date, p.channel_id, p.language,
           p.level, p.author_identity_id, i.followers, count(*)
    FROM pairs p JOIN customers_identity i ON i.id = p.author_identity_id GROUP BY 2, 3, 4, 5, 6, 7, 8
), terms AS (
    -- Each message's distinct kept tokens, and its phrases: two kept words (not hashtags) side by side.
    SELECT p.brand_id, (p.sent_at AT TIME ZONE 'UTC')::date AS day, p.channel_id, p.language, p.level, t.term
    FROM pairs p, LATERAL (
        SELECT DISTINCT v.term
        FROM (
            SELECT token, kept, lead(token) OVER (ORDER BY n) AS next_token,
                   lead(kept) OVER (ORDER BY n) AS next_kept
            FROM (
                SELECT r.m[1] AS token, r.n,
                       r.m[1] NOT LIKE '@%%' AND length(ltrim(r.m[1], '#')) BETWEEN 2 AND 60
                       AND r.m[1] !~ '^#?[0-9]+$' AND r.m[1] <> ALL(%(stop_words)s) AS kept
                FROM regexp_matches(lower(left(p.text, {TEXT_LIMIT})), '{TOKEN_PATTERN}', 'g')
                     WITH ORDINALITY AS r(m, n)
            ) k
        ) w, LATERAL (VALUES
            (CASE WHEN kept THEN token END),
            (CASE WHEN kept AND next_kept AND token NOT LIKE '#%%' AND next_token NOT LIKE '#%%'
                       AND length(token) + length(next_token) < 60 THEN token || ' ' || next_token END)
        ) v(term)
        WHERE v.term IS NOT NULL
    ) t
)
INSERT INTO analytics_termdaily
    (organization_id, brand_id, day, channel_id, language, level, term, is_hashtag, messages)
SELECT %(organization)s, brand_id, day, channel_id, language, level, term, term LIKE '#%%', count(*)
FROM terms
GROUP BY 2, 3, 4, 5, 6, 7
"""

# Conversations of the brands whose first inbound message falls in the range. A first response dated
# before that message (the brand wrote first) is not a response time; a resolution counts while the
# conversation is closed.
_UPSERT_TIMINGS = """
WITH touched AS (
    SELECT DISTINCT conversation_id FROM conversations_message
    WHERE organization_id = %(organization)s AND sent_at >= %(start)s AND sent_at < %(end)s
      AND direction = 'inbound'
), started AS (
    SELECT m.conversation_id, min(m.sent_at) AS started_at
    FROM conversations_message m JOIN touched USING (conversation_id)
    WHERE m.direction = 'inbound' GROUP BY m.conversation_id
)
INSERT INTO analytics_conversationtiming (conversation_id, organization_id, brand_id, started_at, channel_id,
    language, team_id, first_response_seconds, resolution_seconds)
SELECT c.id, c.organization_id, c.brand_id, s.started_at, c.channel_id, c.language, c.team_id,
       CASE WHEN c.first_response_at >= s.started_at
            THEN floor(extract(epoch FROM c.first_response_at - s.started_at))::int END,
       CASE WHEN c.status = 'closed' AND c.resolved_at >= s.started_at
            THEN floor(extract(epoch FROM c.resolved_at - s.started_at))::int END
FROM started s JOIN conversations_conversation c ON c.id = s.conversation_id
WHERE s.started_at >= %(start)s AND s.started_at < %(end)s AND c.brand_id = ANY(%(brands)s)
ON CONFLICT (conversation_id) DO UPDATE SET
    organization_id = EXCLUDED.organization_id, brand_id = EXCLUDED.brand_id,
    started_at = EXCLUDED.started_at, channel_id = EXCLUDED.channel_id, language = EXCLUDED.language,
    team_id = EXCLUDED.team_id, first_response_seconds = EXCLUDED.first_response_seconds,
    resolution_seconds = EXCLUDED.resolution_seconds
"""


def day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def rollups_recompute(
    *, organization_id: int, brand_ids: Iterable[int], first_day: date, last_day: date
) -> None:
    """Rebuild every rollup of the brands for the UTC days first_day..last_day (inclusive) from the raw
    messages, mentions and conversations, in one transaction: readers see the old rows or the new ones."""
    params = {
        "organization": organization_id,
        "brands": list(brand_ids),
        "start": day_start(first_day),
        "end": day_start(last_day + timedelta(days=1)),
        "levels": LEVEL_ORDER,
        "stop_words": sorted(STOP_WORDS),
    }
    with transaction.atomic(), connection.cursor() as cursor:
        # Derived rows: a crash that loses this commit loses the dirty marks' deletion with it.
        cursor.execute("SET LOCAL synchronous_commit = off")
        _lock_brands(cursor, params["brands"])
        for table, column in _DELETE.items():
            cursor.execute(
                f"DELETE FROM {table} WHERE brand_id = ANY(%(brands)s) "
                f"AND {column} >= %(start)s AND {column} < %(end)s",
                params,
            )
        for statement in (_INSERT_PAIR_ROLLUPS, _UPSERT_TIMINGS):
            cursor.execute(statement, params)


def _lock_brands(cursor, brand_ids: Iterable[int]) -> None:
    """Two recomputes of one brand run one after the other, until the first commits: otherwise the second's
    DELETE would not see the rows the first inserted, and both sets would stay. Taken in ascending order
    (and again, harmlessly, by each recompute) so that two workers never wait on each other in a cycle."""
    for brand_id in sorted(set(brand_ids)):
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_LOCK_NAMESPACE, brand_id])


def rollups_refresh(*, batch: int = 5000) -> int:
    """Recompute the buckets marked dirty, a batch at a time, until none is left; returns how many
    (brand, day) buckets it recomputed. Workers may run it side by side: each takes rows the others have
    not locked, and a row marked while it ran stays for the next pass."""
    done = 0
    while True:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                """SELECT d.id, d.brand_id, d.day, b.organization_id FROM analytics_dirtybucket d
                   LEFT JOIN accounts_brand b ON b.id = d.brand_id
                   ORDER BY d.id LIMIT %s FOR UPDATE OF d SKIP LOCKED""",
                [batch],
            )
            rows = cursor.fetchall()
            if not rows:
                return done
            buckets: dict[tuple[int, date], set[int]] = defaultdict(set)
            for _, brand_id, day, organization_id in rows:
                if organization_id is not None:  # a deleted brand: its rollups went with it
                    buckets[(organization_id, day)].add(brand_id)
            _lock_brands(cursor, [brand for brands in buckets.values() for brand in brands])
            for (organization_id, day), brand_ids in sorted(buckets.items()):
                rollups_recompute(
                    organization_id=organization_id, brand_ids=sorted(brand_ids), first_day=day, last_day=day
                )
                done += len(brand_ids)
            cursor.execute("DELETE FROM analytics_dirtybucket WHERE id = ANY(%s)", [[row[0] for row in rows]])


def rollups_refresh_started() -> None:
    """The queued refresh has started: writes from now on need a refresh of their own."""
    cache.delete(_REFRESH_QUEUED_KEY)


def rollups_refresh_after_stored(messages) -> None:
    """New messages are stored (the messages_stored hook): the dashboards count them within seconds."""
    rollups_refresh_soon()


def rollups_refresh_after_classified(event: str, messages) -> None:
    """Labels written (messages_changed "message.classified"): the sentiment and intent figures follow within
    seconds too, not at the next beat (a refresh asked on arrival may run before the classifier is done)."""
    if event == "message.classified":
        rollups_refresh_soon()


def rollups_refresh_soon() -> None:
    """Ask a worker to refresh the rollups in a few seconds; requests in between ride on the same task."""
    from .tasks import refresh_rollups_task

    # A queued refresh stands for every later request until it starts (the debounce).
    delay = settings.ROLLUP_REFRESH_DELAY_SECONDS
    if cache.add(_REFRESH_QUEUED_KEY, 1, timeout=delay):
        refresh_rollups_task.apply_async(countdown=delay)


def rollups_rebuild(*, organization_id: int, days_per_step: int = 7, progress=None) -> int:
    """Rebuild all rollups of an organisation from its messages (a backfill), `days_per_step` days per
    transaction; `progress(days)` is called after each step. Returns the number of days rebuilt."""
    from apps.accounts.models import Brand
    from apps.conversations.models import Message

    brand_ids = list(Brand.objects.filter(organization_id=organization_id).values_list("pk", flat=True))
    span = Message.objects.filter(organization_id=organization_id, direction="inbound").values_list(
        "sent_at", flat=True
    )
    first, last = span.order_by("sent_at").first(), span.order_by("-sent_at").first()
    if not brand_ids or first is None:
        return 0
    day, last_day = first.astimezone(UTC).date(), last.astimezone(UTC).date()
    total = (last_day - day).days + 1
    while day <= last_day:
        until = min(day + timedelta(days=days_per_step - 1), last_day)
        rollups_recompute(organization_id=organization_id, brand_ids=brand_ids, first_day=day, last_day=until)
        if progress:
            progress((until - day).days + 1)
        day = until + timedelta(days=1)
    return total
