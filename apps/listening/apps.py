from django.apps import AppConfig


class ListeningConfig(AppConfig):
    name = "apps.listening"
    label = "listening"
    verbose_name = "Listening"

    def ready(self):
        from apps.ingestion import hooks

        from .services import messages_apply_listening

        # Tags new messages to / about a brand, a competitor or the category, in the payload's transaction.
        hooks.in_transaction.connect(messages_apply_listening)
