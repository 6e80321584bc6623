"""Reads for the classification pages: models per scope, corrections, labels an agent may choose."""

from __future__ import annotations

from django.db.models import Count, Max

from apps.accounts.tenancy import scoped

from .models import RELEVANCE_LABELS, ClassifierVersion, NeedsReply, Sentiment, Task, TrainingExample
from .services import classification_settings


def classifier_scopes(*, membership) -> list[dict]:
    """One row per (scope, task): the organisation's and each visible brand's models and corrections."""
    from apps.accounts.models import Brand

    versions = list(
        scoped(ClassifierVersion, membership)
        .defer("artifact")
        .select_related("brand", "created_by")
        .order_by("-version")
    )
    examples = {
        (row["brand_id"], row["task"]): row
        for row in scoped(TrainingExample, membership)
        .values("brand_id", "task")
        .annotate(count=Count("pk"), latest=Max("created_at"))
        .order_by()
    }
    scopes = [(None, "Whole organisation")] + [
        (brand, brand.name) for brand in scoped(Brand, membership).order_by("name")
    ]
    rows = []
    for brand, name in scopes:
        brand_id = brand.pk if brand else None
        for task in Task.values:
            own = [v for v in versions if v.brand_id == brand_id and v.task == task]
            found = examples.get((brand_id, task), {})
            rows.append(
                {
                    "brand": brand,
                    "name": name,
                    "task": task,
                    "task_label": Task(task).label,
                    "versions": own,
                    "active": next((v for v in own if v.is_active), None),
                    "examples": found.get("count", 0),
                    "latest_example": found.get("latest"),
                }
            )
    return rows


def label_choices(*, organization_id: int) -> dict[str, list[str]]:
    return {
        Task.SENTIMENT: list(Sentiment.values),
        Task.INTENT: list(classification_settings(organization_id).intent_labels),
        Task.RELEVANCE: list(RELEVANCE_LABELS),
        Task.NEEDS_REPLY: list(NeedsReply.values),
    }


def recent_corrections(*, membership, limit: int = 20):
    return (
        scoped(TrainingExample, membership)
        .select_related("brand", "created_by")
        .order_by("-created_at")[:limit]
    )


def needs_reply_decision(message_or_conversation) -> dict:
    """The triage decision of a message or a conversation, as automation rules and pages read it:
    ``{"decision": "reply" | "optional" | "no_reply" | "", "confidence", "reasons", "model", "corrected"}``.
    A conversation's is that of what waits for the brand (services.conversations_refresh_labels); its
    confidence and reasons are those of its latest inbound message with that decision. "" means not triaged
    yet (waiting for the classifier): a rule should treat it as "look at it"."""
    from apps.conversations.models import Conversation, Message

    message = message_or_conversation
    if isinstance(message_or_conversation, Conversation):
        decision = message_or_conversation.needs_reply
        message = (
            Message.objects.filter(
                conversation=message_or_conversation,
                direction=Message.Direction.INBOUND,
                needs_reply=decision,
            )
            .exclude(needs_reply="")
            .only("needs_reply", "classification")
            .order_by("-sent_at", "-id")
            .first()
        )
        if message is None:
            return {"decision": decision, "confidence": None, "reasons": [], "model": "", "corrected": False}
    found = (message.classification or {}).get("needs_reply", {})
    return {
        "decision": message.needs_reply,
        "confidence": found.get("score"),
        "reasons": list(found.get("reasons", [])),
        "model": found.get("model", ""),
        "corrected": bool(found.get("corrected")),
    }
