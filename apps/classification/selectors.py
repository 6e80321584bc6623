"""Reads for the classification pages: models per scope, corrections, labels an agent may choose."""

from __future__ import annotations

from django.db.models import Count, Max

from apps.accounts.tenancy import scoped

from .models import RELEVANCE_LABELS, ClassifierVersion, Sentiment, Task, TrainingExample
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
    }


def recent_corrections(*, membership, limit: int = 20):
    return (
        scoped(TrainingExample, membership)
        .select_related("brand", "created_by")
        .order_by("-created_at")[:limit]
    )
