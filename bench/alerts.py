"""Alert evaluation on a brand's 8 weeks of messages (read from the dashboards' hourly rollup), and the
webhooks' check on the ingestion hot path, each printed next to its limit measured in the same run.

- Data: one organisation, 3 brands with a channel each; MESSAGES inbound messages over the last 8 weeks and
  a day (half of them of brand 1, the one measured), 4 a conversation, a tenth of them negative. Built with
  INSERT … SELECT generate_series in a database of its own, then VACUUM ANALYZE.
- Rollups: the load runs without triggers, so the hourly rollup is rebuilt (timed) as after an import.
- Evaluation: `alert_rules_evaluate()` with brand 1's four rules (volume and negative-share anomalies and
  thresholds: one read of the series for the four), REPEAT runs, next to the bare SQL of the same hourly
  aggregate over the raw messages (no Django), REPEAT runs. The warm-up evaluation builds the rollups.
- Hot path: `apps.webhooks.events.messages_created()` for a batch of 100 ingested messages of an
  organisation without webhook endpoints (what every ingested batch pays), next to one bare Redis GET.

`python3 dev.py bench alerts.py [--messages N] [--keep]` (default 1,000,000 messages).
"""

from __future__ import annotations

import logging
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from dashboards import _option  # noqa: E402
from inbox import _insert_select, _setup_django, bulk_load  # noqa: E402
from inbox import own_database as shared_own_database  # noqa: E402

MESSAGES = int(_option("--messages", "1000000").replace("_", "").replace(",", ""))
KEEP = "--keep" in sys.argv[1:]
REPEAT = 15
HOT_REPEAT = 2000
DATABASE = f"cxm_bench_alerts_{MESSAGES}"
HOURS = (8 * 7 + 1) * 24


def own_database():
    return shared_own_database(DATABASE, keep=KEEP)


def build() -> None:
    from django.db import connection, transaction
    from django.utils import timezone

    from apps.accounts.models import Brand, Organization
    from apps.analytics.services import rollups_rebuild
    from apps.connectors.kinds import ChannelKind
    from apps.connectors.models import Channel
    from apps.conversations.models import Conversation, Message
    from apps.customers.models import Customer

    started = time.perf_counter()
    organization = Organization.objects.create(name="Bench alerts", slug="bench-alerts")
    brands = [Brand.objects.create(organization=organization, name=f"Brand {n}") for n in (1, 2, 3)]
    channels = [
        Channel.objects.create(organization=organization, brand=b, kind=ChannelKind.EMAIL, name=b.name)
        for b in brands
    ]
    now = timezone.now()
    conversations = max(MESSAGES // 4, 1)
    with transaction.atomic(), connection.cursor() as cursor, bulk_load(cursor, [Message, Conversation]):
        _insert_select(
            cursor,
            Customer,
            {
                "organization_id": "%(org)s",
                "display_name": "'Customer ' || n",
                "created_at": "%(now)s",
                "updated_at": "%(now)s",
            },
            "FROM generate_series(1, 1000) AS n",
            {"org": organization.pk, "now": now},
        )
        customer = Customer.objects.filter(organization=organization).order_by("pk").first().pk
        # Brand 1 (n even) has half of the conversations; brands 2 and 3 share the rest.
        channel_of = "(ARRAY[%(c1)s, %(c1)s, %(c2)s, %(c3)s]::bigint[])[1 + n %% 4]"
        brand_of = "(ARRAY[%(b1)s, %(b1)s, %(b2)s, %(b3)s]::bigint[])[1 + n %% 4]"
        ids = {f"c{i + 1}": c.pk for i, c in enumerate(channels)} | {
            f"b{i + 1}": b.pk for i, b in enumerate(brands)
        }
        _insert_select(
            cursor,
            Conversation,
            {
                "organization_id": "%(org)s",
                "brand_id": brand_of,
                "channel_id": channel_of,
                "customer_id": f"{customer} + n %% 1000",
                "subject": "'Conversation ' || n",
                "last_message_at": "%(now)s",
                "created_at": "%(now)s",
                "updated_at": "%(now)s",
            },
            "FROM generate_series(1, %(conversations)s) AS n",
            {"org": organization.pk, "now": now, "conversations": conversations, **ids},
        )
        cursor.execute(
            "SELECT min(id) FROM conversations_conversation WHERE organization_id = %s", [organization.pk]
        )
        first_id = cursor.fetchone()[0]
        _insert_select(
            cursor,
            Message,
            {
                "organization_id": "%(org)s",
                "conversation_id": "c.id",
                "channel_id": "c.channel_id",
                "direction": "'inbound'",
                "text": "'Message ' || n",
                "sent_at": "%(now)s - make_interval(secs => (n::bigint * 7919) %% (%(hours)s * 3600))",
                "sentiment": "CASE WHEN n %% 10 = 0 THEN 'negative' ELSE 'neutral' END",
                "created_at": "%(now)s",
            },
            "FROM generate_series(1, %(messages)s) AS n "
            "JOIN conversations_conversation c ON c.id = %(first)s + (n - 1) %% %(conversations)s",
            {
                "org": organization.pk,
                "now": now,
                "hours": HOURS,
                "messages": MESSAGES,
                "first": first_id,
                "conversations": conversations,
            },
        )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE conversations_message")
        cursor.execute("VACUUM ANALYZE conversations_conversation")
    print(f"data: {MESSAGES:,} messages built in {time.perf_counter() - started:.0f} s", flush=True)
    # The bulk load ran without triggers, so no day was marked for the rollups: backfill them, as
    # `rebuild_rollups` would after an import.
    started = time.perf_counter()
    days = rollups_rebuild(organization_id=organization.pk)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE analytics_messagehourly")
    print(f"rollups: {days} days rebuilt in {time.perf_counter() - started:.0f} s", flush=True)


def _rules(brand) -> None:
    from apps.alerts.models import Alert, AlertRule

    Alert.objects.filter(brand=brand).delete()
    AlertRule.objects.filter(brand=brand).delete()
    kinds = [
        ("volume_anomaly", None),
        ("negative_share_anomaly", None),
        ("volume_threshold", 1_000_000),
        ("negative_share_threshold", 99),
    ]
    for kind, threshold in kinds:
        AlertRule.objects.create(
            organization_id=brand.organization_id, brand=brand, name=kind, kind=kind, threshold=threshold
        )


def _ms(function) -> float:
    started = time.perf_counter()
    function()
    return (time.perf_counter() - started) * 1000


def _p(values: list[float]) -> tuple[float, float]:
    return statistics.median(values), statistics.quantiles(values, n=20, method="inclusive")[-1]


def measure() -> None:
    from django.core.cache import cache
    from django.db import connection
    from django.utils import timezone

    from apps.accounts.models import Brand
    from apps.alerts import services
    from apps.alerts.detection import HOUR, WEEK, hour_start
    from apps.analytics.selectors import brand_hourly_counts as rollup_hourly_counts
    from apps.conversations.models import Message
    from apps.webhooks import events

    brand = Brand.objects.get(organization__slug="bench-alerts", name="Brand 1")
    _rules(brand)
    now = timezone.now()
    since = hour_start(now) - WEEK * services.HISTORY_WEEKS - HOUR * 24
    inbound = Message.objects.filter(conversation__brand=brand).count()
    print(f"brand 1: {inbound:,} inbound messages in the 8 weeks read", flush=True)

    services.alert_rules_evaluate(now=now)  # warm-up
    rolled_up = sum(row[1] for row in rollup_hourly_counts(brand_id=brand.pk, since=since, until=now))
    print(f"brand 1's hourly rollup holds {rolled_up:,} messages of the 8 weeks read", flush=True)
    evaluation = [_ms(lambda: services.alert_rules_evaluate(now=now)) for _ in range(REPEAT)]
    sql = """SELECT date_trunc('hour', m.sent_at AT TIME ZONE 'UTC') AS hour, count(*),
                    count(*) FILTER (WHERE m.sentiment = 'negative')
             FROM conversations_message m JOIN conversations_conversation c ON c.id = m.conversation_id
             WHERE m.organization_id = %s AND c.brand_id = %s AND m.direction = 'inbound'
               AND m.sent_at >= %s AND m.sent_at < %s
             GROUP BY 1"""

    def bare():
        with connection.cursor() as cursor:
            cursor.execute(sql, [brand.organization_id, brand.pk, since, now])
            cursor.fetchall()

    bare()
    raw = [_ms(bare) for _ in range(REPEAT)]
    (e50, e95), (r50, r95) = _p(evaluation), _p(raw)
    print(
        f"alert evaluation, 4 rules of brand 1: p50 {e50:.0f} ms, p95 {e95:.0f} ms "
        f"| limit: the bare hourly aggregate SQL p50 {r50:.0f} ms, p95 {r95:.0f} ms "
        f"(×{e50 / r50:.2f} at p50)",
        flush=True,
    )

    batch = list(Message.objects.select_related("conversation").filter(conversation__brand=brand)[:100])
    events.messages_created(batch)  # warm-up: the subscriptions are cached
    started = time.perf_counter()
    for _ in range(HOT_REPEAT):
        events.messages_created(batch)
    hot = (time.perf_counter() - started) / HOT_REPEAT * 1e6
    cache.set("bench:alerts:probe", {}, 60)
    started = time.perf_counter()
    for _ in range(HOT_REPEAT):
        cache.get("bench:alerts:probe")
    redis = (time.perf_counter() - started) / HOT_REPEAT * 1e6
    print(
        f"webhooks on ingestion, batch of 100 messages, no endpoint: {hot:.0f} µs a batch "
        f"| limit: one bare Redis GET {redis:.0f} µs",
        flush=True,
    )


def main() -> None:
    with own_database() as reused:
        _setup_django()
        logging.getLogger("apps").setLevel(logging.WARNING)
        if reused:
            print(f"data: kept from an earlier run (--keep), {MESSAGES:,} messages", flush=True)
        else:
            build()
        measure()


if __name__ == "__main__":
    main()
