from django.apps import AppConfig


class RepliesConfig(AppConfig):
    name = "apps.replies"
    label = "replies"
    verbose_name = "Replies"

    def ready(self):
        from apps.conversations.hooks import status_set
        from apps.customers.hooks import customer_erasing

        from .services import on_status_set, resolution_examples_erase

        customer_erasing.connect(resolution_examples_erase)
        status_set.connect(on_status_set)  # a closed conversation: what resolved it
