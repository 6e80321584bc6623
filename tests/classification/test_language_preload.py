"""Worker processes load the language detector's models as they start, not in the first batch they ingest."""

import threading

from celery.signals import worker_process_init

from apps.classification import apps, language


def test_a_new_worker_process_loads_the_language_models_in_a_thread(monkeypatch):
    assert any(receiver is apps._preload_language_models for _, receiver in worker_process_init.receivers)
    loaded = threading.Event()
    monkeypatch.setattr(language, "preload", loaded.set)
    apps._preload_language_models(sender=None)  # what worker_process_init calls in each new process
    assert loaded.wait(5)
