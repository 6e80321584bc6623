"""Shared fixtures of the routing tests."""

from tests.connectors.livechat.test_widget_browser import asgi_server, page  # noqa: F401 (fixtures shared here)
from tests.ingestion.conftest import post_signed, webhook_channel  # noqa: F401 (fixtures shared here)
