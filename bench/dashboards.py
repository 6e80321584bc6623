"""The dashboards at 10,000,000 messages: each figure's query on the rollups and the whole page (p50/p95),
printed next to the bare aggregate SQL of the same figure over the raw tables, measured in the same run.

- Data: one organisation, 4 brands with 3 channels each, 5 teams; MESSAGES / 5 conversations over the
  last 365 days, each with 4 inbound messages (short texts from a small vocabulary with hashtags, labels,
  a heavy-tailed mix of authors with followers) and 1 reply; response and resolution times; listening
  mentions (5 % of inbound messages name a rival, 5 % are about another brand of the organisation). Built
  with INSERT … SELECT generate_series in a database of its own, then VACUUM ANALYZE.
- Rollups: `rollups_rebuild` over the whole organisation, timed (the backfill `manage.py rebuild_rollups`
  runs).
- Measured for brand 1, over the last 30 and 365 days, unfiltered, on one channel, and on one language
  and listening level: each figure's selector (REPEAT runs), GET /dashboards/ and GET of each of its
  panels (/dashboards/panel/<name>/, fetched by the page after its first paint) as the server computes
  them (REPEAT runs, logged in as a marketer), next to the same figures computed by bare SQL over the raw
  messages, mentions and conversations (the rollups' own definition; RAW_REPEAT runs).

`python3 dev.py bench dashboards.py [--messages N] [--keep] [--days 30,365]`: --messages sets the size
(default 10,000,000; 1,000,000 for a quick run); --keep keeps the database and measures it again on the
next run with --keep and the same size, without building it (migrating it first: see `migrate_kept`);
--days picks the ranges measured.
"""

from __future__ import annotations

import logging
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from inbox import _insert_select, _setup_django, bulk_load  # noqa: E402
from inbox import own_database as shared_own_database  # noqa: E402


def _option(name: str, default: str) -> str:
    arguments = sys.argv[1:]
    for n, argument in enumerate(arguments):
        if argument == name and n + 1 < len(arguments):
            return arguments[n + 1]
        if argument.startswith(f"{name}="):
            return argument.split("=", 1)[1]
    return default


MESSAGES = int(_option("--messages", "10000000").replace("_", "").replace(",", ""))
KEEP = "--keep" in sys.argv[1:]
CONVERSATIONS = max(MESSAGES // 5, 1)
CUSTOMERS = max(CONVERSATIONS // 4, 1)
BRANDS, CHANNELS_PER_BRAND, TEAMS = 4, 3, 5
REPEAT, RAW_REPEAT = 15, (2 if MESSAGES <= 2_000_000 else 1)
AIM_P95_MS = 300
DAYS = [int(days) for days in _option("--days", "30,365").split(",")]
ROLLUP_TABLES = [
    "messagehourly",
    "messagedaily",
    "intentdaily",
    "voicedaily",
    "termdaily",
    "authordaily",
    "conversationtiming",
]
DATABASE = f"cxm_bench_dashboards_{MESSAGES}"
WORDS = (  # noqa: SIM905 (a block of words reads better than a list literal)
    "refund delivery broken screen love battery support price late app order parcel courier charger "
    "update crash login password invoice discount store warranty signal coverage roaming plan upgrade "
    "camera speaker cable replacement tracking return exchange fast slow great terrible helpful rude"
).split()
HASHTAGS = ["#fail", "#love", "#5g", "#deal", "#help", "#unboxing", "#service", "#fast"]
LANGUAGES = ["en"] * 8 + ["es"] * 3 + ["pt"] * 2 + ["fr", "de", "it", "ja"]
SENTIMENTS = ["negative", "neutral", "neutral", "positive", ""]
INTENTS = ["complaint", "question", "praise", "purchase", "cancellation", "other"]


def own_database():
    return shared_own_database(DATABASE, keep=KEEP)


# ------------------------------------------------------------------ data


def build() -> None:
    from django.db import connection, transaction

    from apps.accounts.models import Brand, Organization, Role, Team
    from apps.accounts.services import member_add
    from apps.connectors.kinds import ChannelKind
    from apps.connectors.models import Channel
    from apps.conversations.models import Conversation, Message
    from apps.customers.models import Customer, Identity
    from apps.listening.models import Mention

    organization = Organization.objects.create(name="Bench dashboards", slug="bench-dashboards")
    brands = [
        Brand.objects.create(
            organization=organization,
            name=f"Brand {n}",
            slug=f"brand-{n}",
            competitors=["Rival A", "Rival B"],
        )
        for n in range(1, BRANDS + 1)
    ]
    kinds = [ChannelKind.EMAIL, ChannelKind.X, ChannelKind.INSTAGRAM][:CHANNELS_PER_BRAND]
    channels = [
        Channel.objects.create(organization=organization, brand=brand, kind=kind, name=f"{brand.name} {kind}")
        for brand in brands
        for kind in kinds
    ]
    teams = [Team.objects.create(organization=organization, name=f"Team {n}") for n in range(TEAMS)]
    member_add(organization=organization, username="bench-marketer", role=Role.MARKETER, password="x" * 12)
    params = {
        "organization": organization.pk,
        "conversations": CONVERSATIONS,
        "customers": CUSTOMERS,
        "channels": [c.pk for c in channels],
        "channel_brands": [c.brand_id for c in channels],
        "brands": [b.pk for b in brands],
        "teams": [t.pk for t in teams],
        "words": WORDS,
        "hashtags": HASHTAGS,
        "languages": LANGUAGES,
        "sentiments": SENTIMENTS,
        "intents": INTENTS,
    }
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT setseed(0.42)")
        with bulk_load(cursor, [Customer, Identity, Conversation, Message, Mention]):
            _insert_select(
                cursor,
                Customer,
                {
                    "organization_id": "%(organization)s",
                    "display_name": "'Customer ' || n",
                    "created_at": "now()",
                    "updated_at": "now()",
                },
                "FROM generate_series(1, %(customers)s) AS n",
                params,
            )
            _insert_select(
                cursor,
                Identity,
                {
                    "organization_id": "%(organization)s",
                    "customer_id": "c.id",
                    "kind": "'x'",
                    "external_id": "'bench-' || c.id",
                    "handle": "'@fan' || c.id",
                    "display_name": "c.display_name",
                    # Heavy-tailed reach: most have a few hundred followers, a few have millions.
                    "followers": "floor(100 / (random() + 0.0001))::int",
                    "first_seen_at": "now()",
                    "last_seen_at": "now()",
                },
                "FROM customers_customer c WHERE c.organization_id = %(organization)s",
                params,
            )
            cursor.execute(
                "SELECT array_agg(id ORDER BY id) FROM customers_customer "
                "WHERE organization_id = %(organization)s",
                params,
            )
            params["customer_ids"] = cursor.fetchone()[0]
            cursor.execute(
                "SELECT array_agg(id ORDER BY id) FROM customers_identity "
                "WHERE organization_id = %(organization)s",
                params,
            )
            params["identity_ids"] = cursor.fetchone()[0]
            _insert_select(
                cursor,
                Conversation,
                {
                    "organization_id": "%(organization)s",
                    "channel_id": "(%(channels)s::bigint[])[1 + n %% 12]",
                    "brand_id": "(%(channel_brands)s::bigint[])[1 + n %% 12]",
                    # Skewed: a few customers (authors) write many conversations, most write one or two.
                    "customer_id": "(%(customer_ids)s::bigint[])"
                    f"[1 + floor({CUSTOMERS} * random() ^ 3)::int]",
                    "status": "CASE WHEN d.closed THEN 'closed' ELSE 'open' END",
                    "team_id": "CASE WHEN n %% 7 = 0 THEN NULL "
                    f"ELSE (%(teams)s::bigint[])[1 + n %% {TEAMS}] END",
                    "created_at": "d.start",
                    "updated_at": "d.start",
                    "last_message_at": "d.start + interval '68 minutes'",
                    "first_response_at": "CASE WHEN random() < 0.9 "
                    "THEN d.start + make_interval(secs => 60 + 86400 * random() ^ 3) END",
                    "resolved_at": "CASE WHEN d.closed "
                    "THEN d.start + make_interval(secs => 3600 + 432000 * random() ^ 2) END",
                    "message_count": "5",
                    "language": f"(%(languages)s::text[])[1 + n %% {len(LANGUAGES)}]",
                },
                "FROM generate_series(1, %(conversations)s) AS n, LATERAL (SELECT random() < 0.6 AS closed, "
                "now() - make_interval(secs => 365 * 86400 * random() + n * 0) AS start) d",
                params,
            )
            _insert_select(
                cursor,
                Message,
                {
                    "organization_id": "c.organization_id",
                    "conversation_id": "c.id",
                    "channel_id": "c.channel_id",
                    "direction": "CASE WHEN k = 4 THEN 'outbound' ELSE 'inbound' END",
                    "text": "CASE WHEN k = 4 THEN 'Thanks, we are on it' ELSE "
                    f"initcap((%(words)s::text[])[1 + (c.id * 31 + k * 7) %% {len(WORDS)}]) || ' my ' || "
                    f"(%(words)s::text[])[1 + (c.id * 17 + k * 3) %% {len(WORDS)}] || ' is ' || "
                    f"(%(words)s::text[])[1 + floor({len(WORDS)} * random() ^ 2)::int] || "
                    f"CASE WHEN (c.id + k) %% 4 = 0 THEN ' ' || "
                    f"(%(hashtags)s::text[])[1 + (c.id + k) %% {len(HASHTAGS)}] ELSE '' END END",
                    # A conversation is in one language, and its customer writes it (one identity each).
                    "language": "c.language",
                    "author_identity_id": "CASE WHEN k < 4 THEN i.id END",
                    "sent_at": "c.created_at + k * interval '17 minutes'",
                    "sentiment": "CASE WHEN k < 4 THEN "
                    f"(%(sentiments)s::text[])[1 + floor(random() * {len(SENTIMENTS)})::int] ELSE '' END",
                    "intent": "CASE WHEN k < 4 THEN "
                    f"(%(intents)s::text[])[1 + floor(random() * {len(INTENTS)})::int] ELSE '' END",
                    "classified_at": "c.created_at + k * interval '17 minutes'",
                    "created_at": "c.created_at + k * interval '17 minutes'",
                },
                "FROM conversations_conversation c "
                "JOIN customers_identity i ON i.customer_id = c.customer_id, generate_series(0, 4) AS k "
                "WHERE c.organization_id = %(organization)s",
                params,
            )
            _insert_select(
                cursor,
                Mention,
                {
                    "organization_id": "m.organization_id",
                    "message_id": "m.id",
                    "brand_id": "CASE WHEN m.id %% 20 = 0 THEN c.brand_id "
                    f"ELSE (%(brands)s::bigint[])[1 + (m.id / 20) %% {BRANDS}] END",
                    "level": "CASE WHEN m.id %% 20 = 0 THEN 'competitor' ELSE 'about_brand' END",
                    "competitor": "CASE WHEN m.id %% 20 = 0 THEN "
                    "(ARRAY['Rival A', 'Rival B'])[1 + (m.id / 20) %% 2] ELSE '' END",
                    "created_at": "m.sent_at",
                },
                "FROM conversations_message m JOIN conversations_conversation c ON c.id = m.conversation_id "
                "WHERE m.organization_id = %(organization)s AND m.direction = 'inbound' "
                "AND m.id %% 20 IN (0, 1)",
                params,
            )
    loaded = time.perf_counter() - started
    connection.ensure_connection()
    with connection.cursor() as cursor:
        for model in (Customer, Identity, Conversation, Message, Mention):
            cursor.execute(f"VACUUM ANALYZE {model._meta.db_table}")
    print(
        f"data: {MESSAGES:,} messages ({CONVERSATIONS * 4:,} inbound) in {CONVERSATIONS:,} conversations, "
        f"{CUSTOMERS:,} customers, loaded and indexed in {loaded:.0f} s, "
        f"vacuumed in {time.perf_counter() - started - loaded:.0f} s",
        flush=True,
    )
    started = time.perf_counter()
    from apps.analytics.services import rollups_rebuild

    days = rollups_rebuild(organization_id=organization.pk, days_per_step=14)
    with connection.cursor() as cursor:
        for table in ROLLUP_TABLES:
            cursor.execute(f"VACUUM ANALYZE analytics_{table}")
    print(
        f"rollups: {days} days of {BRANDS} brands rebuilt in {time.perf_counter() - started:.0f} s",
        flush=True,
    )


def _rollup_sizes() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT relname, reltuples::bigint FROM pg_class WHERE relname IN
               ('conversations_message', 'analytics_messagehourly', 'analytics_termdaily',
                'analytics_authordaily', 'analytics_voicedaily', 'analytics_conversationtiming')
               ORDER BY relname"""
        )
        return ", ".join(f"{name.split('_', 1)[1]} {rows:,}" for name, rows in cursor.fetchall())


# ------------------------------------------------------------------ the same figures, bare, from raw rows


def _raw_sql(figure: str, *, level: bool) -> str:
    from apps.analytics.services import _PAIRS, TEXT_LIMIT, TOKEN_PATTERN

    where = "WHERE (%(channel)s::bigint IS NULL OR channel_id = %(channel)s) "
    where += "AND (%(language)s = '' OR language = %(language)s) "
    where += "AND (%(level)s = '' OR level = %(level)s)" if level else ""
    pairs = f"{_PAIRS}, chosen AS (SELECT * FROM pairs {where})"
    grouped = {
        "volume": "SELECT date_trunc('day', sent_at, 'UTC'), count(*) FROM chosen GROUP BY 1",
        "sentiment": "SELECT date_trunc('day', sent_at, 'UTC'), sentiment, count(*) FROM chosen "
        "GROUP BY 1, 2",
        "intents": "SELECT intent, count(*) FROM chosen GROUP BY 1",
        "languages": "SELECT language, count(*) FROM chosen GROUP BY 1",
        "channels": "SELECT channel_id, count(*) FROM chosen GROUP BY 1",
        "terms": f"""SELECT t.term, count(*) FROM chosen p, LATERAL (SELECT DISTINCT
            (regexp_matches(lower(left(p.text, {TEXT_LIMIT})), '{TOKEN_PATTERN}', 'g'))[1] AS term) t
            WHERE t.term !~ '^[#@]' AND length(t.term) BETWEEN 2 AND 60 AND t.term !~ '^[0-9]+$'
              AND t.term <> ALL(%(stop_words)s) GROUP BY 1 ORDER BY 2 DESC LIMIT 20""",
        "hashtags": f"""SELECT t.term, count(*) FROM chosen p, LATERAL (SELECT DISTINCT
            (regexp_matches(lower(left(p.text, {TEXT_LIMIT})), '{TOKEN_PATTERN}', 'g'))[1] AS term) t
            WHERE t.term LIKE '#%%' GROUP BY 1 ORDER BY 2 DESC LIMIT 20""",
        # The trends' counts (the last day against the 14 before, per language and term), words and hashtags
        # only: the bare SQL leaves out the phrases the rollup also counts, so it is the cheaper side.
        "trends": f"""SELECT p.language, t.term,
                count(*) FILTER (WHERE p.sent_at >= %(end)s - interval '1 day') AS recent,
                count(*) FILTER (WHERE p.sent_at < %(end)s - interval '1 day') AS baseline
            FROM chosen p, LATERAL (SELECT DISTINCT
            (regexp_matches(lower(left(p.text, {TEXT_LIMIT})), '{TOKEN_PATTERN}', 'g'))[1] AS term) t
            WHERE p.sent_at >= %(end)s - interval '15 days' AND t.term !~ '^@'
              AND length(ltrim(t.term, '#')) BETWEEN 2 AND 60 AND t.term !~ '^#?[0-9]+$'
              AND t.term <> ALL(%(stop_words)s)
            GROUP BY 1, 2 HAVING count(*) FILTER (WHERE p.sent_at >= %(end)s - interval '1 day') >= 5""",
        "authors+influencers": """, authors AS MATERIALIZED (
                SELECT i.id, i.followers, count(*) AS n FROM chosen p
                JOIN customers_identity i ON i.id = p.author_identity_id GROUP BY 1, 2)
            (SELECT * FROM authors ORDER BY n DESC LIMIT 20)
            UNION ALL (SELECT * FROM authors ORDER BY followers DESC LIMIT 20)""",
    }
    if figure in grouped:
        joiner = "" if grouped[figure].startswith(",") else " "
        return f"{pairs}{joiner}{grouped[figure]}"
    if figure == "voice":
        return f"""{pairs} SELECT '', count(*) FROM chosen WHERE level IN ('to_brand', 'about_brand')
            UNION ALL
            SELECT x.competitor, count(*) FROM listening_mention x
            JOIN conversations_message m ON m.id = x.message_id
            WHERE m.organization_id = %(organization)s AND m.sent_at >= %(start)s AND m.sent_at < %(end)s
              AND m.direction = 'inbound' AND x.brand_id = ANY(%(brands)s) AND x.level = 'competitor'
              AND x.competitor <> '' AND x.relevant IS NOT FALSE
              AND (%(channel)s::bigint IS NULL OR m.channel_id = %(channel)s)
              AND (%(language)s = '' OR m.language = %(language)s)
            GROUP BY 1"""
    key = {"response_team": "c.team_id", "response_channel": "c.channel_id"}[figure]
    return f"""WITH started AS (
            SELECT m.conversation_id, min(m.sent_at) AS started_at FROM conversations_message m
            JOIN conversations_conversation c ON c.id = m.conversation_id
            WHERE c.brand_id = ANY(%(brands)s) AND m.direction = 'inbound'
              AND m.sent_at < %(end)s AND m.sent_at >= %(start)s - interval '1 day'
            GROUP BY 1)
        SELECT {key},
            percentile_disc(0.5) WITHIN GROUP (ORDER BY c.first_response_at - s.started_at),
            percentile_disc(0.9) WITHIN GROUP (ORDER BY c.first_response_at - s.started_at),
            percentile_disc(0.5) WITHIN GROUP (ORDER BY c.resolved_at - s.started_at),
            percentile_disc(0.9) WITHIN GROUP (ORDER BY c.resolved_at - s.started_at)
        FROM started s JOIN conversations_conversation c ON c.id = s.conversation_id
        WHERE s.started_at >= %(start)s
          AND (%(channel)s::bigint IS NULL OR c.channel_id = %(channel)s)
          AND (%(language)s = '' OR c.language = %(language)s)
        GROUP BY 1"""


# ------------------------------------------------------------------ measuring


def _ms(function) -> float:
    started = time.perf_counter()
    function()
    return (time.perf_counter() - started) * 1000


def _p(values: list[float]) -> tuple[float, float]:
    if len(values) == 1:
        return values[0], values[0]
    return statistics.median(values), statistics.quantiles(values, n=20, method="inclusive")[-1]


def measure() -> None:
    from django.db import connection
    from django.test import Client
    from django.utils import timezone

    from apps.accounts.models import Brand, Membership
    from apps.analytics import selectors
    from apps.analytics.selectors import Filters
    from apps.analytics.services import LEVEL_ORDER, STOP_WORDS
    from apps.connectors.models import Channel

    membership = Membership.objects.select_related("user").get(user__username="bench-marketer")
    brand = Brand.objects.get(organization=membership.organization, slug="brand-1")

    channel = Channel.objects.filter(brand=brand).order_by("pk").first()
    client = Client()
    client.force_login(membership.user)
    today = timezone.now().date()
    figures = {
        "volume": lambda f: selectors.volume_over_time(membership=membership, filters=f),
        "sentiment": lambda f: selectors.sentiment_trend(membership=membership, filters=f),
        "voice": lambda f: selectors.share_of_voice(membership=membership, filters=f),
        "intents": lambda f: selectors.intent_breakdown(membership=membership, filters=f),
        "languages": lambda f: selectors.language_mix(membership=membership, filters=f),
        "channels": lambda f: selectors.channel_mix(membership=membership, filters=f),
        "terms": lambda f: list(selectors.top_terms(membership=membership, filters=f)),
        "hashtags": lambda f: list(selectors.top_terms(membership=membership, filters=f, hashtags=True)),
        "trends": lambda f: selectors.emerging_terms(membership=membership, filters=f),
        "authors+influencers": lambda f: selectors.author_leaders(membership=membership, filters=f),
        "response_team": lambda f: selectors.response_times(membership=membership, filters=f, by="team"),
        "response_channel": lambda f: selectors.response_times(
            membership=membership, filters=f, by="channel"
        ),
    }
    # The page's panels fetched after the first paint (views.PANELS), and the figures each one draws.
    panels = {
        "terms": ["terms", "hashtags"],
        "trends": ["trends"],
        "authors": ["authors+influencers"],
        "response-team": ["response_team"],
        "response-channel": ["response_channel"],
    }
    in_panels = {name for names in panels.values() for name in names}
    print(f"sizes (rows): {_rollup_sizes()}")
    print(
        f"brand 1; p50/p95 of {REPEAT} runs on the rollups; bare SQL over the raw tables: {RAW_REPEAT} runs"
    )
    print(f"  {'figure':<28} {'rollups p50':>11} {'p95':>8}   {'raw SQL p50':>11} {'p95':>9}")
    page_p95 = []
    for days in DAYS:
        for label, narrower, querystring in (
            ("unfiltered", {}, ""),
            ("one channel", {"channel_id": channel.pk}, f"&channel={channel.pk}"),
            (
                "en, about the brand",
                {"language": "en", "level": LEVEL_ORDER[1]},
                "&language=en&level=about_brand",
            ),
        ):
            filters = Filters(
                brand_id=brand.pk, since=today - timedelta(days=days - 1), until=today, **narrower
            )
            query = f"?brand={brand.pk}&range={days}d{querystring}"
            requests = {"page": f"/dashboards/{query}"}
            requests.update({f"panel {name}": f"/dashboards/panel/{name}/{query}" for name in panels})
            timings = {}
            for request, url in requests.items():
                assert client.get(url).status_code == 200  # warm-up
                timings[request] = _p([_ms(lambda url=url: client.get(url)) for _ in range(REPEAT)])
                page_p95.append(timings[request][1])
            raw_medians = {}
            print(f"{days} days, {label}:")
            for name, figure in figures.items():
                figure(filters)
                rollup = [_ms(lambda figure=figure, f=filters: figure(f)) for _ in range(REPEAT)]
                params = {
                    "organization": membership.organization_id,
                    "brands": [brand.pk],
                    "start": filters.start,
                    "end": filters.end,
                    "levels": LEVEL_ORDER,
                    "stop_words": sorted(STOP_WORDS),
                    "channel": filters.channel_id,
                    "language": filters.language,
                    "level": filters.level,
                }
                sql = _raw_sql(name, level=name != "voice")

                def bare(sql=sql, params=params):
                    with connection.cursor() as cursor:
                        cursor.execute(sql, params)
                        cursor.fetchall()

                raw = [_ms(bare) for _ in range(RAW_REPEAT)]
                raw_medians[name] = statistics.median(raw)
                print(
                    f"  {name:<28} {_p(rollup)[0]:9.1f} ms {_p(rollup)[1]:6.1f} ms   "
                    f"{_p(raw)[0]:9.1f} ms {_p(raw)[1]:7.1f} ms",
                    flush=True,
                )
            for request, (p50, p95) in timings.items():
                drawn = panels.get(request.removeprefix("panel "), [])
                raw_total = sum(
                    n
                    for name, n in raw_medians.items()
                    if (name in drawn if drawn else name not in in_panels)
                )
                print(
                    f"  {request + ' (GET)':<28} {p50:9.1f} ms {p95:6.1f} ms   "
                    f"{raw_total:9.1f} ms (sum of its raw figures)"
                )
    worst = max(page_p95)
    print(
        f"aim: page and each panel p95 < {AIM_P95_MS} ms in every case: "
        f"{'met' if worst < AIM_P95_MS else 'NOT met'} "
        f"(worst p95 {worst:.1f} ms)",
        flush=True,
    )


def migrate_kept() -> None:
    """Bring a kept database up to the code's migrations (the runner migrated only the template): new
    rollup columns and tables are filled by the migrations themselves from the daily rows, so the daily
    rollups are not rebuilt; then VACUUM ANALYZE, so index-only scans see an up-to-date visibility map."""
    from django.core.management import call_command
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if not plan:
        return
    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    with connection.cursor() as cursor:
        for table in ROLLUP_TABLES:
            cursor.execute(f"VACUUM ANALYZE analytics_{table}")
    names = ", ".join(f"{migration.app_label}.{migration.name}" for migration, _ in plan)
    print(f"kept database migrated ({names}) in {time.perf_counter() - started:.0f} s", flush=True)


def main() -> None:
    with own_database() as reused:
        _setup_django()
        logging.getLogger("cxm.request").setLevel(logging.WARNING)
        if reused:
            print(f"data: kept from an earlier run (--keep), {MESSAGES:,} messages", flush=True)
            migrate_kept()
        else:
            build()
        measure()


if __name__ == "__main__":
    main()
