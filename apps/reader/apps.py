from django.apps import AppConfig


class ReaderConfig(AppConfig):
    name = "apps.reader"
    label = "reader"
    verbose_name = "Read-only messages"
