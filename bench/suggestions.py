"""How often the first suggested reply fits the conversation, on held-out resolved conversations of the demo,
next to the most-used saved reply as the baseline, in the same run.

- Data: the demo (`generate_demo`, MESSAGES inbound messages, seed 7) in a database of its own, classified
  and taught to suggestions as `seed_demo` does (`demo_classify`: intents and languages by the classifier,
  resolution examples of every closed conversation), with its saved replies (each brand, nine languages).
- Held out: every fifth closed conversation (by id) whose customer wrote once, so that the truth is known:
  the intent the demo wrote that message for (`metadata.demo_intent`) and its language. Their resolution
  examples are deleted first: a held-out answer is never a candidate for another held-out conversation.
- Suggestions: `reply_suggestions()` as the composer asks for them (same organisation and brand, above the
  similarity floor, same intent first, other intents left out), as the brand's agent. The first draft's
  intent is the intent its source answered: for a resolution, the demo's truth of the resolved
  conversation's question where the customer wrote once (else the classifier's); for a saved reply, the
  intent it was written for. Its language is the resolution's reply's, or the saved reply's.
- Baseline: the most-used saved reply the agent may use in that conversation (what an agent without
  suggestions would reach for first).

`python3 dev.py bench suggestions.py [--messages N] [--keep]` (default 1,500 messages).
"""

from __future__ import annotations

import logging
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from dashboards import _option  # noqa: E402
from inbox import _setup_django  # noqa: E402
from inbox import own_database as shared_own_database  # noqa: E402

MESSAGES = int(_option("--messages", "1500").replace("_", "").replace(",", ""))
KEEP = "--keep" in sys.argv[1:]
DATABASE = f"cxm_bench_suggestions_{MESSAGES}"
HELD_OUT_EVERY = 5


def build() -> None:
    from apps.demo.generate import demo_classify, generate_demo

    started = time.perf_counter()
    generate_demo(messages=MESSAGES, seed=7)
    demo_classify(processes=1)
    print(f"demo of {MESSAGES} messages built and classified in {time.perf_counter() - started:.0f} s")


def held_out() -> list:
    """The held-out conversations, with their question's true intent and language."""
    from django.db.models import Count, Q

    from apps.conversations.models import Conversation, Message
    from apps.replies.models import ResolutionExample

    closed = (
        Conversation.objects.filter(organization__slug="acme", status=Conversation.Status.CLOSED)
        .annotate(inbound=Count("messages", filter=Q(messages__direction=Message.Direction.INBOUND)))
        .filter(inbound=1)
        .select_related("brand", "customer", "channel")
        .order_by("pk")
    )
    chosen = [c for index, c in enumerate(closed) if index % HELD_OUT_EVERY == 0]
    ResolutionExample.objects.filter(conversation__in=chosen).delete()
    questions = {
        m.conversation_id: m
        for m in Message.objects.filter(conversation__in=chosen, direction=Message.Direction.INBOUND)
    }
    for conversation in chosen:
        question = questions[conversation.pk]
        conversation.true_intent = (question.metadata or {}).get("demo_intent") or ""
        conversation.true_language = question.language
    return chosen


def source_intents() -> dict[int, str]:
    """The true intent of each resolved conversation whose customer wrote once (the demo's truth)."""
    from apps.conversations.models import Message

    truth: dict[int, str] = {}
    counts = Counter()
    rows = Message.objects.filter(
        organization__slug="acme", direction=Message.Direction.INBOUND, conversation__status="closed"
    ).values_list("conversation_id", "metadata")
    for conversation_id, metadata in rows:
        counts[conversation_id] += 1
        truth[conversation_id] = (metadata or {}).get("demo_intent") or ""
    return {pk: intent for pk, intent in truth.items() if counts[pk] == 1 and intent}


def measure() -> None:
    from apps.accounts.models import Membership
    from apps.replies.selectors import saved_replies_for
    from apps.replies.suggestions import SIMILARITY_FLOOR, reply_suggestions

    conversations = held_out()
    truths = source_intents()
    agent = Membership.objects.select_related("user").get(user__username="agent")
    tally = Counter()
    started = time.perf_counter()
    for conversation in conversations:
        tally["conversations"] += 1
        found = reply_suggestions(conversation=conversation, membership=agent, agent=agent.user)
        if found.drafts:
            first = found.drafts[0]
            tally["suggested"] += 1
            intent = (
                truths.get(first.conversation_id, first.intent)
                if first.source == "resolution"
                else first.intent
            )
            intent_ok = intent == conversation.true_intent
            language_ok = first.language == conversation.true_language
            tally["s_intent"] += intent_ok
            tally["s_language"] += language_ok
            tally["s_both"] += intent_ok and language_ok
            tally[f"s_source_{first.source}"] += 1
            tally["s_classified_intent_ok"] += found.intent == conversation.true_intent
        baseline = (
            saved_replies_for(conversation=conversation, agent=agent.user, membership=agent)
            .order_by("-usage_count", "pk")
            .first()
        )
        if baseline is not None:
            intent_ok = baseline.intent == conversation.true_intent
            language_ok = baseline.language == conversation.true_language
            tally["b_intent"] += intent_ok
            tally["b_language"] += language_ok
            tally["b_both"] += intent_ok and language_ok
    elapsed = time.perf_counter() - started
    n, suggested = tally["conversations"], tally["suggested"]

    def share(count: int, of: int) -> str:
        return f"{100 * count / of:5.1f} %" if of else "  n/a"

    print(f"held-out resolved conversations (customer wrote once): {n}; similarity floor {SIMILARITY_FLOOR}")
    print(f"with at least one suggestion: {suggested} ({share(suggested, n)})")
    print(
        f"  first suggestions from resolutions {tally['s_source_resolution']}, from saved replies "
        f"{tally['s_source_saved']}; the classifier's intent of the question was right for "
        f"{share(tally['s_classified_intent_ok'], suggested)} of them"
    )
    print(f"{'':38}{'intent':>10}{'language':>10}{'both':>10}")
    for label, key, of in (
        ("first suggestion, of those suggested", "s", suggested),
        ("first suggestion, of all (none = miss)", "s", n),
        ("baseline: most-used saved reply", "b", n),
    ):
        print(
            f"{label:38}{share(tally[f'{key}_intent'], of):>10}{share(tally[f'{key}_language'], of):>10}"
            f"{share(tally[f'{key}_both'], of):>10}"
        )
    print(f"suggestions computed in {1000 * elapsed / max(n, 1):.0f} ms per conversation (with the baseline)")


def main() -> None:
    with shared_own_database(DATABASE, keep=KEEP) as reused:
        _setup_django()
        logging.getLogger("cxm.request").setLevel(logging.WARNING)
        if not reused:
            build()
        measure()


if __name__ == "__main__":
    main()
