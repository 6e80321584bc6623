from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "apps.analytics"
    label = "analytics"
    verbose_name = "Analytics"

    def ready(self):
        from apps.conversations.hooks import messages_changed, messages_stored

        from .services import rollups_refresh_after_classified, rollups_refresh_after_stored

        messages_stored.connect(rollups_refresh_after_stored)
        messages_changed.connect(rollups_refresh_after_classified)
