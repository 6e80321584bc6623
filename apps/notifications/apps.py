from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "apps.notifications"
    label = "notifications"
    verbose_name = "Notifications"

    def ready(self):
        from apps.conversations import hooks as conversation_hooks
        from apps.ingestion.hooks import channel_failing, channel_recovered

        from . import services

        # The members a note mentions, a conversation's new assignee, the assignee of one that woke up.
        conversation_hooks.note_added.connect(services.note_mentions_notify)
        conversation_hooks.assigned.connect(services.assignee_notify)
        conversation_hooks.unsnoozed.connect(services.unsnoozed_notify)

        # A polling channel that starts or stops failing: its organisation's admins are told.
        channel_failing.connect(services.channel_failing_notify)
        channel_recovered.connect(services.channel_recovered_notify)
