from django.apps import AppConfig


class ClassificationConfig(AppConfig):
    # The language detector's models load when a worker process first detects a language
    # (language.default_detector), not as the process starts: lingua holds the GIL for the whole load (~3 s
    # of CPU, 20 s on a busy machine), so a prefork child loading them could not report for work within the
    # pool's 4 s (worker_proc_alive_timeout) and was killed, again and again. Nor in the parent before the
    # fork: lingua loads them with a rayon thread pool, which a forked child cannot use (its threads stay in
    # the parent), so detection in the child would hang.
    default_auto_field = "django.db.models.BigAutoField"
    name = "apps.classification"
    verbose_name = "Classification"

    def ready(self):
        from apps.conversations.hooks import marked_spam, messages_stored, messages_text_changed
        from apps.core.health import check_register
        from apps.customers.hooks import customer_erasing
        from apps.ingestion import hooks

        from . import services
        from .health import check_classifier

        check_register("classifier", check_classifier, needs_database=True)
        customer_erasing.connect(services.training_examples_erase_of_customer)
        marked_spam.connect(services.conversations_spam_learn)

        hooks.before_insert.connect(services.messages_detect_language_before_insert)
        messages_stored.connect(services.messages_classify_on_arrival)
        messages_stored.connect(services.needs_reply_on_stored)
        messages_text_changed.connect(services.messages_classify_again)
