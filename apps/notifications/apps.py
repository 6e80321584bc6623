from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "apps.notifications"
    label = "notifications"
    verbose_name = "Notifications"

    def ready(self):
        from apps.ingestion.hooks import channel_failing, channel_recovered

        from .services import channel_failing_notify, channel_recovered_notify

        # A polling channel that starts or stops failing: its organisation's admins are told.
        channel_failing.connect(channel_failing_notify)
        channel_recovered.connect(channel_recovered_notify)
