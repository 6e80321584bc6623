"""Search at 1,000,000 messages: the server time of a search (p50/p95) next to the bare SQL of an indexed
match, measured in the same run.

- Data: one organisation, 3 brands, 6 channels, 200,000 conversations and 1,000,000 inbound messages in the
  nine demo languages (en es ar id ru zh fr de pt, the demo's mix), each 8-20 words drawn (skewed: a few
  words are very common, most are rare) from the demo's own phrases in that language, with hashtags and
  mentions among them; built with INSERT … SELECT generate_series in a database of its own (copied from the
  migrated bench database, dropped at the end), indexes built once after the load, then VACUUM ANALYZE.
- Searches: single words (common, mid, rare) in every language, accents left out, phrases, CJK words,
  listening queries with OR / NOT / hashtags / mentions / wildcards / lang:, with and without filters
  (sentiment, channel, last 7 days), as an agent and as a brand-limited agent; a typo (the fuzzy fallback)
  is timed on its own line.
- Timed: GET /search/?q=… through Django's test Client (middleware, parsing, backend, template: what the
  page costs the server), the backend call alone, and bare SQL: the first page of ids matched, as the
  planner chooses to find them (`… WHERE search_vector @@ query LIMIT 20`), their exact count, and the
  COUNT_CAP + 1 matches that the page's count needs, through the GIN index alone (as the backend asks).

`python3 dev.py bench search.py [--explain]`. CXM_BENCH_SEARCH_MESSAGES sets the size (default 1,000,000);
CXM_BENCH_SEARCH_KEEP=1 keeps the database and measures it again on the next run with it set.
"""

from __future__ import annotations

import logging
import os
import re
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.inbox import _insert_select, bulk_load  # noqa: E402 (the same loading helpers)
from bench.inbox import own_database as shared_own_database  # noqa: E402

MESSAGES = int(os.environ.get("CXM_BENCH_SEARCH_MESSAGES", "1000000"))
CONVERSATIONS = max(MESSAGES // 5, 1)
CUSTOMERS = max(CONVERSATIONS // 4, 1)
KEEP = os.environ.get("CXM_BENCH_SEARCH_KEEP") == "1"
DATABASE = "cxm_bench_search"
AIM_P95_MS = 150
ROUNDS = 3
LANGUAGE_WEIGHTS = {"en": 32, "es": 14, "ar": 10, "id": 10, "ru": 8, "zh": 8, "fr": 6, "de": 6, "pt": 6}
TAGS = ["#nimbus", "@nimbusmobile", "#nimbusx2", "@lumenone"]


def own_database():
    return shared_own_database(DATABASE, keep=KEEP)


def vocabularies() -> dict[str, list[str]]:
    """Each demo language's words, from the demo's own phrases (Chinese: its two-character pieces)."""
    from apps.demo import phrases

    words = {}
    for language in LANGUAGE_WEIGHTS:
        text = re.sub(
            r"\{[^}]*\}", " ", " ".join(t for ts in phrases.TEMPLATES[language].values() for t in ts)
        )
        if language == "zh":
            runs = re.findall(r"[\u4e00-\u9fff]+", text)
            found = [run[i : i + 2] for run in runs for i in range(0, len(run) - 1, 2)]
        else:
            found = [w.lower() for w in re.findall(r"\w{3,}", text) if not w.isdigit()]
        # A stable order by frequency in the phrases: the first words are drawn most often.
        counts: dict[str, int] = {}
        for word in found:
            counts[word] = counts.get(word, 0) + 1
        words[language] = sorted(counts, key=lambda w: (-counts[w], w))
    return words


def build(words: dict[str, list[str]]) -> dict:
    from django.db import connection, transaction

    from apps.accounts.models import Brand, Membership, Organization, Role, User
    from apps.connectors.kinds import ChannelKind
    from apps.connectors.models import Channel
    from apps.conversations.models import Conversation, Message
    from apps.customers.models import Customer

    organization = Organization.objects.create(name="Bench search", slug="bench-search")
    brands = [Brand.objects.create(organization=organization, name=f"Brand {n}") for n in range(3)]
    channels = [
        Channel.objects.create(organization=organization, brand=brand, kind=kind, name=f"{brand.name} {kind}")
        for brand in brands
        for kind in (ChannelKind.EMAIL, ChannelKind.X)
    ]
    users = User.objects.bulk_create(User(username=f"bench-searcher-{n}") for n in range(2))
    memberships = Membership.objects.bulk_create(
        Membership(user=user, organization=organization, role=Role.COMMUNITY_MANAGER) for user in users
    )
    memberships[1].brands.set([brands[0]])
    params = {
        "organization": organization.pk,
        "conversations": CONVERSATIONS,
        "customers": CUSTOMERS,
        "channels": [c.pk for c in channels],
        "channel_brands": [c.brand_id for c in channels],
    }
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT setseed(0.17)")
        with bulk_load(cursor, [Customer, Conversation, Message]):
            _insert_select(
                cursor,
                Customer,
                {"organization_id": "%(organization)s", "display_name": "'Customer ' || n"}
                | {"created_at": "now()", "updated_at": "now()"},
                "FROM generate_series(1, %(customers)s) AS n",
                params,
            )
            _insert_select(
                cursor,
                Conversation,
                {
                    "organization_id": "%(organization)s",
                    "brand_id": "(%(channel_brands)s::bigint[])[1 + n %% 6]",
                    "channel_id": "(%(channels)s::bigint[])[1 + n %% 6]",
                    "customer_id": f"(SELECT min(id) FROM customers_customer) + n %% {CUSTOMERS}",
                    "external_thread_id": "'bench-' || n",
                    "subject": "'Conversation ' || n",
                    "status": "'closed'",
                    "last_message_at": "now() - interval '180 days' * random()",
                    "message_count": "5",
                    "created_at": "now()",
                    "updated_at": "now()",
                },
                "FROM generate_series(1, %(conversations)s) AS n",
                params,
            )
            cursor.execute(
                "SELECT min(id) FROM conversations_conversation WHERE organization_id = %(organization)s",
                params,
            )
            params["first_conversation"] = cursor.fetchone()[0]
            total_weight = sum(LANGUAGE_WEIGHTS.values())
            start = 0
            for language, weight in LANGUAGE_WEIGHTS.items():
                count = MESSAGES * weight // total_weight
                params.update(
                    language=language,
                    vocabulary=words[language] + TAGS,
                    first=start,
                    last=start + count - 1,
                    separator="" if language == "zh" else " ",
                )
                # 8-20 words, each drawn skewed towards the first (most frequent) words: random()^3.
                _insert_select(
                    cursor,
                    Message,
                    {
                        "organization_id": "%(organization)s",
                        "conversation_id": "%(first_conversation)s + n %% %(conversations)s",
                        "channel_id": "(%(channels)s::bigint[])[1 + (n %% %(conversations)s) %% 6]",
                        "direction": "'inbound'",
                        "external_id": "'bench-' || n",
                        "text": "array_to_string(ARRAY(SELECT (%(vocabulary)s::text[])[1 + floor("
                        "cardinality(%(vocabulary)s::text[]) * random() ^ 3)::int] "
                        "FROM generate_series(1, 8 + n %% 13)), %(separator)s)",
                        "language": "%(language)s",
                        "sent_at": "now() - interval '180 days' * random()",
                        "sentiment": "(ARRAY['negative', 'neutral', 'positive'])[1 + n %% 3]",
                        "intent": "(ARRAY['question', 'complaint', 'praise', 'other'])[1 + n %% 4]",
                        "classified_at": "now()",
                        "created_at": "now()",
                    },
                    "FROM generate_series(%(first)s, %(last)s) AS n",
                    params,
                )
                start += count
    loaded = time.perf_counter() - started
    connection.ensure_connection()
    with connection.cursor() as cursor:
        for model in (Customer, Conversation, Message):
            cursor.execute(f"VACUUM ANALYZE {model._meta.db_table}")
        cursor.execute(
            "SELECT count(*) FROM conversations_message WHERE organization_id = %s", [organization.pk]
        )
        (count,) = cursor.fetchone()
    print(
        f"data: {count:,} messages in {len(LANGUAGE_WEIGHTS)} languages, {CONVERSATIONS:,} conversations, "
        f"loaded and indexed in {loaded:.0f} s, vacuumed in {time.perf_counter() - started - loaded:.0f} s",
        flush=True,
    )
    return {"agent": memberships[0], "limited": memberships[1], "channels": channels}


def built() -> dict:
    from apps.accounts.models import Membership
    from apps.connectors.models import Channel

    members = (
        Membership.objects.filter(organization__slug="bench-search").select_related("user").order_by("pk")
    )
    print("data: kept from an earlier run (CXM_BENCH_SEARCH_KEEP=1)", flush=True)
    return {
        "agent": members[0],
        "limited": members.last(),
        "channels": list(Channel.objects.filter(organization_id=members[0].organization_id).order_by("pk")),
    }


def search_mix(world: dict, words: dict[str, list[str]]) -> list[tuple[str, str, dict]]:
    """(who, query, filters) as people search: every language, common to rare words, syntax, filters."""
    from django.utils import timezone

    mix: list[tuple[str, str, dict]] = []
    for vocabulary in words.values():
        for rank in (0, 10, 60, len(vocabulary) // 2, len(vocabulary) - 1):
            mix.append(("agent", vocabulary[rank], {}))
    en, es, zh = words["en"], words["es"], words["zh"]
    accented = next(w for w in es if re.search("[áéíóúñ]", w))
    mix += [
        ("agent", accented.translate(str.maketrans("áéíóúñ", "aeioun")), {}),
        ("agent", f'"{en[3]} {en[4]}"', {}),
        ("agent", f'"{es[5]} {es[6]}"', {}),
        ("agent", zh[5] + zh[7], {}),
        ("agent", f"({en[20]} OR {en[40]}) -{en[2]}", {}),
        ("agent", "#nimbus OR @nimbusmobile", {}),
        ("agent", f"{en[30][:3]}*", {}),
        ("agent", f"{es[15]} lang:es", {}),
        ("agent", f"{en[25]} channel:email", {}),
        ("agent", en[12], {"sentiment": "negative"}),
        ("agent", en[50], {"channel": world["channels"][1].pk}),
        ("agent", en[8], {"from": (timezone.localdate() - timedelta(days=7)).isoformat()}),
        ("limited", en[9], {}),
        ("limited", f"{words['ru'][7]} OR {words['ar'][7]}", {}),
    ]
    return mix


def _ms(function, *args) -> float:
    started = time.perf_counter()
    function(*args)
    return (time.perf_counter() - started) * 1000


def _line(label: str, values: list[float]) -> str:
    p50, p95 = statistics.median(values), statistics.quantiles(values, n=20)[-1]
    return f"  {label:<58} p50 {p50:7.1f} ms   p95 {p95:7.1f} ms"


def measure(world: dict, words: dict[str, list[str]], explain: bool) -> None:
    from django.db import connection
    from django.test import Client

    from apps.core.db import local_settings
    from apps.search.backends import COUNT_CAP, SearchFilters
    from apps.search.backends.postgres import compile_query, word_index_plans
    from apps.search.selectors import message_search, search_query_parse

    clients = {}
    for who in ("agent", "limited"):
        clients[who] = Client()
        clients[who].force_login(world[who].user)
    mix = search_mix(world, words)

    def page(who: str, query: str, filters: dict) -> None:
        response = clients[who].get("/search/?" + urlencode({"q": query, **filters}))
        assert response.status_code == 200 and b"cannot run" not in response.content, query

    def backend(who: str, query: str, filters: dict):
        given = SearchFilters(
            sentiment=filters.get("sentiment", ""),
            channel=filters.get("channel"),
            date_from=timezone_date(filters.get("from")),
        )
        return message_search(membership=world[who], query=query, filters=given)

    def bare(query: str, count: bool) -> None:
        compiled = compile_query(search_query_parse(query))
        select = "count(*)" if count else "id"
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {select} FROM conversations_message WHERE organization_id = %s "
                f"AND {compiled.where}{'' if count else ' LIMIT 20'}",
                [world["agent"].organization_id, *compiled.params],
            )
            cursor.fetchall()

    def bare_capped(query: str) -> None:
        """What the backend's count needs at least: COUNT_CAP + 1 matches, through the word index only."""
        compiled = compile_query(search_query_parse(query))
        with word_index_plans(), connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM (SELECT 1 FROM conversations_message WHERE organization_id = %s "
                f"AND {compiled.where} LIMIT %s) matches",
                [world["agent"].organization_id, *compiled.params, COUNT_CAP + 1],
            )
            cursor.fetchall()

    for who, query, filters in mix:  # warm-up
        page(who, query, filters)
    timings: dict[str, list[float]] = {"page": [], "backend": [], "bare": [], "count": [], "capped": []}
    slowest = []
    matches = []
    runs = {
        "page": lambda who, query, filters: page(who, query, filters),
        "backend": lambda who, query, filters: backend(who, query, filters),
        "bare": lambda who, query, filters: bare(query, False),
        "count": lambda who, query, filters: bare(query, True),
        "capped": lambda who, query, filters: bare_capped(query),
    }
    for round_ in range(ROUNDS):
        # 1,000,000 messages do not fit PostgreSQL's buffers: whichever runs first for a search reads its
        # rows from the OS. The order turns each round so that no measure always pays that alone.
        order = list(runs)[round_ % len(runs) :] + list(runs)[: round_ % len(runs)]
        for who, query, filters in mix:
            for name in order:
                timings[name].append(_ms(runs[name], who, query, filters))
            slowest.append((timings["page"][-1], who, query, filters))
    for who, query, filters in mix:
        results = backend(who, query, filters)
        matches.append(results.total)
    typo = words["en"][15][:-2] + words["en"][15][-1:] + "q"
    fuzzy = [_ms(page, "agent", typo, {}) for _ in range(5)]

    p95 = statistics.quantiles(timings["page"], n=20)[-1]
    capped = sum(1 for m in matches if m >= COUNT_CAP)
    print(
        f"search, {len(mix)} searches × {ROUNDS} rounds over {MESSAGES:,} messages "
        f"(matches per search: median {statistics.median(matches):,.0f}, {capped} at the {COUNT_CAP:,} cap):"
    )
    print(_line("page /search/?q=… as the server computes it (full HTML)", timings["page"]))
    print(_line("backend: message_search() alone", timings["backend"]))
    print(_line("bare SQL: first 20 ids through the GIN index", timings["bare"]))
    print(_line("bare SQL: exact count of matches through the GIN index", timings["count"]))
    print(_line(f"bare SQL: {COUNT_CAP + 1:,} matches through the GIN index alone", timings["capped"]))
    print(_line(f"a typo ({typo!r}: exact finds nothing, then close spellings)", fuzzy * 4))
    print(f"  aim: search p95 < {AIM_P95_MS} ms: {'met' if p95 < AIM_P95_MS else 'NOT met'}", flush=True)
    for spent, who, query, filters in sorted(slowest, key=lambda s: s[0], reverse=True)[:5]:
        print(f"    slow: {spent:6.1f} ms  {who:<7} q={query!r} {filters or ''}")
    if explain:
        spent, who, query, filters = max(slowest, key=lambda s: s[0])
        print(f"\n  plans of the statements the backend runs for the slowest search ({query!r}):")
        statements = []

        def record(execute, sql, params, many, context):
            # (the backend's EXPLAIN is its estimate of a range's matches: planned, not run)
            if "set_config" not in sql and not sql.startswith("EXPLAIN"):
                statements.append((sql, params))
            return execute(sql, params, many, context)

        with connection.execute_wrapper(record):
            backend(who, query, filters)
        for sql, params in statements:
            # The page (ranking, snippets) runs with the default plans; the rest as the backend runs them.
            plans = local_settings() if sql.lstrip().startswith("WITH ranked") else word_index_plans()
            with plans, connection.cursor() as cursor:
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + sql, params)
                plan = "\n    ".join(row[0] for row in cursor.fetchall())
            print(f"\n    {plan}")


def timezone_date(value):
    from datetime import date

    return date.fromisoformat(value) if value else None


def main(explain: bool = False) -> None:
    with own_database() as reused:
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cxm.settings")
        import django

        django.setup()
        logging.getLogger("cxm.request").setLevel(logging.WARNING)
        words = vocabularies()
        world = built() if reused else build(words)
        measure(world, words, explain)


if __name__ == "__main__":
    main(explain="--explain" in sys.argv[1:])
