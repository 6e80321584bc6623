"""The API's docs pages (Swagger UI, ReDoc) and the Django admin render in Chromium under the
Content-Security-Policy: the `page` fixture fails the test on any refusal or script error."""

import pytest
from django.urls import reverse

from apps.accounts.models import Role
from tests.connectors.livechat.test_widget_browser import CHROMIUM, asgi_server, off_loop, page  # noqa: F401
from tests.factories import membership_create
from tests.inbox.test_conversation_page import _log_in

pytestmark = [
    pytest.mark.skipif(not CHROMIUM.exists(), reason="no Chromium at /usr/bin/chromium for the browser test"),
    pytest.mark.django_db(transaction=True),
]


def test_docs_and_admin_work_under_the_policy(asgi_server, org_a, page):  # noqa: F811
    from playwright.sync_api import expect

    admin = off_loop(membership_create, org_a, Role.ADMIN, username="docs.admin")
    _log_in(page, asgi_server.url, admin.user.username, reverse("accounts:overview"))

    page.goto(f"{asgi_server.url}{reverse('api:docs')}")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("CXM API", timeout=20_000)
    expect(page.locator(".opblock").first).to_be_visible()

    # ReDoc's sidebar shows Redocly's logo from their CDN: the policy refuses it (nothing loads from
    # elsewhere), the only refusal allowed there — on a page of its own (the fixture's fails on any).
    redoc = page.context.browser.new_context().new_page()
    refused = []
    redoc.on(
        "console", lambda message: "Content Security Policy" in message.text and refused.append(message.text)
    )
    redoc.on("pageerror", lambda error: refused.append(str(error)))
    _log_in(redoc, asgi_server.url, admin.user.username, reverse("accounts:overview"))
    redoc.goto(f"{asgi_server.url}{reverse('api:redoc')}")
    expect(redoc.locator("#redoc-container h1")).to_contain_text("CXM API", timeout=20_000)
    assert all("https://cdn.redoc.ly/" in text for text in refused), refused

    page.goto(f"{asgi_server.url}/admin/")
    expect(page.locator("#site-name")).to_contain_text("CXM administration")
    page.goto(f"{asgi_server.url}/admin/accounts/brand/add/")
    expect(page.locator("#content h1")).to_be_visible()
