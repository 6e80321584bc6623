"""A sender's `javascript:` profile URL never becomes a link, and the Content-Security-Policy holds: a payload
posted to the real webhook entry point of the real ASGI server, then the conversation page in Chromium."""

import json
import time
import urllib.request

import pytest
from django.urls import reverse

from apps.accounts.models import Role
from apps.connectors.kinds import ChannelKind
from apps.connectors.webhook.connector import sign
from apps.conversations.models import Conversation
from apps.customers.models import Identity
from apps.ingestion.services import payload_process
from tests.connectors.livechat.test_widget_browser import CHROMIUM, off_loop
from tests.factories import ChannelFactory, IdentityFactory, membership_create

from .test_conversation_page import _log_in

pytestmark = [
    pytest.mark.skipif(not CHROMIUM.exists(), reason="no Chromium at /usr/bin/chromium for the browser test"),
    pytest.mark.django_db(transaction=True),
]

SECRET = "whsec-browser-secret"
HOSTILE_URL = "javascript:window.hacked=1//https://example.com/"


def _post_signed(url: str, channel, body: dict) -> dict:
    raw = json.dumps(body).encode()
    timestamp = str(int(time.time()))
    request = urllib.request.Request(
        f"{url}/hooks/{channel.webhook_token}/",
        data=raw,
        headers={
            "Content-Type": "application/json",
            "X-CXM-Timestamp": timestamp,
            "X-CXM-Signature": sign(SECRET, timestamp, raw),
        },
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
        return json.loads(response.read())


def _desk(brand):
    channel = ChannelFactory(brand=brand, kind=ChannelKind.WEBHOOK, credentials={"signing_secret": SECRET})
    agent = membership_create(brand.organization, Role.COMMUNITY_MANAGER, username="csp.agent")
    return channel, agent


def _stored_and_older_identities(channel) -> Conversation:
    """What the workers do with the payload; then two more identities of the same customer, stored as they
    came before URLs were checked on the way in: one hostile, one a real profile."""
    conversation = Conversation.objects.get(channel=channel)
    customer = conversation.customer
    assert Identity.objects.get(customer=customer).profile_url == ""  # dropped at ingestion
    IdentityFactory(customer=customer, kind=ChannelKind.X, profile_url="JavaScript:window.hacked=2")
    IdentityFactory(customer=customer, kind=ChannelKind.MASTODON, profile_url="https://social.example/@ana")
    return conversation


def test_a_javascript_profile_url_is_no_link_and_the_page_runs_under_its_csp(asgi_server, brand_a, page):
    from playwright.sync_api import expect

    channel, agent = off_loop(_desk, brand_a)
    received = _post_signed(
        asgi_server.url,
        channel,
        {
            "id": "m-1",
            "thread_id": "t-1",
            "text": "hello",
            "sent_at": "2026-11-20T10:00:00Z",
            "author": {"id": "u-1", "name": "Ana", "profile_url": HOSTILE_URL},
        },
    )
    off_loop(payload_process, payload_id=received["received"])
    conversation = off_loop(_stored_and_older_identities, channel)

    path = reverse("inbox:conversation", args=[conversation.pk])
    _log_in(page, asgi_server.url, agent.user.username, path)
    response = page.reload()
    policy = response.headers["content-security-policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["script-src"] == "'self'" and "unsafe" not in policy
    assert directives["object-src"] == "'none'" and directives["frame-ancestors"] == "'none'"

    # The page works under its policy: htmx loaded the composer, the WebSocket is open.
    expect(page.locator("#reply-composer textarea")).to_be_visible()
    expect(page.locator("#reply-live")).to_have_attribute("data-live", "on")
    hrefs = page.eval_on_selector_all("a[href]", "links => links.map(link => link.href)")
    assert not [href for href in hrefs if not href.startswith(("http://", "https://"))]
    assert "https://social.example/@ana" in hrefs
    assert page.get_by_role("link", name="profile").count() == 1
    assert page.evaluate("window.hacked") is None

    # An inline script slipped into the page does not run: the policy refuses it, and says so (on a page of
    # its own: on this one, the fixture fails the test on any refusal).
    probe = page.context.browser.new_context().new_page()
    refused = []
    probe.on("console", lambda message: refused.append(message.text))
    _log_in(probe, asgi_server.url, agent.user.username, path)
    probe.evaluate(
        "() => { const s = document.createElement('script'); s.textContent = 'window.hacked = 3';"
        " document.body.appendChild(s); }"
    )
    expect(probe.locator("#reply-live")).to_have_attribute("data-live", "on")
    assert probe.evaluate("window.hacked") is None
    assert any("Content Security Policy" in text for text in refused)
