"""HTTP through Django, WebSockets through Channels (consumers are routed in cxm/routing.py).

Webhook POSTs are taken in front of Django by the intake (apps/ingestion/intake.py), which hands Django
every request it does not answer itself.
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cxm.settings")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from apps.ingestion.intake import WebhookIntake  # noqa: E402
from cxm.routing import websocket_application, websocket_urlpatterns  # noqa: E402

webhook_intake = WebhookIntake(django_asgi_app)

application = ProtocolTypeRouter(
    {
        "http": webhook_intake,
        # The live-chat widget is embedded on brands' own sites and checks their origins itself; every
        # other socket must come from CXM's own hosts.
        "websocket": websocket_application(
            AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns)))
        ),
        # Lets the intake publish the tasks it still holds when the server stops.
        "lifespan": webhook_intake.lifespan,
    }
)
