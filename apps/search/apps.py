from django.apps import AppConfig


class SearchConfig(AppConfig):
    name = "apps.search"
    label = "search"
    verbose_name = "Search"

    def ready(self):
        from apps.classification.hooks import labels_changed
        from apps.conversations.hooks import messages_stored, messages_text_changed

        from .services import messages_index_stored, messages_labels_changed

        messages_stored.connect(messages_index_stored)
        messages_text_changed.connect(messages_index_stored)
        labels_changed.connect(messages_labels_changed)
