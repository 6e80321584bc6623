from django.apps import AppConfig


class RepliesConfig(AppConfig):
    name = "apps.replies"
    label = "replies"
    verbose_name = "Replies"
