import threading

from django.apps import AppConfig


def _preload_language_models(**kwargs):
    # Ingestion detects the language of every message: a new worker process loads the detector's models
    # (~3 s of CPU) as it starts rather than in the first batch it ingests. In a thread, as a prefork
    # child that does not report for work within 4 s (worker_proc_alive_timeout) is killed.
    from . import language

    threading.Thread(target=language.preload, name="preload-language-models", daemon=True).start()


class ClassificationConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "apps.classification"
    verbose_name = "Classification"

    def ready(self):
        from celery.signals import worker_process_init

        worker_process_init.connect(_preload_language_models, weak=False)
