"""The inbox list at 1,000,000 conversations: the server time of its first page (p50/p95) next to the bare
SQL of the list query it runs, measured in the same run.

- Data: one organisation with 1,000,000 conversations spread over statuses, brands, channels, agents,
  teams, priorities, ages, SLAs, sentiments, intents, languages and tags, one classified inbound message
  each (the list shows its start), built with INSERT … SELECT generate_series in a database of its own
  (copied from the migrated bench database, dropped at the end), then VACUUM ANALYZE.
- Page: GET /inbox/?… through Django's test Client, logged in as an agent (and a brand-limited agent):
  middleware, selectors and template rendering, as the server computes it. 200 requests over a mix of
  views, filters and orders, after one warm-up pass over the same requests.
- SQL: the list query each request issued (captured in the warm-up pass), run bare with a cursor, and all
  the page's queries run bare, in the same order.

`python3 dev.py bench inbox.py [--explain]` (--explain prints the plans of the three slowest list queries).
CXM_BENCH_INBOX_CONVERSATIONS sets the size (default 1,000,000); CXM_BENCH_INBOX_KEEP=1 keeps the database
and measures it again on the next run with it set.
"""

from __future__ import annotations

import logging
import os
import random
import statistics
import sys
import time
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode, urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
CONVERSATIONS = int(os.environ.get("CXM_BENCH_INBOX_CONVERSATIONS", "1000000"))
CUSTOMERS = max(CONVERSATIONS // 5, 1)
AGENTS, TEAMS, TAGS = 50, 5, 10
REQUESTS = 200
KEEP = os.environ.get("CXM_BENCH_INBOX_KEEP") == "1"
AIM_P95_MS = 100
DATABASE = "cxm_bench_inbox"
LANGUAGE_MIX = ["en"] * 8 + ["es"] * 3 + ["pt"] * 2 + ["fr", "de", "ar", "id", "ru", "zh", "ja"]


def _database_url(name: str) -> str:
    parts = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit(parts._replace(path=f"/{name}"))


def _server_command(sql: str) -> None:
    """CREATE / DROP DATABASE, from the server's maintenance database."""
    import psycopg

    with psycopg.connect(_database_url("postgres"), autocommit=True) as connection:
        connection.execute(sql)


def _setup_django() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cxm.settings")
    import django

    django.setup()


@contextmanager
def own_database(database: str = DATABASE, *, keep: bool = KEEP):
    """A copy of the migrated bench database for one benchmark alone, dropped afterwards: a million rows
    would otherwise stay behind for the other benchmarks. With `keep`, it stays, and the next run with
    `keep` measures it again without building it (the context's value says whether it was reused)."""
    import psycopg

    template = urlsplit(os.environ["DATABASE_URL"]).path.lstrip("/")
    with psycopg.connect(_database_url("postgres"), autocommit=True) as connection:
        kept = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database]).fetchone()
    if not (keep and kept):
        _server_command(f'DROP DATABASE IF EXISTS "{database}"')
        _server_command(f'CREATE DATABASE "{database}" TEMPLATE "{template}"')
    os.environ["DATABASE_URL"] = _database_url(database)
    try:
        yield bool(keep and kept)
    finally:
        from django.db import connections

        connections.close_all()
        if not keep:
            _server_command(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


# ------------------------------------------------------------------ data


def _insert_select(cursor, model, columns: dict[str, str], rest_of_select: str, params: dict) -> int:
    """INSERT INTO the model's table the given column expressions, SELECTed; every other NOT NULL column
    takes the model's default, so a field added to the model later does not break the benchmark."""
    from django.db import connection
    from django.db.models import NOT_PROVIDED

    expressions = dict(columns)
    for field in model._meta.concrete_fields:
        if (
            field.primary_key
            or field.null
            or field.column in expressions
            or field.db_default is not NOT_PROVIDED
        ):
            continue
        params[f"default_{field.column}"] = field.get_db_prep_save(field.get_default(), connection)
        expressions[field.column] = f"%(default_{field.column})s"
    cursor.execute(
        f"INSERT INTO {model._meta.db_table} ({', '.join(expressions)}) "
        f"SELECT {', '.join(expressions.values())} {rest_of_select}",
        params,
    )
    return cursor.rowcount


@contextmanager
def bulk_load(cursor, models):
    """Load without the secondary indexes and foreign-key triggers, then build the indexes once: the usual
    way to load millions of rows (the data is generated consistent; a failure rolls everything back)."""
    tables = [model._meta.db_table for model in models]
    cursor.execute(
        """SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i
           WHERE i.indrelid = ANY(%s::regclass[]) AND NOT i.indisprimary
             AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)""",
        [tables],
    )
    indexes = cursor.fetchall()
    for name, _ in indexes:
        cursor.execute(f"DROP INDEX {name}")
    cursor.execute("SET LOCAL session_replication_role = replica")
    yield
    cursor.execute("SET LOCAL session_replication_role = origin")
    cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
    for _, definition in indexes:
        cursor.execute(definition)


def build() -> dict:
    """The organisation and its million conversations; returns what the requests need."""
    from django.db import connection, transaction

    from apps.accounts.models import Brand, Membership, Organization, Role, Team, User
    from apps.classification.models import DEFAULT_INTENT_LABELS
    from apps.connectors.kinds import ChannelKind
    from apps.connectors.models import Channel
    from apps.conversations.models import Conversation, Message, Tag
    from apps.customers.models import Customer

    organization = Organization.objects.create(name="Bench inbox", slug="bench-inbox")
    brands = [Brand.objects.create(organization=organization, name=f"Brand {n}") for n in range(3)]
    channels = [
        Channel.objects.create(organization=organization, brand=brand, kind=kind, name=f"{brand.name} {kind}")
        for brand in brands
        for kind in (ChannelKind.EMAIL, ChannelKind.X)
    ]
    users = User.objects.bulk_create(User(username=f"bench-agent-{n}") for n in range(AGENTS + 1))
    memberships = Membership.objects.bulk_create(
        Membership(user=user, organization=organization, role=Role.COMMUNITY_MANAGER) for user in users
    )
    memberships[-1].brands.set([brands[0]])  # the last agent works for one brand only
    teams = [Team.objects.create(organization=organization, name=f"Team {n}") for n in range(TEAMS)]
    for n, user in enumerate(users):
        teams[n % TEAMS].members.add(user)
    tags = Tag.objects.bulk_create(Tag(organization=organization, name=f"tag-{n}") for n in range(TAGS))
    params = {
        "organization": organization.pk,
        "conversations": CONVERSATIONS,
        "customers": CUSTOMERS,
        "channels": [c.pk for c in channels],
        "channel_brands": [c.brand_id for c in channels],
        "agents": [u.pk for u in users[:AGENTS]],
        "teams": [t.pk for t in teams],
        "tags": [t.pk for t in tags],
        "intents": DEFAULT_INTENT_LABELS,
        "languages": LANGUAGE_MIX,
    }
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT setseed(0.42)")
        through = Conversation.tags.through
        with bulk_load(cursor, [Customer, Conversation, Message, through]):
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
            cursor.execute(
                "SELECT array_agg(id ORDER BY id) FROM customers_customer "
                "WHERE organization_id = %(organization)s",
                params,
            )
            params["customer_ids"] = cursor.fetchone()[0]
            _insert_select(cursor, Conversation, _conversation_columns(), _CONVERSATION_DRAWS, params)
            _insert_select(
                cursor,
                Message,
                {
                    "organization_id": "c.organization_id",
                    "conversation_id": "c.id",
                    "channel_id": "c.channel_id",
                    "direction": "'inbound'",
                    "external_id": "'bench-' || c.id",
                    "text": "'Hello, my order A-' || (10000 + c.id %% 90000) "
                    "|| ' has not arrived yet, can you check?'",
                    "language": "c.language",
                    "sent_at": "c.last_message_at",
                    "sentiment": "c.sentiment",
                    "intent": "c.intent",
                    "priority": "c.priority",
                    "classified_at": "c.last_message_at",
                    "created_at": "c.last_message_at",
                },
                "FROM conversations_conversation c WHERE c.organization_id = %(organization)s",
                params,
            )
            cursor.execute(
                f"""INSERT INTO {through._meta.db_table} (conversation_id, tag_id)
                    SELECT id, (%(tags)s::bigint[])[1 + id %% {TAGS}] FROM conversations_conversation
                    WHERE organization_id = %(organization)s AND random() < 0.1""",
                params,
            )
    loaded = time.perf_counter() - started
    connection.ensure_connection()
    with connection.cursor() as cursor:  # outside a transaction: VACUUM cannot run in one
        for model in (Customer, Conversation, Message, Conversation.tags.through):
            cursor.execute(f"VACUUM ANALYZE {model._meta.db_table}")
    print(
        f"data: {CONVERSATIONS:,} conversations, {CONVERSATIONS:,} messages, {CUSTOMERS:,} customers "
        f"loaded and indexed in {loaded:.0f} s, vacuumed in {time.perf_counter() - started - loaded:.0f} s",
        flush=True,
    )
    return {
        "agent": memberships[0],
        "limited": memberships[-1],
        "brands": brands,
        "channels": channels,
        "tags": tags,
        "agents": users[:AGENTS],
    }


def built() -> dict:
    """What build() returns, from a database an earlier run kept."""
    from apps.accounts.models import Brand, Membership, User
    from apps.connectors.models import Channel
    from apps.conversations.models import Tag

    agents = Membership.objects.filter(organization__slug="bench-inbox").select_related("user").order_by("pk")
    organization = agents[0].organization_id
    print("data: kept from an earlier run (CXM_BENCH_INBOX_KEEP=1)", flush=True)
    return {
        "agent": agents[0],
        "limited": agents.last(),
        "brands": list(Brand.objects.filter(organization_id=organization).order_by("pk")),
        "channels": list(Channel.objects.filter(organization_id=organization).only("pk").order_by("pk")),
        "tags": list(Tag.objects.filter(organization_id=organization).order_by("pk")),
        "agents": list(User.objects.filter(memberships__organization_id=organization).order_by("pk"))[
            :AGENTS
        ],
    }


# Independent draws per conversation; the outer SELECT turns them into a realistic spread: most
# conversations closed (3 % of them never assigned), active ones recent, 40 % of active ones unassigned,
# priorities skewed low.
_CONVERSATION_DRAWS = """
    FROM (
        SELECT n, 1 + floor(random() * cardinality(%(channels)s::bigint[]))::int AS channel,
               random() AS status_draw, random() AS assignee_draw, random() AS agent_draw,
               random() AS team_draw, random() AS priority_draw, random() AS age_draw, random() AS sla_draw,
               random() AS sentiment_draw, random() AS intent_draw, random() AS language_draw
        FROM generate_series(1, %(conversations)s) AS n
    ) AS draw
    CROSS JOIN LATERAL (
        SELECT CASE WHEN status_draw < 0.12 THEN 'open' WHEN status_draw < 0.17 THEN 'pending'
                    WHEN status_draw < 0.20 THEN 'snoozed' ELSE 'closed' END AS status
    ) AS s
    CROSS JOIN LATERAL (
        SELECT now() - (CASE WHEN s.status = 'closed' THEN interval '180 days' ELSE interval '14 days' END)
                       * age_draw AS last_message_at
    ) AS t
"""


def _pick(array: str, kind: str, draw: str) -> str:
    """SQL: the element of the array parameter that a draw in [0, 1) falls on."""
    return f"(%({array})s::{kind}[])[1 + floor({draw} * cardinality(%({array})s::{kind}[]))::int]"


def _conversation_columns() -> dict[str, str]:
    return {
        "organization_id": "%(organization)s",
        "brand_id": "(%(channel_brands)s::bigint[])[channel]",
        "channel_id": "(%(channels)s::bigint[])[channel]",
        "customer_id": "(%(customer_ids)s::bigint[])[1 + n %% %(customers)s]",
        "external_thread_id": "'bench-' || n",
        "subject": "'Order A-' || (10000 + n %% 90000) || CASE n %% 3 WHEN 0 THEN ' has not arrived' "
        "WHEN 1 THEN ': wrong size' ELSE ': refund please' END",
        "status": "s.status",
        "priority": "round((priority_draw ^ 2 * 100)::numeric, 1)",
        "assignee_id": "CASE WHEN s.status IN ('open', 'pending') AND assignee_draw < 0.4 THEN NULL "
        "WHEN s.status = 'closed' AND assignee_draw < 0.03 THEN NULL "
        f"ELSE {_pick('agents', 'bigint', 'agent_draw')} END",
        "team_id": f"CASE WHEN team_draw < 0.6 THEN {_pick('teams', 'bigint', 'team_draw / 0.6')} END",
        "sla_due_at": "CASE WHEN sla_draw < 0.8 "
        "THEN t.last_message_at + interval '4 hours' * (1 + 5 * sla_draw) END",
        "last_message_at": "t.last_message_at",
        "resolved_at": "CASE WHEN s.status = 'closed' THEN t.last_message_at END",
        "message_count": "1",
        "created_at": "t.last_message_at - interval '1 hour' * 48 * age_draw",
        "updated_at": "t.last_message_at",
        "sentiment": "CASE WHEN sentiment_draw < 0.3 THEN 'negative' "
        "WHEN sentiment_draw < 0.75 THEN 'neutral' ELSE 'positive' END",
        "intent": _pick("intents", "text", "intent_draw"),
        "language": _pick("languages", "text", "language_draw"),
    }


# ------------------------------------------------------------------ requests


def request_mix(world: dict, count: int, seed: int = 5) -> list[tuple[str, str]]:
    """(who, querystring) pairs: every view and order, no filter or one or two, as agents use the list."""
    from django.utils import timezone

    rng = random.Random(seed)
    today = timezone.localdate()
    filters = [
        {},
        {},
        {},
        {"brand": world["brands"][1].pk},
        {"channel": world["channels"][2].pk},
        {"sentiment": "negative"},
        {"intent": "churn_risk"},
        {"language": "es"},
        {"priority": "urgent"},
        {"status": "closed"},
        {"status": "snoozed"},
        {"tag": world["tags"][3].pk},
        {"assignee": world["agents"][7].pk},
        {"from": (today - timedelta(days=7)).isoformat()},
        {"sentiment": "negative", "priority": "high"},
        {"brand": world["brands"][2].pk, "language": "pt"},
        {"intent": "complaint", "from": (today - timedelta(days=3)).isoformat()},
    ]
    mix = []
    for _ in range(count):
        params = {"view": rng.choice(["all", "mine", "unassigned", "team"]), **rng.choice(filters)}
        params["sort"] = rng.choice(["priority", "newest", "oldest", "sla"])
        mix.append(("limited" if rng.random() < 0.1 else "agent", urlencode(params)))
    return mix


def _is_list_query(sql: str) -> bool:
    return sql.startswith('SELECT "conversations_conversation"."id"') and "LIMIT 51" in sql


def _milliseconds(function, *args, **kwargs) -> float:
    started = time.perf_counter()
    function(*args, **kwargs)
    return (time.perf_counter() - started) * 1000


def measure(world: dict, explain: bool) -> None:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    clients = {}
    for who in ("agent", "limited"):
        clients[who] = Client()
        clients[who].force_login(world[who].user)
    mix = request_mix(world, REQUESTS)

    def page(who: str, querystring: str, htmx: bool = False):
        response = clients[who].get(f"/inbox/?{querystring}", headers={"HX-Request": "true"} if htmx else {})
        assert response.status_code == 200, response.status_code
        return response

    for who in clients:
        page(who, "")  # the first visit makes the organisation's classification settings
    captured = []
    for who, querystring in mix:  # the warm-up pass, which also records each page's queries
        with CaptureQueriesContext(connection) as queries:
            page(who, querystring)
        captured.append([q["sql"] for q in queries.captured_queries if q["sql"].startswith("SELECT")])

    def bare(sql: str) -> None:
        with connection.cursor() as cursor:
            cursor.execute(sql)
            cursor.fetchall()

    timings: dict[str, list[float]] = {"page": [], "results": [], "list_sql": [], "all_sql": []}
    slowest = []
    for (who, querystring), queries in zip(mix, captured, strict=True):
        list_sql = next(sql for sql in queries if _is_list_query(sql))
        timings["page"].append(_milliseconds(page, who, querystring))
        timings["results"].append(_milliseconds(page, who, querystring, htmx=True))
        timings["list_sql"].append(_milliseconds(bare, list_sql))
        timings["all_sql"].append(_milliseconds(lambda sqls: [bare(sql) for sql in sqls], queries))
        slowest.append((timings["list_sql"][-1], querystring, list_sql))

    def line(label: str, values: list[float]) -> str:
        p50, p95 = statistics.median(values), statistics.quantiles(values, n=20)[-1]
        return f"  {label:<48} p50 {p50:6.1f} ms   p95 {p95:6.1f} ms"

    p95 = statistics.quantiles(timings["page"], n=20)[-1]
    print(
        f"inbox first page, {REQUESTS} requests over views × filters × orders, "
        f"{CONVERSATIONS:,} conversations:"
    )
    print(line("page, as the server computes it (full HTML)", timings["page"]))
    print(line("results only (htmx: tabs, live refresh)", timings["results"]))
    print(line("bare SQL: the list query", timings["list_sql"]))
    queries = statistics.median(len(each) for each in captured)
    print(line(f"bare SQL: all the page's queries ({queries:.0f})", timings["all_sql"]))
    print(f"  aim: page p95 < {AIM_P95_MS} ms: {'met' if p95 < AIM_P95_MS else 'NOT met'}", flush=True)
    if explain:
        for spent, querystring, sql in sorted(slowest, reverse=True)[:3]:
            with connection.cursor() as cursor:
                cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) {sql}")
                plan = "\n    ".join(row[0] for row in cursor.fetchall())
            print(f"\n  slowest list query ({spent:.1f} ms) for ?{querystring}:\n    {plan}")


def main(explain: bool = False) -> None:
    with own_database() as reused:
        _setup_django()
        # The request logs would drown the figures.
        logging.getLogger("cxm.request").setLevel(logging.WARNING)
        world = built() if reused else build()
        measure(world, explain)


if __name__ == "__main__":
    main(explain="--explain" in sys.argv[1:])
