from django.apps import AppConfig


class ClassificationConfig(AppConfig):
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
