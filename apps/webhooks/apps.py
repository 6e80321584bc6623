from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


def _forget_subscriptions(sender, instance, **kwargs):
    from .services import subscriptions_forget

    subscriptions_forget(instance.organization_id)


class WebhooksConfig(AppConfig):
    name = "apps.webhooks"
    label = "webhooks"
    verbose_name = "Outbound webhooks"

    def ready(self):
        from apps.conversations.hooks import messages_stored, note_added, status_set
        from apps.ingestion.hooks import conversations_opened

        from . import events

        messages_stored.connect(events.messages_created)  # only where an endpoint listens (a cached check)
        conversations_opened.connect(events.conversations_created)
        status_set.connect(events.on_status_set)
        note_added.connect(events.on_note_added)
        # Any change of an endpoint, from the services or the Django admin, clears the cached subscriptions.
        endpoint = self.get_model("WebhookEndpoint")
        post_save.connect(_forget_subscriptions, sender=endpoint, dispatch_uid="webhooks-forget-save")
        post_delete.connect(_forget_subscriptions, sender=endpoint, dispatch_uid="webhooks-forget-delete")
