"""Through the real pipeline: a signed webhook, a real Celery worker, the shipped models."""

import time

import pytest

from apps.classification import engine
from apps.conversations.models import Message
from tests.ingestion.conftest import message

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]


def _wait_for(predicate, timeout=90):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.3)


def test_ingested_messages_are_classified_by_the_worker(webhook_channel, post_signed, celery_worker):
    texts = [
        "Your app deleted all my photos, I want my money back!",
        "¿A qué hora abre la tienda del centro mañana?",
        "Das neue Update ist fantastisch, danke an das ganze Team!",
    ]
    body = {"messages": [message(n, text=text) for n, text in enumerate(texts)]}
    assert post_signed(webhook_channel, body).status_code == 200
    _wait_for(lambda: Message.objects.filter(classified_at__isnull=False).count() == len(texts))
    by_text = {m.text: m for m in Message.objects.all()}
    assert by_text[texts[0]].sentiment == "negative" and by_text[texts[0]].language == "en"
    assert by_text[texts[1]].intent == "question" and by_text[texts[1]].language == "es"
    assert by_text[texts[2]].sentiment == "positive" and by_text[texts[2]].language == "de"
    assert all(m.priority is not None and m.classification["sentiment"]["model"] for m in by_text.values())


def test_a_broken_model_holds_messages_back_without_losing_them(
    webhook_channel, post_signed, celery_worker, tmp_path, monkeypatch
):
    """The worker runs with a defaults folder holding a corrupt model: ingestion goes on, the messages
    wait with the reason, and once the model is back the sweep classifies every one of them."""
    from tests.conftest import spawn_worker, stop_worker

    broken = tmp_path / "defaults"
    broken.mkdir()
    (broken / "sentiment.npz").write_bytes(b"not a model")
    (broken / "intent.npz").write_bytes(b"not a model")
    stop_worker(celery_worker)
    monkeypatch.setenv("CXM_CLASSIFIER_DEFAULTS_DIR", str(broken))
    worker = spawn_worker(f"broken-models-{time.monotonic_ns()}@localhost")
    try:
        body = {"messages": [message(n, text=f"where is my order number {n}?") for n in range(3)]}
        assert post_signed(webhook_channel, body).status_code == 200
        _wait_for(lambda: Message.objects.exclude(classification_error="").count() == 3)
        assert Message.objects.filter(classified_at__isnull=True).count() == 3
        assert "cannot be read" in Message.objects.first().classification_error
    finally:
        stop_worker(worker)
    monkeypatch.delenv("CXM_CLASSIFIER_DEFAULTS_DIR")
    healthy = spawn_worker(f"healthy-models-{time.monotonic_ns()}@localhost")
    try:
        from apps.classification.tasks import classify_waiting_task

        engine.forget_loaded_models()
        _wait_for(
            lambda: classify_waiting_task.delay(0).get(timeout=30) >= 0 and _all_classified(), timeout=120
        )
    finally:
        stop_worker(healthy)


def _all_classified() -> bool:
    return not Message.objects.filter(classified_at__isnull=True).exists()
