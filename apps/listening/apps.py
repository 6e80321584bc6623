from django.apps import AppConfig


class ListeningConfig(AppConfig):
    name = "apps.listening"
    label = "listening"
    verbose_name = "Listening"

    def ready(self):
        from apps.accounts.hooks import brand_created
        from apps.conversations.hooks import messages_text_changed
        from apps.ingestion import hooks

        from .services import brand_listen, messages_apply_listening

        # A new brand listens from the first message: starter queries from its handles, names and rivals.
        brand_created.connect(brand_listen)

        # Tags new messages to / about a brand, a competitor or the category, in the payload's transaction;
        # again when text is added to them (the text in their images), before the classifier reads the tags.
        hooks.in_transaction.connect(messages_apply_listening)
        messages_text_changed.connect(messages_apply_listening)
