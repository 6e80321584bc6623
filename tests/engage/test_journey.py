"""A community manager's day in a real browser (Chromium through Playwright) on the real ASGI server, with
the shipped classifier: log in, filter the inbox, open a conversation, correct a label, write a note that
@mentions a colleague, reply, and — in the colleague's own browser — see a new inbound message arrive
live. A screenshot of each page is saved under test-artifacts/."""

import json
import re

import pytest

from apps.accounts.models import Role
from apps.classification.models import TrainingExample
from apps.classification.services import messages_classify
from apps.connectors.kinds import ChannelKind
from apps.conversations.models import Message
from apps.ingestion.models import RawPayload
from apps.ingestion.services import payload_process, payload_receive
from tests.connectors.livechat.test_widget_browser import CHROMIUM, ROOT, off_loop
from tests.factories import (
    BrandFactory,
    ChannelFactory,
    ConversationFactory,
    IdentityFactory,
    MessageFactory,
    membership_create,
)
from tests.inbox.test_inbox_browser import _log_in
from tests.ingestion.conftest import message as api_message

ARTIFACTS = ROOT / "test-artifacts"
HOSTILE = '<script>window.hacked=1</script><img src=x onerror="window.hacked=1">'

pytestmark = [
    pytest.mark.skipif(not CHROMIUM.exists(), reason="no Chromium at /usr/bin/chromium for the browser test"),
    pytest.mark.django_db(transaction=True),
]


def _desk(org_a):
    brand = BrandFactory(organization=org_a, name="Nimbus Telecom", keywords=["Nimbus"])
    api = ChannelFactory(brand=brand, kind=ChannelKind.WEBHOOK, credentials={"signing_secret": "s"})
    agent = membership_create(org_a, Role.COMMUNITY_MANAGER, username="maria")
    membership_create(org_a, Role.COMMUNITY_MANAGER, username="li")
    email = ChannelFactory(brand=brand, kind=ChannelKind.EMAIL, name="Support mailbox")
    angry = ConversationFactory(channel=email, subject="Router died again")
    IdentityFactory(
        customer=angry.customer,
        kind=ChannelKind.EMAIL,
        external_id="carla@example.com",
        handle="carla@example.com",
    )
    happy = ConversationFactory(channel=api, subject="Thanks for the fast fix")
    messages = [
        MessageFactory(
            conversation=angry, text="My Nimbus router died again and support ignores me. " + HOSTILE
        ),
        MessageFactory(conversation=happy, text="Thank you so much, the support team was amazing!"),
    ]
    messages_classify(message_ids=[m.pk for m in messages])
    return api, agent, angry, messages[0]


def _shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / f"journey-{name}.png", full_page=True)


def _new_inbound(channel) -> None:
    """A customer writes in: what the webhook endpoint and the workers do with it."""
    body = json.dumps({"messages": [api_message(1, text="Hello? Is anyone there? My internet is down.")]})
    received = payload_receive(channel=channel, source=RawPayload.Source.WEBHOOK, body=body.encode())
    payload_process(payload_id=received.payload.pk)


def test_a_community_managers_journey(asgi_server, org_a, page):
    from playwright.sync_api import expect

    api, agent, angry, first = off_loop(_desk, org_a)

    # Log in and filter the inbox down to negative conversations.
    _log_in(page, asgi_server.url, agent.user.username)
    # An agent lands on "Needs reply", which leaves the praise out: the journey looks at every conversation.
    page.goto(f"{asgi_server.url}/inbox/?view=all")
    expect(page.get_by_role("link", name="Thanks for the fast fix")).to_be_visible()
    page.get_by_label("Sentiment").select_option("negative")
    page.get_by_role("button", name="Apply").click()
    expect(page).to_have_url(re.compile(r"sentiment=negative"))
    expect(page.get_by_role("link", name="Thanks for the fast fix")).to_have_count(0)
    _shot(page, "1-inbox-filtered")

    # Open the conversation: the message is text, its labels are chips.
    page.get_by_role("link", name="Router died again").click()
    page.wait_for_url(re.compile(rf"/inbox/c/{angry.pk}/(\?.*)?$"))  # the workspace keeps the list's filters
    chips = page.locator(f"#classification-{first.pk}")
    expect(chips).to_contain_text("negative")
    assert page.evaluate("window.hacked") is None
    _shot(page, "2-conversation")

    # The page's shortcuts: ? lists them, n and r go to the note and the reply.
    page.keyboard.press("?")
    shortcuts = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(shortcuts).to_be_visible()
    page.keyboard.press("Escape")
    expect(shortcuts).to_be_hidden()
    page.keyboard.press("n")
    expect(page.get_by_label("Internal note")).to_be_focused()
    page.locator("body").focus()
    page.evaluate("document.activeElement.blur()")
    # (the composer, loaded by htmx, takes no focus while one of its requests is under way)
    expect(page.locator(".htmx-request")).to_have_count(0)
    page.keyboard.press("r")
    expect(page.get_by_role("textbox", name="Your reply")).to_be_focused()
    page.evaluate("document.activeElement.blur()")

    # One click corrects the intent: the brand's model will learn it.
    chips.get_by_text("Why, and correct").click()
    intent_form = chips.locator("form").filter(has=page.get_by_label("Intent"))
    intent_form.get_by_label("Intent").select_option("complaint")
    intent_form.get_by_role("button", name="Save").click()
    expect(page.locator(f"#classification-{first.pk}")).to_contain_text("complaint ✎")
    example = off_loop(lambda: TrainingExample.objects.get(message_id=first.pk))
    assert (example.task, example.label) == ("intent", "complaint")

    # A colleague opens the inbox in a browser of her own.
    colleague = page.context.browser.new_context().new_page()
    _log_in(colleague, asgi_server.url, "li")

    # A note that @mentions her, then a reply to the customer.
    page.get_by_label("Internal note").fill("@li can you call her? Second outage this week.")
    page.get_by_label("Internal note").press("Tab")
    page.keyboard.press("Enter")
    expect(page.locator("#thread .msg.note")).to_contain_text("@li can you call her?")
    reply = page.get_by_role("textbox", name="Your reply")
    text = "Hi Carla, I'm sorry: a technician will call you today."
    # A key pressed while htmx swaps the composer in would be lost: wait for it to settle, then for the
    # live check of this very text, before sending.
    expect(page.locator(".htmx-request, .htmx-swapping, .htmx-settling")).to_have_count(0)
    reply.fill(text)
    expect(page.locator("#reply-limits")).to_contain_text(f"{len(text)} characters")
    expect(page.locator(".htmx-request, .htmx-swapping, .htmx-settling")).to_have_count(0)
    reply.press("Control+Enter")
    expect(page.locator("#reply-form")).to_contain_text("Reply queued")
    outbound = off_loop(lambda: Message.objects.get(conversation=angry, direction=Message.Direction.OUTBOUND))
    assert outbound.text.startswith("Hi Carla") and outbound.delivery_status == Message.Delivery.QUEUED
    _shot(page, "3-conversation-worked")

    # Her notification arrives live, and so does a new customer message, with no reload.
    expect(colleague.locator("#notifications-menu")).to_contain_text("1 unread")
    off_loop(_new_inbound, api)
    expect(colleague.locator("#inbox-results")).to_contain_text("My internet is down")
    _shot(colleague, "4-colleague-inbox-live")
