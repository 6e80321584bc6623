"""The classifier's part of /health/ (apps/core/health.py), registered in ClassificationConfig.ready()."""

from apps.conversations.models import Message

from .engine import defaults_dir


def check_classifier() -> dict:
    """The shipped models are in place; how many messages wait for the classifier, and why if it fails."""
    missing = [task for task in ("sentiment", "intent") if not (defaults_dir() / f"{task}.npz").is_file()]
    if missing:
        raise RuntimeError(f"missing default models in {defaults_dir()}: {', '.join(missing)}")
    waiting = Message.objects.filter(classified_at__isnull=True, direction=Message.Direction.INBOUND)
    failing = waiting.exclude(classification_error="").values_list("classification_error", flat=True).first()
    return {"waiting": waiting[:10_001].count(), **({"last_error": failing[:200]} if failing else {})}
