"""Triage: precision and recall of the "reply" decision, next to a baseline, before and after learning.

    python3 dev.py bench triage.py [--only demo|labelled]

Two sets, each split in halves: a brand's *history* (what it learns from) and *held-out* conversations (what
every figure is measured on). Three systems on the same held-out messages:

- baseline: every message written to the brand (a private channel, or a to-the-brand listening match) whose
  intent is a question or a complaint (churn risk included) is "reply";
- the default triage (apps/classification/triage.py), as the classification step decides it;
- the triage after learning: the brand's adapter trained by the product's own training service
  (services.classifier_train: versions, held-out figures) on the history half.

Sets:
1. **Demo** (apps/demo, generated here when the bench database has none): closed conversations, labelled by
   what the demo's agents did (answered: "reply"; closed without an answer: "no_reply"). The demo's agents
   answer by a policy of their own (generate._reply_chance: most questions and complaints, some praise, the
   first brand thanks its fans, never spam); the history half is recorded as the nightly run records it
   (services.needs_reply_examples_record). Decisions are taken on each conversation's first message as it
   stood before the agents answered (the demo is classified after its replies were written).
2. **Labelled public set** built here from ../shared/datasets (never copied; skipped without it), each
   source put where such messages arrive and labelled by a written policy from its human labels:
   - Bitext customer service val (CDLA-Sharing-1.0; synthetic customer requests) on an email channel, written
     to the brand: "reply" for every request, "optional" for `review` (feedback);
   - Dong et al. 2014 target-dependent Twitter sentiment (research data, measure only) as public posts that
     listening matched as *about* the brand (the tweet's target is one of the brand's keywords): a negative
     post is "reply" (a public complaint), a positive one "optional", a neutral one "no_reply";
   - UCI SMS spam val (CC BY 4.0), the spam only, written to the brand: "no_reply";
   - TweetEval sentiment val (tweets on every topic) as public posts listening matched at the *category*
     level: "no_reply".
   The labels come from the datasets' human labels through that policy, not from CXM's models. The history
   half is given to the brand as agents' one-click corrections.
"""

from __future__ import annotations

import os
import random
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cxm.settings")
os.environ.setdefault("TQDM_DISABLE", "1")  # the demo's progress bars

import django  # noqa: E402

django.setup()

import numpy as np  # noqa: E402

from apps.classification import datasets, engine, triage  # noqa: E402
from apps.classification.models import ClassifierVersion, Task, TrainingExample  # noqa: E402
from apps.classification.services import (  # noqa: E402
    BATCH,
    classifier_train,
    classifier_version_start,
    label_correct,
    messages_classify,
    needs_reply_examples_record,
)
from apps.conversations.models import Conversation, Message  # noqa: E402

DEMO_MESSAGES = int(os.environ.get("CXM_BENCH_TRIAGE_DEMO_MESSAGES", "3000"))
SEED = 11
COMPLAINT_OR_QUESTION = {"question", "complaint", "churn_risk"}


def _figures(truth: list[str], predicted: list[str]) -> tuple[float, float, float]:
    tp = sum(t == p == "reply" for t, p in zip(truth, predicted, strict=True))
    fp = sum(p == "reply" != t for t, p in zip(truth, predicted, strict=True))
    fn = sum(t == "reply" != p for t, p in zip(truth, predicted, strict=True))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def _as_arrived(message: Message) -> dict:
    """The message's signals as they stood when it arrived: nobody had answered it yet."""
    return {**message.classification["needs_reply"]["signals"], "answered": 0.0}


def _decide(messages: list[Message]) -> list[str]:
    """The triage decision of each message under its brand's current chain (default, or default + adapter)."""
    resolver = engine.Resolver({m.organization_id for m in messages})
    out = []
    for message in messages:
        chain = resolver.chain(message.organization_id, message.conversation.brand_id, Task.NEEDS_REPLY)
        probabilities = chain.probabilities(triage.matrix([_as_arrived(message)]))[0]
        out.append(triage.decide(probabilities)[0])
    return out


def _baseline(messages: list[Message]) -> list[str]:
    return [
        "reply"
        if m.classification["needs_reply"]["signals"]["to_brand"] and m.intent in COMPLAINT_OR_QUESTION
        else "no_reply"
        for m in messages
    ]


def _train(organization, brands) -> list[ClassifierVersion]:
    versions = []
    for brand in brands:
        version = classifier_version_start(organization=organization, brand=brand, task=Task.NEEDS_REPLY)
        versions.append(classifier_train(version=version))
    return versions


def _report(title: str, truth: list[str], systems: dict[str, list[str]]) -> dict[str, tuple]:
    share = sum(t == "reply" for t in truth) / len(truth)
    print(f"\n{title}: {len(truth)} held-out messages, {share:.0%} of them 'reply'")
    print(f"  {'system':<44}{'precision':>10}{'recall':>8}{'F1':>7}")
    rows = {}
    for name, predicted in systems.items():
        rows[name] = _figures(truth, predicted)
        precision, recall, f1 = rows[name]
        print(f"  {name:<44}{precision:>10.3f}{recall:>8.3f}{f1:>7.3f}")
    return rows


def _classify_all(ids: list[int]) -> None:
    for start in range(0, len(ids), BATCH):
        messages_classify(message_ids=ids[start : start + BATCH])


# ------------------------------------------------------------------------------------------------- the demo


def demo() -> dict:
    from apps.accounts.models import Brand, Organization
    from apps.demo.generate import demo_exists, generate_demo

    started = time.perf_counter()
    if not demo_exists():
        generate_demo(messages=DEMO_MESSAGES)
    organization = Organization.objects.get(slug="acme")
    waiting = list(
        Message.objects.filter(
            organization=organization, direction=Message.Direction.INBOUND, classified_at__isnull=True
        ).values_list("pk", flat=True)
    )
    _classify_all(waiting)
    firsts = list(
        Message.objects.filter(
            organization=organization,
            conversation__status=Conversation.Status.CLOSED,
            direction=Message.Direction.INBOUND,
        )
        .select_related("conversation")
        .order_by("conversation_id", "sent_at", "id")
        .distinct("conversation_id")
    )
    answered = set(
        Message.objects.filter(
            conversation_id__in=[m.conversation_id for m in firsts], direction=Message.Direction.OUTBOUND
        ).values_list("conversation_id", flat=True)
    )
    rng = random.Random(SEED)
    history = {m.conversation_id for m in firsts if rng.random() < 0.5}
    held = [m for m in firsts if m.conversation_id not in history]
    truth = ["reply" if m.conversation_id in answered else "no_reply" for m in held]

    # A fresh start: no triage model nor example of an earlier run.
    ClassifierVersion.objects.filter(organization=organization, task=Task.NEEDS_REPLY).delete()
    TrainingExample.objects.filter(organization=organization, task=Task.NEEDS_REPLY).delete()
    default = _decide(held)
    needs_reply_examples_record(limit=100_000)
    TrainingExample.objects.filter(
        organization=organization,
        task=Task.NEEDS_REPLY,
        message__conversation_id__in=[m.conversation_id for m in held],
    ).delete()  # the held-out half is not history
    brands = list(Brand.objects.filter(organization=organization).order_by("pk"))
    versions = _train(organization, brands)
    learnt = _decide(held)
    rows = _report(
        f"Demo (closed conversations, labelled by what the agents did; {len(history)} of history)",
        truth,
        {
            "baseline: to the brand and a question or complaint": _baseline(held),
            "triage default": default,
            "triage after learning each brand's history": learnt,
        },
    )
    for brand, version in zip(brands, versions, strict=True):
        metrics = version.metrics
        if version.status != ClassifierVersion.Status.READY or "before" not in metrics:
            print(f"  {brand.name}: {version.status} {version.error or metrics.get('note', '')}")
            continue
        before = metrics["before"]["per_label"].get("reply", {})
        after = metrics["after"]["per_label"].get("reply", {})
        print(
            f"  {brand.name}: v{version.version} on {version.examples_count} examples; on its own held-out "
            f"quarter ({metrics['held_out']}): reply F1 {before.get('f1', 0):.3f} (default) → "
            f"{after.get('f1', 0):.3f}"
        )
    print(f"  ({time.perf_counter() - started:.0f} s)")
    return rows


# ----------------------------------------------------------------------------------------- the labelled set


def _labelled_rows(rng: random.Random) -> list[dict]:
    rows = []
    for example in datasets.bitext_intents("val"):
        label = "optional" if example.label == "review" else "reply"
        rows.append({"text": example.text, "where": "email", "level": "", "label": label, "source": "bitext"})
    dong = datasets._rows("twitter_target_sentiment_dong2014/train.tsv")
    for row in rng.sample(dong, min(600, len(dong))):
        label = {"negative": "reply", "positive": "optional"}.get(row["label"], "no_reply")
        rows.append({"text": row["text"], "where": "x", "level": "about_brand", "target": row["target"],
                     "label": label, "source": "dong2014"})  # fmt: skip
    for example in datasets.spam("val"):
        if example.label == "spam":
            rows.append(
                {"text": example.text, "where": "email", "level": "", "label": "no_reply", "source": "sms"}
            )
    tweets = datasets.tweeteval("val")
    for example in rng.sample(tweets, min(300, len(tweets))):
        rows.append({"text": example.text, "where": "x", "level": "category", "label": "no_reply",
                     "source": "tweeteval"})  # fmt: skip
    rng.shuffle(rows)
    return rows


def labelled() -> dict | None:
    from django.utils import timezone

    from apps.accounts.services import brand_create, member_add, organization_create
    from apps.connectors.kinds import ChannelKind
    from apps.connectors.models import Channel
    from apps.customers.models import Customer
    from apps.listening.models import Mention

    if not datasets.datasets_dir().is_dir():
        print(f"\nlabelled set: skipped ({datasets.datasets_dir()} not found)")
        return None
    started = time.perf_counter()
    rng = random.Random(SEED)
    rows = _labelled_rows(rng)
    organization = organization_create(name=f"Triage bench {time.time_ns()}")
    targets = sorted({row["target"] for row in rows if row.get("target")})
    brand = brand_create(organization=organization, name="Bench Brand", keywords=targets[:500])
    channels = {
        kind: Channel.objects.create(organization=organization, brand=brand, kind=kind, name=kind)
        for kind in (ChannelKind.EMAIL, ChannelKind.X)
    }
    customer = Customer.objects.create(organization=organization, display_name="Bench customer")
    now = timezone.now()
    conversations = Conversation.objects.bulk_create(
        [
            Conversation(
                organization=organization,
                brand=brand,
                channel=channels[row["where"]],
                customer=customer,
                subject=row["text"][:100],
                last_message_at=now,
            )
            for row in rows
        ]  # fmt: skip
    )
    messages = Message.objects.bulk_create(
        [
            Message(
                organization=organization,
                conversation=c,
                channel=c.channel,
                direction="inbound",
                text=row["text"],
                language="en",
                sent_at=now,
            )
            for c, row in zip(conversations, rows, strict=True)
        ]  # fmt: skip
    )
    Mention.objects.bulk_create(
        [
            Mention(organization=organization, message=m, brand=brand, level=row["level"])
            for m, row in zip(messages, rows, strict=True)
            if row["level"]
        ]
    )
    _classify_all([m.pk for m in messages])
    loaded = {
        m.pk: m
        for m in Message.objects.filter(pk__in=[m.pk for m in messages]).select_related("conversation")
    }
    messages = [loaded[m.pk] for m in messages]
    half = len(rows) // 2
    history, held = list(zip(messages[:half], rows[:half], strict=True)), messages[half:]
    truth = [row["label"] for row in rows[half:]]
    default = _decide(held)
    agent = member_add(organization=organization, username=f"bench{time.time_ns()}", role="community_manager",
                       password=None, brands=[])  # fmt: skip
    for message, row in history:
        label_correct(message=message, task=Task.NEEDS_REPLY, label=row["label"], user=agent.user)
    (version,) = _train(organization, [brand])
    learnt = _decide(held)
    result = _report(
        f"Labelled public set ({', '.join(sorted({r['source'] for r in rows}))}; {half} of history)",
        truth,
        {
            "baseline: to the brand and a question or complaint": _baseline(held),
            "triage default": default,
            "triage after learning the brand's history": learnt,
        },
    )
    print(f"  brand model v{version.version}: {version.status}, {version.examples_count} examples")
    sources = defaultdict(lambda: [0, 0, 0])
    for row, d, lt in zip(rows[half:], default, learnt, strict=True):
        sources[row["source"]][0] += 1
        sources[row["source"]][1] += d == row["label"]
        sources[row["source"]][2] += lt == row["label"]
    print("  agreement with the label (all three decisions), per source: " + "; ".join(
        f"{s} {d / n:.0%} → {lt / n:.0%} (n={n})" for s, (n, d, lt) in sorted(sources.items())
    ))  # fmt: skip
    print(f"  ({time.perf_counter() - started:.0f} s)")
    return result


def speed(rows: int = 5000) -> None:
    """The decision's own cost: signals to decisions for a batch, next to the limit it must stay under."""
    rng = np.random.default_rng(SEED)
    signals = [{name: float(rng.random()) for name in triage.NAMES} for _ in range(rows)]
    head = triage.default_head()
    chain = engine.Chain(Task.NEEDS_REPLY, head, [], ["default"])
    started = time.perf_counter()
    for start in range(0, rows, BATCH):
        part = signals[start : start + BATCH]
        X = triage.matrix(part)
        for index, probabilities in enumerate(chain.probabilities(X)):
            label, _ = triage.decide(probabilities)
            triage.reasons([head], part[index], label)
    per_message = (time.perf_counter() - started) / rows * 1e6
    print(
        f"\ndecision and reasons: {per_message:.0f} µs a message "
        "(limit 500 µs: a small part of the classification step's cost)"
    )


if __name__ == "__main__":
    only = sys.argv[sys.argv.index("--only") + 1] if "--only" in sys.argv else ""
    demo_rows = demo() if only in ("", "demo") else None
    labelled_rows = labelled() if only in ("", "labelled") else None
    speed()
    for title, found in (("demo", demo_rows), ("labelled set", labelled_rows)):
        if not found:
            continue
        base = found["baseline: to the brand and a question or complaint"][2]
        learnt = [f1 for name, (_, _, f1) in found.items() if name.startswith("triage after")][0]
        print(
            f"{title}: reply F1 after learning {learnt:.3f} next to the baseline's {base:.3f} (aim: above it)"
        )
