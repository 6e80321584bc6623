"""WebSocket routes (Channels). The live inbox consumers plug in here."""

from channels.routing import URLRouter
from django.urls import path

from apps.inbox.consumers import ConversationConsumer, InboxConsumer
from apps.ingestion.livechat import LivechatConsumer

# The website widget's socket. It checks the Origin itself, against the channel's allowed_origins, because
# it is embedded on the brands' own sites, whose origins are not CXM's ALLOWED_HOSTS.
LIVECHAT_PATH_PREFIX = "/ws/livechat/"
livechat_websocket_urlpatterns = [path("ws/livechat/<str:token>/", LivechatConsumer.as_asgi())]

websocket_urlpatterns = [
    path("ws/inbox/", InboxConsumer.as_asgi()),
    path("ws/conversation/<int:pk>/", ConversationConsumer.as_asgi()),
    *livechat_websocket_urlpatterns,
]


def websocket_application(host_checked):
    """The widget's sockets go straight to their consumer; every other one through `host_checked`.

    For asgi.py: `"websocket": websocket_application(AllowedHostsOriginValidator(AuthMiddlewareStack(
    URLRouter(websocket_urlpatterns))))`, so that brands' sites (other origins) can open the widget's socket.
    """
    widget = URLRouter(livechat_websocket_urlpatterns)

    async def application(scope, receive, send):
        if scope.get("path", "").startswith(LIVECHAT_PATH_PREFIX):
            return await widget(scope, receive, send)
        return await host_checked(scope, receive, send)

    return application
