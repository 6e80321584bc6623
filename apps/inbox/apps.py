from django.apps import AppConfig


class InboxConfig(AppConfig):
    name = "apps.inbox"
    label = "inbox"
    verbose_name = "Inbox"

    def ready(self):
        from apps.conversations.hooks import conversations_changed, messages_changed, messages_stored

        from . import live

        messages_stored.connect(live.push_stored)
        messages_changed.connect(live.push_message_events)
        conversations_changed.connect(live.push_conversations_changed)
