"""The SLA deadline ingestion asks for each inbound message (apps.routing.services.sla_deadlines_fill, run by
ingestion's before_insert hook on every batch), next to the fixed targets it replaced, in the same run.

An organisation with 3 brands, 40 SLA policies (brand × channel kind × priority) and business hours with
holidays in three time zones; 10,000 messages on 500 conversations, in batches of 100 as the webhook path
writes them. The policies are read once (then checked with a cache read every few seconds); each message
costs a policy match and a business-time addition. Timed in CPU time of this process, so that a busy machine
does not inflate the figures. Limit: 25 µs a message (a few per cent of what storing a message costs).
Everything is written in one transaction that is rolled back.
"""

from __future__ import annotations

import os
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MESSAGES = 10_000
BATCH = 100
LIMIT_US = 25.0


def _setup_django():
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cxm.settings")
    import django

    django.setup()


def main() -> int:
    _setup_django()
    from django.db import transaction

    from apps.accounts.models import Brand, Organization
    from apps.connectors.kinds import ChannelKind
    from apps.connectors.models import Channel
    from apps.conversations.models import Conversation, Message
    from apps.ingestion import pipeline
    from apps.routing.models import BusinessHours, Holiday, SLAPolicy
    from apps.routing.selectors import routing_config_changed
    from apps.routing.services import sla_deadlines_fill

    class Rollback(Exception):
        pass

    try:
        with transaction.atomic():
            organization = Organization.objects.create(
                name="Bench routing", slug=f"bench-routing-{time.time_ns()}"
            )
            brands = [Brand.objects.create(organization=organization, name=f"B{n}") for n in range(3)]
            kinds = [ChannelKind.EMAIL, ChannelKind.LIVECHAT, ChannelKind.WHATSAPP, ChannelKind.X]
            channels = [
                Channel(organization=organization, brand=b, kind=k, name=f"{b.name} {k}")
                for b in brands
                for k in kinds
            ]
            office = {
                d: [["09:00", "12:30"], ["13:30", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri")
            }
            for brand, zone in zip(brands, ("Europe/Paris", "America/New_York", "Asia/Tokyo"), strict=True):
                hours = BusinessHours.objects.create(
                    organization=organization, brand=brand, name=zone, timezone=zone, weekly=office
                )
                for day in range(1, 29, 3):
                    Holiday.objects.create(
                        organization=organization, calendar=hours, date=date(2026, 12, day)
                    )
            policies = 0
            for brand in brands:
                for kind in kinds:
                    for level in ("", "urgent", "high"):
                        SLAPolicy.objects.create(
                            organization=organization,
                            brand=brand,
                            channel_kind=kind,
                            priority_level=level,
                            name=f"{brand.name} {kind} {level}",
                            first_response_minutes=240,
                            next_response_minutes=60,
                        )
                        policies += 1
            for level in ("", "urgent", "high", "normal"):
                SLAPolicy.objects.create(organization=organization, priority_level=level, name=f"any {level}")
                policies += 1
            routing_config_changed(organization.pk)
            conversations = [
                Conversation(
                    organization=organization, brand=channel.brand, channel=channel, priority=(n * 7) % 100
                )
                for n in range(500)
                for channel in [channels[n % len(channels)]]
            ]
            start = datetime(2026, 12, 4, 15, 0, tzinfo=UTC)
            messages = [
                Message(
                    organization_id=organization.pk,
                    conversation=conversations[n % 500],
                    channel=conversations[n % 500].channel,
                    direction=Message.Direction.INBOUND,
                    sent_at=start + timedelta(minutes=n),
                    text="",
                )
                for n in range(MESSAGES)
            ]
            batches = [messages[i : i + BATCH] for i in range(0, MESSAGES, BATCH)]

            started = time.process_time()
            for batch in batches:
                for message in batch:
                    pipeline.sla_deadline(message)
            fixed = (time.process_time() - started) / MESSAGES * 1e6

            sla_deadlines_fill(batches[0])  # the process loads the policies once, as a worker does
            started = time.process_time()
            for batch in batches:
                sla_deadlines_fill(batch)
                for message in batch:
                    pipeline.sla_deadline(message)
            policy = (time.process_time() - started) / MESSAGES * 1e6
            if os.environ.get("BENCH_PROFILE"):
                import cProfile
                import pstats

                profile = cProfile.Profile()
                profile.runcall(lambda: [sla_deadlines_fill(batch) for batch in batches])
                pstats.Stats(profile).sort_stats("tottime").print_stats(12)
            assert all(getattr(m, "sla_due_at", None) for m in messages)
            raise Rollback
    except Rollback:
        pass
    print(
        f"SLA deadline per inbound message, {policies} policies, business hours with holidays, "
        f"{MESSAGES:,} messages"
    )
    print(f"  fixed targets (before):       {fixed:8.2f} µs a message")
    print(f"  SLA policies + business hours: {policy:8.2f} µs a message   (limit {LIMIT_US:.0f} µs)")
    ok = policy <= LIMIT_US
    print("  OK" if ok else "  OVER THE LIMIT")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
