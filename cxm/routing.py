"""WebSocket routes (Channels). The live inbox consumers plug in here."""

from django.urls import path

from apps.inbox.consumers import InboxConsumer

websocket_urlpatterns = [path("ws/inbox/", InboxConsumer.as_asgi())]
