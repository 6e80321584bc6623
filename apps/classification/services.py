"""Classification: label messages, take agents' corrections, train, activate and roll back models."""

from __future__ import annotations

import json
import logging
import random
from collections import defaultdict
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from apps.accounts.models import Brand, Organization
from apps.connectors.kinds import PRIVATE_KINDS
from apps.conversations.hooks import messages_changed
from apps.conversations.models import Conversation, Message
from apps.conversations.services import SPAM, conversations_refresh_labels, conversations_refresh_needs_reply
from apps.core.audit import audit_record
from apps.listening.models import Level, Mention

from . import engine, language, relevance, targets, triage
from .engine import ClassifierUnavailable, best, label_scores
from .evaluation import scores as evaluation_scores
from .heads import Head
from .hooks import labels_changed
from .models import (
    DEFAULT_INTENT_LABELS,
    RELEVANCE_LABELS,
    ClassificationSettings,
    ClassifierVersion,
    NeedsReply,
    Sentiment,
    Task,
    TrainingExample,
)
from .priority import customer_value, priority_score

logger = logging.getLogger(__name__)

#: Messages one task classifies at once (the encoder runs them 64 at a time): a task's fixed costs (its
#: queries, the hooks' refreshes) are shared by more messages than at 128, ~10 % less CPU a message.
BATCH = 256
#: A message this urgent (priority 0–100) must be answered within URGENT_SLA, whatever its channel's SLA.
URGENT, URGENT_SLA = 70.0, timedelta(hours=1)


def classification_settings(organization_id: int) -> ClassificationSettings:
    found, _ = ClassificationSettings.objects.get_or_create(
        organization_id=organization_id, defaults={"intent_labels": list(DEFAULT_INTENT_LABELS)}
    )
    return found


# ------------------------------------------------------------------ classify


def messages_detect_language(messages: list[Message], *, save: bool = True) -> None:
    """Fill in the language of inbound messages that came without one (before listening's lang: filters).

    `save=False` for messages not inserted yet (ingestion): their insert writes the language, which
    spares an UPDATE of every row (and of its search index entry) right after the insert."""
    missing = [m for m in messages if m.direction == Message.Direction.INBOUND and not m.language and m.text]
    if not missing:
        return
    try:
        codes = language.detect([m.text[: engine.MAX_CHARS] for m in missing])
    except RuntimeError:
        logger.warning("language detection is not available", exc_info=True)
        return
    for message, code in zip(missing, codes, strict=True):
        message.language = code
    if save:
        _update_from_values(
            "conversations_message", [("language", "text")], [(m.pk, m.language) for m in missing]
        )


def _mention_terms(mention: Mention) -> tuple[list[str], list[str]]:
    """The names that point at a mention's target for certain, and the keywords that may not."""
    brand = mention.brand
    if mention.level == Level.COMPETITOR:
        return ([mention.competitor] if mention.competitor else list(brand.competitors)), []
    if mention.level == Level.CATEGORY:
        return [], list(brand.category_terms)
    return [brand.name, *brand.handles], list(brand.keywords)


def messages_classify(*, message_ids: list[int]) -> int:
    """Classify the inbound messages among ``message_ids`` that still wait; return how many were done.

    Raises ClassifierUnavailable when a model cannot run: the messages keep waiting (their
    ``classification_error`` says why) and are picked up again once it is fixed.
    """
    messages = list(
        Message.objects.filter(
            pk__in=message_ids, direction=Message.Direction.INBOUND, classified_at__isnull=True
        )
        .select_related("conversation", "author_identity", "conversation__customer", "channel")
        .order_by("pk")
    )
    if not messages:
        return 0
    try:
        with _one_blas_thread():
            results = _classify(messages)
    except ClassifierUnavailable as exc:
        Message.objects.filter(pk__in=[m.pk for m in messages]).update(classification_error=str(exc)[:2000])
        raise
    with transaction.atomic():
        _store(messages, results)
    transaction.on_commit(lambda: _push_classified(messages))
    transaction.on_commit(lambda: labels_changed.send([m.pk for m in messages]))
    return len(messages)


_threadpools = None


def _one_blas_thread():
    """BLAS on one thread for the step's small products (evidence, heads; the encoder sets its own count):
    a pool of BLAS threads spins while it waits for work, and on a busy machine that cost more CPU than
    the products themselves (a batch's evidence took ~0.1 s)."""
    global _threadpools
    if _threadpools is None:
        from threadpoolctl import ThreadpoolController

        _threadpools = ThreadpoolController()  # finds the loaded BLAS libraries once per process
    return _threadpools.limit(limits=1, user_api="blas")


def _classify(messages: list[Message]) -> dict:
    resolver = engine.Resolver({m.organization_id for m in messages})
    label_sets = {
        org: classification_settings(org).intent_labels for org in {m.organization_id for m in messages}
    }
    missing_language = [m for m in messages if not m.language]
    if missing_language:
        messages_detect_language(missing_language)
    texts = [(m.searchable_text or m.metadata.get("subject", "") or "")[: engine.MAX_CHARS] for m in messages]
    languages = [m.language or "und" for m in messages]
    mentions = defaultdict(list)
    for mention in Mention.objects.filter(message__in=messages).select_related("brand").order_by("pk"):
        mentions[mention.message_id].append(mention)

    # What each brand named in a message is said: its clauses, classified like messages of their own.
    segments: list[tuple[Message, Mention, str]] = []
    for message, text in zip(messages, texts, strict=True):
        for mention in mentions[message.pk]:
            names, keywords = _mention_terms(mention)
            segments.append((message, mention, targets.segment_for(text, names + keywords)))

    all_texts = texts + [segment for _, _, segment in segments]
    all_languages = languages + [m.language or "und" for m, _, _ in segments]
    rows = engine.Rows(all_texts, all_languages)

    out = {"messages": {}, "mentions": {}}
    facts: dict[int, triage.Facts] = {}
    for index, message in enumerate(messages):
        org, brand = message.organization_id, message.conversation.brand_id
        sentiment = resolver.chain(org, brand, Task.SENTIMENT)
        intent = resolver.chain(org, brand, Task.INTENT)
        sentiment_scores = rows.scores(sentiment, index)
        intent_scores = rows.scores(intent, index, wanted=label_sets[org])
        sentiment_label, sentiment_score = best(sentiment_scores)
        intent_label, intent_score = best(intent_scores)
        identity = message.author_identity
        priority, parts = priority_score(
            sentiment=sentiment_label,
            sentiment_score=sentiment_score,
            intent=intent_label,
            followers=identity.followers if identity else None,
            value=customer_value(message.conversation.customer.attributes),
        )
        facts[message.pk] = triage.Facts(
            private=message.channel.kind in PRIVATE_KINDS,
            intent_scores=intent_scores,
            sentiment=sentiment_label,
            sentiment_score=sentiment_score,
            followers=identity.followers if identity else None,
            value=customer_value(message.conversation.customer.attributes),
        )
        out["messages"][message.pk] = {
            "sentiment": sentiment_label,
            "sentiment_score": round(sentiment_score, 4),
            "intent": intent_label,
            "priority": priority,
            "classification": {
                "language": languages[index],
                "sentiment": _explained(sentiment_scores, sentiment, rows, index),
                "intent": _explained(intent_scores, intent, rows, index),
                "priority": {"score": priority, "parts": parts},
                "brands": [],
            },
        }
    for offset, (message, mention, segment) in enumerate(segments):
        index = len(messages) + offset
        org, brand = message.organization_id, mention.brand_id
        sentiment_scores = rows.scores(resolver.chain(org, brand, Task.SENTIMENT), index)
        label, score = best(sentiment_scores)
        names, keywords = _mention_terms(mention)
        relevance_score = relevance.default_relevance(
            all_texts[index], to_brand=mention.level == Level.TO_BRAND, names=names, keywords=keywords
        )
        relevance_chain = resolver.chain(org, brand, Task.RELEVANCE)
        learnt = (
            None if relevance_chain is None else rows.scores(relevance_chain, index).get(engine.RELEVANT, 0.0)
        )
        relevance_score = relevance.blended(relevance_score, learnt)
        out["mentions"][mention.pk] = {
            "sentiment": label,
            "sentiment_score": round(score, 4),
            "relevant": relevance_score >= relevance.THRESHOLD,
            "relevance_score": round(relevance_score, 4),
        }
        out["messages"][message.pk]["classification"]["brands"].append(
            {
                "mention": mention.pk,
                "brand": mention.brand.name,
                "level": mention.level,
                "competitor": mention.competitor,
                "segment": segment if segment != texts[messages.index(message)] else "",
                "sentiment": label,
                "score": round(score, 4),
                "relevant": relevance_score >= relevance.THRESHOLD,
                "relevance": round(relevance_score, 4),
            }
        )
        if mention.brand_id == message.conversation.brand_id:
            found = facts[message.pk]
            if _LEVEL_RANK.get(mention.level, 0) > _LEVEL_RANK.get(found.level, 0):
                found.level, found.relevance = mention.level, relevance_score
    _needs_reply(messages, facts, resolver, out)
    return out


# The listening level that says most about whom a message is for (a message may match several queries).
_LEVEL_RANK = {Level.CATEGORY: 1, Level.COMPETITOR: 2, Level.ABOUT_BRAND: 3, Level.TO_BRAND: 4}


def _thread_facts(messages: list[Message], facts: dict[int, triage.Facts]) -> None:
    """What the thread and the customer's history say of each message: two aggregate queries a batch."""
    from django.db.models import Count, Max, Min, Q

    conversation_ids = {m.conversation_id for m in messages}
    brand_said = {
        row["conversation_id"]: (row["first"], row["last"])
        for row in Message.objects.filter(
            conversation_id__in=conversation_ids, direction=Message.Direction.OUTBOUND
        )
        .values("conversation_id")
        .annotate(first=Min("sent_at"), last=Max("sent_at"))
        .order_by()
    }
    others_last = defaultdict(list)
    for row in (
        Message.objects.filter(conversation_id__in=conversation_ids, direction=Message.Direction.INBOUND)
        .values("conversation_id", "author_identity_id")
        .annotate(last=Max("sent_at"))
        .order_by()
    ):
        others_last[row["conversation_id"]].append((row["author_identity_id"], row["last"]))
    pairs = {(m.conversation.customer_id, m.conversation.brand_id) for m in messages}
    history = {
        (row["customer_id"], row["brand_id"]): (row["n"], row["answered"])
        for row in Conversation.objects.filter(
            customer_id__in={c for c, _ in pairs}, brand_id__in={b for _, b in pairs}
        )
        .exclude(pk__in=conversation_ids)
        .values("customer_id", "brand_id")
        .annotate(n=Count("pk"), answered=Count("pk", filter=Q(first_response_at__isnull=False)))
        .order_by()
    }
    for message in messages:
        found = facts[message.pk]
        first, last = brand_said.get(message.conversation_id, (None, None))
        found.answered = last is not None and last > message.sent_at
        found.reply_to_brand = first is not None and first < message.sent_at
        found.others_answered = any(
            author != message.author_identity_id and when > message.sent_at
            for author, when in others_last[message.conversation_id]
        )
        key = (message.conversation.customer_id, message.conversation.brand_id)
        found.earlier_conversations, found.earlier_answered = history.get(key, (0, 0))


def _needs_reply(messages: list[Message], facts: dict[int, triage.Facts], resolver, out: dict) -> None:
    """The triage decision of each message, from its signals, under its brand's chain (the default policy,
    corrected by what the brand's agents did): a product of a 19-column matrix, no encoder."""
    _thread_facts(messages, facts)
    signals = [facts[m.pk].signals() for m in messages]
    X = triage.matrix(signals)
    chains = [
        resolver.chain(message.organization_id, message.conversation.brand_id, Task.NEEDS_REPLY)
        for message in messages
    ]
    # One matrix product per chain (a batch's messages share a few), not one per message.
    rows_of: dict[tuple, list[int]] = defaultdict(list)
    for index, chain in enumerate(chains):
        rows_of[chain.key].append(index)
    all_probabilities: list = [None] * len(messages)
    for indices in rows_of.values():
        for index, row in zip(indices, chains[indices[0]].probabilities(X[indices]), strict=True):
            all_probabilities[index] = row
    for index, message in enumerate(messages):
        chain, probabilities = chains[index], all_probabilities[index]
        label, confidence = triage.decide(probabilities)
        found = out["messages"][message.pk]
        found["needs_reply"] = label
        found["classification"]["needs_reply"] = {
            "label": label,
            "score": round(confidence, 4),
            "scores": {name: round(float(p), 4) for name, p in zip(chain.labels, probabilities, strict=True)},
            "model": " + ".join(chain.names),
            "reasons": triage.reasons([chain.base, *chain.adapters], signals[index], label),
            "signals": signals[index],
        }


def _explained(scores: dict[str, float], chain: engine.Chain, rows: engine.Rows, index: int) -> dict:
    label, score = best(scores)
    return {
        "label": label,
        "score": round(score, 4),
        "scores": {k: round(v, 4) for k, v in sorted(scores.items(), key=lambda kv: -kv[1])[:4]},
        "model": " + ".join(chain.names),
        # Why: the labelled examples closest in meaning, as the agent will see them.
        "evidence": [
            {"similarity": round(similarity, 3), "label": example_label, "text": text}
            for similarity, example_label, text in rows.nearest(chain, index)
            if example_label in scores
        ],
    }


def _store(messages: list[Message], results: dict) -> None:
    now = timezone.now()
    for message in messages:
        found = results["messages"][message.pk]
        for name, value in found.items():
            setattr(message, name, value)
        message.classified_at = now
        message.classification_error = ""
    # One UPDATE ... FROM (VALUES ...) a table: Django's bulk_update builds a CASE per field and row,
    # which cost more than the models themselves.
    _update_from_values(
        "conversations_message",
        [
            ("sentiment", "text"),
            ("sentiment_score", "float8"),
            ("intent", "text"),
            ("priority", "float8"),
            ("needs_reply", "text"),
            ("classification", "jsonb"),
            ("classified_at", "timestamptz"),
            ("classification_error", "text"),
        ],
        [
            (
                m.pk,
                m.sentiment,
                m.sentiment_score,
                m.intent,
                m.priority,
                m.needs_reply,
                json.dumps(m.classification),
                now,
                "",
            )
            for m in messages
        ],
    )
    if results["mentions"]:
        _update_from_values(
            "listening_mention",
            [
                ("sentiment", "text"),
                ("sentiment_score", "float8"),
                ("relevant", "boolean"),
                ("relevance_score", "float8"),
            ],
            [
                (
                    pk,
                    found["sentiment"],
                    found["sentiment_score"],
                    found["relevant"],
                    found["relevance_score"],
                )
                for pk, found in results["mentions"].items()
            ],
        )
    # A conversation's priority is that of its latest classified inbound message.
    latest: dict[int, Message] = {}
    for message in messages:
        current = latest.get(message.conversation_id)
        if current is None or (message.sent_at, message.pk) > (current.sent_at, current.pk):
            latest[message.conversation_id] = message
    values = ", ".join(["(%s::bigint, %s::float8, %s::timestamptz, %s::text)"] * len(latest))
    with connection.cursor() as cursor:
        cursor.execute(
            # Urgent messages (priority >= URGENT) that need a reply shorten a running SLA clock to
            # URGENT_SLA: the clock is for what must be answered, not for what may wait (triage "optional",
            # "no_reply").
            f"""UPDATE conversations_conversation AS c SET priority = v.priority,
                    sla_due_at = CASE WHEN v.priority >= %s AND c.sla_due_at IS NOT NULL
                                           AND v.needs_reply = %s
                        THEN LEAST(c.sla_due_at, v.sent_at + %s) ELSE c.sla_due_at END
                FROM (VALUES {values}) AS v(id, priority, sent_at, needs_reply)
                WHERE c.id = v.id AND NOT EXISTS (
                    SELECT 1 FROM conversations_message m
                    WHERE m.conversation_id = c.id AND m.direction = 'inbound'
                      AND m.classified_at IS NOT NULL AND m.sent_at > v.sent_at)""",
            [
                URGENT,
                NeedsReply.REPLY,
                URGENT_SLA,
                *(
                    value
                    for m in latest.values()
                    for value in (m.conversation_id, m.priority, m.sent_at, m.needs_reply)
                ),
            ],
        )
    # The inbox filters conversations on the labels of their latest message.
    conversations_refresh_labels(conversation_ids=list(latest))


def _update_from_values(table: str, columns: list[tuple[str, str]], rows: list[tuple]) -> None:
    """Set ``columns`` (name, SQL type) of many rows by id, in one statement; each row is (id, *values)."""
    if not rows:
        return
    casts = ", ".join(["%s::bigint", *(f"%s::{sql_type}" for _, sql_type in columns)])
    names = ", ".join(["id", *(name for name, _ in columns)])
    assignments = ", ".join(f"{name} = v.{name}" for name, _ in columns)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} AS t SET {assignments} "
            f"FROM (VALUES {', '.join([f'({casts})'] * len(rows))}) AS v({names}) WHERE t.id = v.id",
            [value for row in rows for value in row],
        )


def _push_classified(messages: list[Message]) -> None:
    messages_changed.send("message.classified", messages)


def messages_detect_language_before_insert(messages: list[Message]) -> None:
    """The language of new messages that came without one (ingestion's before_insert hook): listening's
    lang: filters read it, and search indexes the text in it. Their insert writes it."""
    messages_detect_language(messages, save=False)


def messages_classify_on_arrival(messages: list[Message]) -> None:
    """Sentiment, intent, relevance, priority: the models run in tasks of their own once the messages are
    committed (the messages_stored hook), so a slow or broken model never holds up ingestion. Until then a
    message waits with classified_at empty, and the beat's classify-waiting sweep comes back to it."""
    if settings.CLASSIFY_ON_ARRIVAL:
        messages_classify_later([m.pk for m in messages if m.direction == Message.Direction.INBOUND])


def needs_reply_on_stored(messages: list[Message]) -> None:
    """New messages change what waits for the brand (messages_stored hook): a reply read back from the
    channel answers it, a new inbound message waits for the classifier (shown as needing a look, not
    hidden)."""
    conversations_refresh_needs_reply(
        conversation_ids={m.conversation_id for m in messages if m.direction != Message.Direction.NOTE}
    )


def messages_classify_again(messages: list[Message]) -> None:
    """Text was added to these messages (the messages_text_changed hook, e.g. the text in their images):
    they wait for the classifier again, and a task classifies them with it. A message whose labels an
    agent already corrected keeps them (classifying again would overwrite the correction)."""
    ids = [
        m.pk
        for m in messages
        if m.direction == Message.Direction.INBOUND
        and not any(isinstance(v, dict) and v.get("corrected") for v in (m.classification or {}).values())
    ]
    Message.objects.filter(pk__in=ids).update(classified_at=None)
    messages_classify_later(ids)


def messages_classify_later(message_ids: list[int]) -> None:
    """Queue classification tasks for these messages, a batch each. If the broker is away, the beat's
    classify-waiting sweep sends them later: nothing waits on this."""
    from .tasks import classify_messages_task

    for start in range(0, len(message_ids), BATCH):
        try:
            classify_messages_task.delay(message_ids[start : start + BATCH])
        except Exception:
            logger.warning("classification not enqueued", exc_info=True)
            return


def messages_awaiting_classification(*, limit: int = 1000, older_than_seconds: int = 60) -> list[int]:
    """Inbound messages still unclassified a while after they arrived (a lost task, a broken model)."""
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    return list(
        Message.objects.filter(
            classified_at__isnull=True, direction=Message.Direction.INBOUND, created_at__lt=cutoff
        )
        .order_by("created_at")
        .values_list("pk", flat=True)[:limit]
    )


# ------------------------------------------------------------------ learn from agents


def label_correct(
    *, message: Message, task: str, label: str, user=None, mention: Mention | None = None
) -> TrainingExample:
    """An agent corrects one label of a message (or of what it says about one brand): the message shows
    the new label now, and the brand's next model learns from it."""
    if task not in Task.values:
        raise ValueError(f"unknown task {task!r}")
    allowed = _labels_for(message.organization_id, task)
    if label not in allowed:
        raise ValueError(f"{label!r} is not one of the {task} labels here (choose from {', '.join(allowed)})")
    text = message.text[: engine.MAX_CHARS]
    brand_id = message.conversation.brand_id
    if mention is not None:
        if mention.message_id != message.pk:
            raise ValueError("that mention belongs to another message")
        names, keywords = _mention_terms(mention)
        text = targets.segment_for(text, names + keywords) if task == Task.SENTIMENT else text
        brand_id = mention.brand_id
    elif task == Task.RELEVANCE:
        raise ValueError("relevance is corrected per brand: name the mention")
    if mention is not None and task == Task.NEEDS_REPLY:
        raise ValueError("whether to reply is decided per message, not per brand it names")
    with transaction.atomic():
        example, _ = TrainingExample.objects.update_or_create(
            message=message,
            task=task,
            about_brand_id=mention.brand_id if mention else None,
            defaults={
                "organization_id": message.organization_id,
                "brand_id": brand_id,
                "text": text,
                "label": label,
                "language": message.language,
                "source": TrainingExample.Source.CORRECTION,
                "created_by": user,
            },
        )
        _apply_correction(message, task, label, mention)
        audit_record(
            organization=message.organization,
            actor=user,
            action="classification.corrected",
            target=message,
            data={"task": task, "label": label, "mention": mention.pk if mention else None},
        )
    return example


def _apply_correction(message: Message, task: str, label: str, mention: Mention | None) -> None:
    classification = dict(message.classification or {})
    if mention is not None:
        field = "sentiment" if task == Task.SENTIMENT else "relevant"
        value = label if task == Task.SENTIMENT else label == engine.RELEVANT
        Mention.objects.filter(pk=mention.pk).update(**{field: value})
        for item in classification.get("brands", []):
            if item.get("mention") == mention.pk:
                item[field] = value
                item["corrected"] = True
    else:
        setattr(message, task, label)
        found = classification.get(task, {})
        # What the model said stays beside the correction: the dashboards count how often agents overrule it.
        predicted = found.get("predicted", found.get("label", ""))
        classification[task] = {**found, "label": label, "corrected": True, "predicted": predicted}
    message.classification = classification
    message.save(update_fields=["classification", *([task] if mention is None else [])])
    if mention is None and task in (Task.SENTIMENT, Task.INTENT, Task.NEEDS_REPLY):
        conversations_refresh_labels(conversation_ids=[message.conversation_id])
        transaction.on_commit(lambda: labels_changed.send([message.pk]))


def _labels_for(organization_id: int, task: str) -> list[str]:
    if task == Task.SENTIMENT:
        return list(Sentiment.values)
    if task == Task.RELEVANCE:
        return list(RELEVANCE_LABELS)
    if task == Task.NEEDS_REPLY:
        return list(NeedsReply.values)
    return list(classification_settings(organization_id).intent_labels)


# ------------------------------------------------------------------ train, activate, roll back


class NotEnoughExamples(ValueError):
    pass


def classifier_version_start(
    *, organization: Organization, brand: Brand | None, task: str, user=None
) -> ClassifierVersion:
    """Make the row a training run reports its progress on (the admin page polls it)."""
    with transaction.atomic():
        latest = (
            ClassifierVersion.objects.select_for_update()
            .filter(organization=organization, brand=brand, task=task)
            .aggregate(Max("version"))["version__max"]
        )
        return ClassifierVersion.objects.create(
            organization=organization, brand=brand, task=task, version=(latest or 0) + 1, created_by=user
        )


def classifier_train(
    *, version: ClassifierVersion, progress: Callable[[int], None] | None = None
) -> ClassifierVersion:
    """Train the model of ``version``'s scope from its examples, evaluate it on held-out examples next
    to the model it replaces, and activate it. A failure is kept on the version with its reason."""

    def report(percent: int) -> None:
        ClassifierVersion.objects.filter(pk=version.pk).update(progress=percent)
        if progress:
            progress(percent)

    try:
        head, metrics, count = _train(version, report)
    except Exception as exc:
        logger.warning("training failed", exc_info=True, extra={"version": version.pk})
        version.status = ClassifierVersion.Status.FAILED
        version.error = str(exc)[:2000] or type(exc).__name__
        version.finished_at = timezone.now()
        version.save(update_fields=["status", "error", "finished_at"])
        if isinstance(exc, NotEnoughExamples | ClassifierUnavailable):
            return version
        raise
    version.artifact = head.to_bytes()
    version.labels = head.labels
    version.feature_spec = head.feature_spec
    version.metrics = metrics
    version.examples_count = count
    version.status = ClassifierVersion.Status.READY
    version.progress = 100
    version.finished_at = timezone.now()
    version.save()
    classifier_activate(version=version, user=version.created_by)
    return version


def _examples(version: ClassifierVersion) -> list[TrainingExample]:
    examples = TrainingExample.objects.filter(organization_id=version.organization_id, task=version.task)
    if version.brand_id:
        examples = examples.filter(brand_id=version.brand_id)
    if version.task == Task.NEEDS_REPLY:
        examples = examples.select_related("message")
    return list(examples.order_by("pk"))


def _base_for(version: ClassifierVersion, labels: list[str]) -> tuple[engine.Chain | None, bool]:
    """The chain a new model corrects (None: it learns every label itself), and whether it must."""
    if version.task == Task.RELEVANCE:
        return None, True
    if version.task == Task.INTENT and not engine.intent_labels_known(labels):
        return None, True  # the organisation's own label set: learnt from its examples alone
    # The chain below this scope: without the scope's own earlier version, which the new one replaces.
    resolver = engine.Resolver(
        {version.organization_id}, without=(version.organization_id, version.brand_id, version.task)
    )
    return resolver.chain(version.organization_id, version.brand_id, version.task), False


def _train(version: ClassifierVersion, report) -> tuple[Head, dict, int]:
    settings_ = classification_settings(version.organization_id)
    labels = _labels_for(version.organization_id, version.task)
    examples = [e for e in _examples(version) if e.label in labels]
    if version.task == Task.NEEDS_REPLY:
        # Triage learns from the signals the message was triaged on (kept with its decision), not its text.
        examples = [e for e in examples if _triage_signals(e) is not None]
    if len(examples) < settings_.min_examples_to_train:
        raise NotEnoughExamples(
            f"{len(examples)} {version.task} examples; at least {settings_.min_examples_to_train} are needed"
        )
    base_chain, from_scratch = _base_for(version, labels)
    present = [label for label in labels if any(e.label == label for e in examples)]
    if from_scratch and len(present) < 2:
        raise NotEnoughExamples(f"examples of at least two labels are needed (only {present})")
    report(5)
    texts = [e.text for e in examples]
    if version.task == Task.NEEDS_REPLY:
        spec, vectors = triage.FEATURE_SPEC, None
        X = triage.matrix([_triage_signals(e) for e in examples])
    else:
        # An adapter reads what its base reads; a head of its own reads the configured features.
        extractor = engine.features(
            base_chain.base.feature_spec if base_chain else settings.CLASSIFIER_FEATURES
        )
        spec = extractor.spec
        languages = [e.language or "und" for e in examples]
        vectors = extractor.vectors(texts)
        X = extractor.transform(texts, languages, vectors)
    report(40)
    y = [e.label for e in examples]
    # An adapter keeps the labels of what it corrects; a head of its own learns the labels it has seen.
    head_labels = base_chain.labels if base_chain is not None else present

    def fit(rows):
        base_logits = base_chain.logits(X[rows]) if base_chain is not None else None
        return Head.train(
            task=version.task,
            labels=head_labels,
            feature_spec=spec,
            X=X[rows],
            y=[y[i] for i in rows],
            C=1.0 if base_chain is None else 4.0,
            base=base_chain.base if base_chain is not None else None,
            base_logits=base_logits,
            meta={"name": f"{version.task} v{version.version}"},
            exemplars=None if vectors is None else (vectors[rows], [texts[i] for i in rows]),
        )

    metrics = _held_out_metrics(version, examples, X, fit, base_chain, report)
    report(80)
    head = fit(list(range(len(examples))))
    metrics["trained_on"] = len(examples)
    return head, metrics, len(examples)


def _triage_signals(example: TrainingExample) -> dict | None:
    if example.message is None:
        return None
    signals = (example.message.classification or {}).get("needs_reply", {}).get("signals")
    if signals and example.source == TrainingExample.Source.BEHAVIOUR:
        # What the agents did is the label: the example is the message as it stood before they did it
        # (a message classified after the brand's reply, as the demo's are, would otherwise give it away).
        signals = {**signals, "answered": 0.0}
    return signals


#: Behaviour examples recorded in one go (the nightly run comes back for the rest).
HISTORY_BATCH = 5000


def needs_reply_examples_record(*, limit: int = HISTORY_BATCH) -> int:
    """Teach the triage what each brand's agents did: every closed conversation gives one example, its
    first classified inbound message, labelled "reply" when the brand answered it and "no_reply" when the
    conversation was closed (or marked spam) without an answer. An agent's own correction of that message
    is kept over it. Returns how many examples were recorded."""
    from django.db.models import Exists, OuterRef

    answered = Message.objects.filter(
        conversation_id=OuterRef("conversation_id"),
        direction=Message.Direction.OUTBOUND,
        sent_at__gte=OuterRef("sent_at"),
    )
    known = TrainingExample.objects.filter(message_id=OuterRef("pk"), task=Task.NEEDS_REPLY)
    firsts = (
        Message.objects.filter(
            conversation__status=Conversation.Status.CLOSED,
            direction=Message.Direction.INBOUND,
            classified_at__isnull=False,
        )
        .exclude(needs_reply="")
        .order_by("conversation_id", "sent_at", "id")
        .distinct("conversation_id")
        .values("pk", "organization_id", "conversation__brand_id", "text", "language")
    )
    rows = list(
        Message.objects.filter(pk__in=firsts.values("pk"))
        .annotate(answered=Exists(answered), known=Exists(known))
        .filter(known=False)
        .values("pk", "organization_id", "conversation__brand_id", "text", "language", "answered")[:limit]
    )
    TrainingExample.objects.bulk_create(
        [
            TrainingExample(
                organization_id=row["organization_id"],
                brand_id=row["conversation__brand_id"],
                task=Task.NEEDS_REPLY,
                text=row["text"][: engine.MAX_CHARS],
                label=NeedsReply.REPLY if row["answered"] else NeedsReply.NO_REPLY,
                language=row["language"],
                message_id=row["pk"],
                source=TrainingExample.Source.BEHAVIOUR,
            )
            for row in rows
        ],
        ignore_conflicts=True,  # an agent corrected it meanwhile: theirs stays
    )
    return len(rows)


def _held_out_metrics(version, examples, X, fit, base_chain, report) -> dict:
    """Hold out a quarter of the examples (at least one per label where it can): the new model and the
    one it replaces are scored on them, so an admin sees what retraining changed."""
    by_label = defaultdict(list)
    for i, example in enumerate(examples):
        by_label[example.label].append(i)
    rng = random.Random(version.pk)
    held = []
    for rows in by_label.values():
        if len(rows) >= 2:
            held += rng.sample(rows, max(1, len(rows) // 4))
    kept = [i for i in range(len(examples)) if i not in set(held)]
    # An adapter may learn from one label (its base knows the others); a head of its own needs two.
    if not held or (base_chain is None and len({examples[i].label for i in kept}) < 2):
        return {"held_out": 0, "note": "too few examples to hold some out; trained on all of them"}
    report(50)
    candidate = fit(kept)
    truth = [examples[i].label for i in held]
    languages = [examples[i].language or "und" for i in held]
    after = engine.Chain(version.task, candidate, [], ["candidate"])
    if base_chain is not None:
        after = engine.Chain(version.task, base_chain.base, [*base_chain.adapters, candidate], ["candidate"])
    metrics = {"held_out": len(held), "after": evaluation_scores(truth, _predict(after, X[held]), languages)}
    if base_chain is not None:
        metrics["before"] = evaluation_scores(truth, _predict(base_chain, X[held]), languages)
    return metrics


def _predict(chain: engine.Chain, X) -> list[str]:
    return [best(scores)[0] for scores in label_scores(chain, X)]


def classifier_activate(*, version: ClassifierVersion, user=None) -> ClassifierVersion:
    """Make ``version`` the model of its scope (a newer one, or an older one: a rollback)."""
    if version.status != ClassifierVersion.Status.READY:
        raise ValueError(f"version {version.version} is {version.status}, not ready")
    with transaction.atomic():
        ClassifierVersion.objects.filter(
            organization_id=version.organization_id,
            brand_id=version.brand_id,
            task=version.task,
            is_active=True,
        ).exclude(pk=version.pk).update(is_active=False)
        ClassifierVersion.objects.filter(pk=version.pk).update(is_active=True)
        audit_record(
            organization=version.organization,
            actor=user,
            action="classifier.activated",
            target=version,
            data={"task": version.task, "version": version.version, "brand": version.brand_id},
        )
    version.is_active = True
    return version


def classifier_deactivate(*, organization: Organization, brand: Brand | None, task: str, user=None) -> None:
    """Go back to the model below this scope (the organisation's, or the shipped default)."""
    with transaction.atomic():
        ClassifierVersion.objects.filter(
            organization=organization, brand=brand, task=task, is_active=True
        ).update(is_active=False)
        audit_record(
            organization=organization,
            actor=user,
            action="classifier.deactivated",
            target=organization,
            data={"task": task, "brand": brand.pk if brand else None},
        )


def scopes_due_for_training() -> list[tuple[int, int | None, str]]:
    """(organisation, brand, task) whose corrections are newer than their active model, and enough."""
    due = []
    rows = (
        TrainingExample.objects.values("organization_id", "brand_id", "task")
        .annotate(latest=Max("created_at"))
        .order_by()
    )
    for row in rows:
        settings_ = classification_settings(row["organization_id"])
        if not settings_.retrain_automatically:
            continue
        active = (
            ClassifierVersion.objects.filter(
                organization_id=row["organization_id"], brand_id=row["brand_id"], task=row["task"]
            )
            .exclude(status=ClassifierVersion.Status.FAILED)
            .aggregate(Max("created_at"))["created_at__max"]
        )
        if active is None or active < row["latest"]:
            due.append((row["organization_id"], row["brand_id"], row["task"]))
    return due


def training_examples_erase(*, message_ids: list[int]) -> int:
    """Right to erasure: forget the corrections made on these messages, and their text kept as evidence
    in the trained versions (the weights themselves hold no text)."""
    examples = TrainingExample.objects.filter(message_id__in=message_ids)
    texts = {text[:300] for text in examples.values_list("text", flat=True)}
    organization_ids = set(examples.values_list("organization_id", flat=True))
    removed = examples.delete()[0]
    if not texts:
        return removed
    for version in ClassifierVersion.objects.filter(
        organization_id__in=organization_ids, status=ClassifierVersion.Status.READY
    ):
        head = Head.from_bytes(bytes(version.artifact))
        keep = [i for i, text in enumerate(head.exemplar_texts) if text not in texts]
        if len(keep) == len(head.exemplar_texts):
            continue
        head.exemplar_texts = [head.exemplar_texts[i] for i in keep]
        head.exemplar_labels = [head.exemplar_labels[i] for i in keep]
        head.exemplar_vectors = head.exemplar_vectors[keep] if keep else None
        ClassifierVersion.objects.filter(pk=version.pk).update(artifact=head.to_bytes())
    engine.forget_loaded_models()
    return removed


def training_examples_erase_of_customer(*, message_ids: list[int], **_) -> None:
    """Receiver of customers.hooks.customer_erasing."""
    training_examples_erase(message_ids=message_ids)


def classification_settings_update(
    *, organization_id: int, intent_labels: str, min_examples_to_train, retrain_automatically: bool, user=None
) -> ClassificationSettings:
    """Change an organisation's intent labels (comma-separated) and learning schedule."""
    labels = list(
        dict.fromkeys(label.strip().lower().replace(" ", "_") for label in intent_labels.split(","))
    )
    labels = [label for label in labels if label]
    if len(labels) < 2:
        raise ValueError("give at least two intent labels, separated by commas")
    if any(len(label) > 40 or not label.replace("_", "").isalnum() for label in labels):
        raise ValueError("intent labels are words (letters, digits, _), at most 40 characters each")
    try:
        minimum = int(min_examples_to_train)
    except (TypeError, ValueError) as error:
        raise ValueError("the minimum number of corrections must be a whole number") from error
    if not 1 <= minimum <= 10_000:
        raise ValueError("the minimum number of corrections must be between 1 and 10,000")
    found = classification_settings(organization_id)
    found.intent_labels = labels
    found.min_examples_to_train = minimum
    found.retrain_automatically = retrain_automatically
    found.save()
    audit_record(
        organization=found.organization,
        actor=user,
        action="classification.settings_changed",
        target=found,
        data={"intent_labels": labels, "min_examples_to_train": minimum},
    )
    return found


def conversations_spam_learn(*, conversations, actor, **_) -> None:
    """Receiver of conversations.hooks.marked_spam: where the organisation's intents include "spam", the
    latest inbound message of each conversation is corrected to it, so that the brand's model learns."""
    if SPAM in classification_settings(conversations[0].organization_id).intent_labels:
        latest_inbound = (
            Message.objects.filter(
                conversation_id__in=[c.pk for c in conversations], direction=Message.Direction.INBOUND
            )
            .select_related("conversation", "organization")
            .order_by("conversation_id", "-sent_at", "-id")
            .distinct("conversation_id")
        )
        for message in latest_inbound:
            label_correct(message=message, task=Task.INTENT, label=SPAM, user=actor)
        conversations_refresh_labels(conversation_ids=[c.pk for c in conversations])
