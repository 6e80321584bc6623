from django.apps import AppConfig


class RepliesConfig(AppConfig):
    name = "apps.replies"
    label = "replies"
    verbose_name = "Replies"

    def ready(self):
        from apps.customers.hooks import customer_erasing

        from .services import resolution_examples_erase

        customer_erasing.connect(resolution_examples_erase)
