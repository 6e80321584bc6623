"""Webhook ingestion with 100 active automation rules, next to the same with none, in the same run.

Two organisations, each with a webhook channel: one without rules, one with 100 active rules on "a message
is received" (each tests the message's text, its channel and its language; each message matches exactly
one of them, which tags its conversation: a write per message, as a busy rule set would). The same signed
HTTP POSTs go through the real ASGI server, the webhook intake and real Celery workers (bench/ingestion.py's
path) to each channel in turn. Two figures each:

- stored: from the first request to the last message stored (what the ingestion benchmark measures);
- rules applied: to the moment the workers are idle again, every rule evaluated and every action taken
  (automation's tasks queue behind live ingestion: cxm/queues.py).

Aim: with 100 rules, at least 80 % of the rate without. Classification is off (as in bench/ingestion.py).
`python3 dev.py bench automation.py [messages]` (3,000 by default).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import ingestion  # noqa: E402 - sets the benchmark's environment before Django starts

ROOT = ingestion.ROOT
RULES = 100
AIM = 0.80
# Fewer senders than bench/ingestion.py: the figure wanted is a ratio, not the machine's peak.
CLIENTS = 1
WARM_UP = 200


def _channel(name: str):
    from apps.accounts.services import brand_create, organization_create
    from apps.connectors.models import Channel
    from apps.customers.kinds import ChannelKind

    organization = organization_create(name=f"Bench {name} {uuid.uuid4().hex[:6]}")
    brand = brand_create(organization=organization, name=f"Bench {name}")
    return Channel.objects.create(
        organization=organization,
        brand=brand,
        kind=ChannelKind.WEBHOOK,
        name=f"bench {name}",
        credentials={"signing_secret": "bench-secret"},
    )


def _rules(channel) -> None:
    """100 rules; rule i matches the messages whose order number starts with i (bench/ingestion.py's
    texts: "… my order A-{n:05d} …"), so that each message matches one of them."""
    from apps.automation.models import Rule, Trigger
    from apps.automation.services import rule_save

    for i in range(RULES):
        rule_save(
            rule=Rule(
                organization=channel.organization,
                name=f"Orders {i:03d}xx",
                trigger=Trigger.MESSAGE_RECEIVED,
                position=i,
                conditions=[
                    {"field": "channel", "op": "in", "value": "webhook, email, telegram"},
                    {"field": "language", "op": "not_in", "value": "xx"},
                    {"field": "text", "op": "contains", "value": f"order A-{i:03d}"},
                ],
                actions=[{"type": "tag", "value": f"orders-{i:03d}"}],
            ),
            actor=None,
        )


def _measure(app, channel, messages: int) -> tuple[float, float, str]:
    started = time.perf_counter()
    stored_rate, _, cpu = ingestion.webhook_rate(channel, messages, clients=CLIENTS)
    ingestion._wait_idle(app, countdowns=False)  # not the dashboards' refresh, put off by 30 s
    applied_rate = messages / (time.perf_counter() - started)
    return stored_rate, applied_rate, cpu


def main(messages: int = 3000) -> None:
    ingestion._setup_django()
    from apps.automation.models import RuleRun
    from cxm.celery import app

    workers = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "cxm", "worker", "--concurrency", "2", "--loglevel", "WARNING"]
        + ["--hostname", "bench@%h", "--without-gossip", "--without-mingle"],
        cwd=ROOT,
        env=dict(os.environ),
    )
    try:
        while not app.control.ping(timeout=0.5):
            time.sleep(0.2)
        ingestion._wait_settled(workers.pid)
        plain, ruled = _channel("no rules"), _channel("100 rules")
        _rules(ruled)
        # A first batch, untimed: the workers load what they load lazily (language detection…), which
        # would otherwise be charged to whichever path runs first.
        ingestion.webhook_rate(_channel("warm-up"), WARM_UP, clients=CLIENTS)
        ingestion._wait_idle(app)
        base_stored, base_applied, base_cpu = _measure(app, plain, messages)
        print(
            f"no rules:        {base_stored:8,.0f} msgs/s stored, {base_applied:8,.0f} msgs/s to idle "
            "workers\n"
            f"  {base_cpu}",
            flush=True,
        )
        ingestion._wait_idle(app)  # the first path's dashboards' refresh, put off by 30 s, done untimed
        stored, applied, cpu = _measure(app, ruled, messages)
        runs = RuleRun.objects.filter(rule__organization=ruled.organization).count()
        print(
            f"{RULES} active rules: {stored:8,.0f} msgs/s stored, {applied:8,.0f} msgs/s with every rule "
            f"applied ({runs:,} rule runs for {messages:,} messages)\n  {cpu}",
            flush=True,
        )
        print(
            f"with {RULES} rules: {stored / base_stored:.0%} of the rate without, stored "
            f"(aim ≥ {AIM:.0%}); {applied / base_applied:.0%} with every rule applied",
            flush=True,
        )
    finally:
        workers.terminate()
        workers.wait()


if __name__ == "__main__":
    main(*(int(arg) for arg in sys.argv[1:2]))
