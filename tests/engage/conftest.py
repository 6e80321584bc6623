from tests.connectors.livechat.test_widget_browser import asgi_server, page  # noqa: F401 (fixtures shared here)
