"""The agent's workspace in a real browser on the real ASGI server: the list, the open conversation and the
customer on one screen (htmx swaps, an address that names the conversation, j/k), screens with back
navigation on a phone without sideways scroll, the open conversation kept live (a customer's message through
the real webhook, pipeline and worker; colleagues' replies, notes, assignment and tags; delivery) without
losing a draft, two agents racing for one conversation, and correcting a label on its chip."""

import re
import time
from urllib.parse import urlsplit

import httpx
import pytest
from django.urls import reverse

from apps.accounts.models import Role
from apps.classification.models import TrainingExample
from apps.connectors.kinds import ChannelKind
from apps.conversations.models import Conversation, Message
from apps.conversations.services import conversation_assign_to, conversations_bulk_tag, note_add
from apps.ingestion.models import RawPayload
from apps.replies.services import reply_send
from tests.connectors.livechat.test_widget_browser import CHROMIUM, ROOT, off_loop
from tests.factories import PASSWORD, BrandFactory, ChannelFactory, membership_create
from tests.fakes.telegram import CUSTOMER, DATE, TOKEN, FakeTelegram

from .conftest import conversation_with, hours_ago

ARTIFACTS = ROOT / "test-artifacts"
# Screenshots leave the carets alone (caret="initial"): hiding them leaves an empty style attribute on every
# field, which a later restore of htmx's history parses again, against the Content-Security-Policy.
SECRET = "workspace-telegram-secret"
CHAT = {"id": CUSTOMER["id"], "first_name": CUSTOMER["first_name"], "type": "private"}

pytestmark = [
    pytest.mark.skipif(not CHROMIUM.exists(), reason="no Chromium at /usr/bin/chromium for the browser test"),
    pytest.mark.django_db(transaction=True),
]


def _member(org, username: str, first_name: str):
    membership = membership_create(org, Role.COMMUNITY_MANAGER, username=username)
    membership.user.first_name = first_name
    membership.user.save(update_fields=["first_name"])
    return membership


def _desk(org_a, *, rows: int = 3):
    brand = BrandFactory(organization=org_a, name="Nimbus")
    channel = ChannelFactory(brand=brand, name="Support mail")
    agent, colleague = _member(org_a, "yusuf", "Yusuf"), _member(org_a, "marta", "Marta")
    conversations = [
        conversation_with(
            channel,
            subject=f"Conversation {n} about a rather long and winding problem with the parcel",
            priority=90 - n * 10,
            last_message_at=hours_ago(n),
            inbound={"text": f"Message {n}: where is my parcel? It was due last week and nobody answers."},
        )
        for n in range(rows)
    ]
    return {"channel": channel, "agent": agent, "colleague": colleague, "conversations": conversations}


def _log_in(page, base: str, username: str, next_url: str) -> None:
    from playwright.sync_api import expect

    page.goto(f"{base}{reverse('login')}?next={next_url}")
    expect(page.get_by_label("Username")).to_be_focused()
    page.keyboard.type(username)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(lambda address: urlsplit(address).path == urlsplit(next_url).path)
    expect(page.locator("#inbox-live")).to_have_text("Live")


def _no_sideways_scroll(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    viewport = page.evaluate("document.documentElement.clientWidth")
    wide = page.evaluate(
        """(limit) => Array.from(document.querySelectorAll("body *"))
            .filter((e) => e.getBoundingClientRect().right > limit + 1 && e.getClientRects().length)
            .slice(0, 8)
            .map((e) => `${e.tagName}#${e.id}.${e.className} ${e.getBoundingClientRect().right}`)""",
        viewport,
    )
    assert width <= viewport, f"the page scrolls sideways: {width} px wide in {viewport} px: {wide}"


def _box(page, selector: str) -> dict:
    box = page.locator(selector).bounding_box()
    assert box is not None, f"{selector} is not shown"
    return box


# ------------------------------------------------------------------------------------------ three panes


def test_three_panes_open_in_place_the_address_names_the_conversation_and_j_k_move_along(
    asgi_server, org_a, page
):
    from playwright.sync_api import expect

    desk = off_loop(_desk, org_a)
    first, second, third = desk["conversations"]
    page.set_viewport_size({"width": 1440, "height": 900})
    _log_in(page, asgi_server.url, "yusuf", reverse("inbox:index"))
    page.evaluate("window.stayed = true")  # gone if anything below reloads the page

    page.get_by_role("link", name=re.compile(r"^Conversation 0")).click()
    expect(page.locator("#conversation-title")).to_contain_text("Conversation 0")
    expect(page).to_have_url(re.compile(rf"/inbox/c/{first.pk}/$"))
    assert page.evaluate("window.stayed") is True
    expect(page.locator("#reply-text")).to_be_visible(timeout=15_000)  # the composer came with it

    # Three panes side by side: list, conversation, customer.
    listing, thread, profile = (
        _box(page, "#list-pane"),
        _box(page, ".conversation-main"),
        _box(page, "#customer-profile"),
    )
    assert listing["x"] + listing["width"] <= thread["x"] and thread["x"] + thread["width"] <= profile["x"]
    assert thread["width"] >= 500 and profile["width"] >= 250
    expect(page.locator(f'tr[data-conversation="{first.pk}"]')).to_have_attribute("aria-current", "true")
    _no_sideways_scroll(page)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "workspace-1440.png"), full_page=True, caret="initial")

    # j and k open the next and previous conversation of the list in place.
    page.keyboard.press("j")
    expect(page.locator("#conversation-title")).to_contain_text("Conversation 1")
    expect(page).to_have_url(re.compile(rf"/inbox/c/{second.pk}/$"))
    page.keyboard.press("j")
    expect(page).to_have_url(re.compile(rf"/inbox/c/{third.pk}/$"))
    page.keyboard.press("k")
    expect(page).to_have_url(re.compile(rf"/inbox/c/{second.pk}/$"))
    expect(page.locator(f'tr[data-conversation="{second.pk}"]')).to_have_attribute("aria-current", "true")
    assert page.evaluate("window.stayed") is True
    expect(page.locator("[data-conversation-page]")).to_have_attribute("data-live", "true")

    # The list's filters keep the conversation open, and the address says both.
    page.get_by_role("button", name="Filters").click()
    page.get_by_label("Sort").select_option("oldest")
    # (an agent's list is their default view, "Needs reply", which the address names beside the sort)
    expect(page).to_have_url(re.compile(rf"/inbox/c/{second.pk}/\?view=needs_reply&sort=oldest$"))
    expect(page.locator("#inbox-results tbody tr").first).to_contain_text("Conversation 2")

    # Reloading that address shows the same three panes.
    page.reload()
    expect(page.locator("#inbox-live")).to_have_text("Live")
    expect(page.locator("#conversation-title")).to_contain_text("Conversation 1")
    expect(page.locator("#inbox-results tbody tr").first).to_contain_text("Conversation 2")
    listing, thread, profile = (
        _box(page, "#list-pane"),
        _box(page, ".conversation-main"),
        _box(page, "#customer-profile"),
    )
    assert listing["x"] + listing["width"] <= thread["x"] and thread["x"] + thread["width"] <= profile["x"]


def test_on_a_phone_the_panes_are_screens_with_back_navigation_and_nothing_scrolls_sideways(
    asgi_server, org_a, page
):
    from playwright.sync_api import expect

    desk = off_loop(_desk, org_a, rows=8)
    page.set_viewport_size({"width": 390, "height": 844})
    _log_in(page, asgi_server.url, "yusuf", reverse("inbox:index"))

    # The list comes first: the filters fold behind a button, the rows are cards, nothing scrolls sideways.
    filters = page.locator("#inbox-filters")
    expect(filters).to_be_hidden()
    first_row = page.locator("#inbox-results tbody tr").first
    assert first_row.bounding_box()["y"] < 844, "the list starts below the first screen"
    _no_sideways_scroll(page)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "inbox-390.png"), full_page=True, caret="initial")
    page.get_by_role("button", name="Filters").click()
    expect(filters).to_be_visible()
    _no_sideways_scroll(page)
    page.get_by_role("button", name="Filters").click()
    expect(filters).to_be_hidden()

    # Opening a conversation: its screen replaces the list, titles wrap by words, nothing scrolls sideways.
    first_row.locator("[data-open]").click()
    title = page.locator("#conversation-title")
    expect(title).to_contain_text("Conversation 0")
    expect(page.locator("#list-pane")).to_be_hidden()
    assert _box(page, "#conversation-title")["width"] >= 300
    assert _box(page, ".conversation-main")["width"] >= 340
    _no_sideways_scroll(page)
    page.screenshot(path=str(ARTIFACTS / "conversation-390.png"), full_page=True, caret="initial")
    expect(page).to_have_url(re.compile(rf"/inbox/c/{desk['conversations'][0].pk}/$"))

    # The customer is a link away; the browser's Back, and the pane's "← Inbox", go back to the list.
    page.get_by_role("link", name="Customer", exact=True).click()
    expect(page.locator("#customer-profile")).to_be_in_viewport()
    page.go_back()  # the #customer-profile anchor
    page.go_back()
    expect(page).to_have_url(re.compile(r"/inbox/$"))
    expect(page.locator("#list-pane")).to_be_visible()
    first_row.locator("[data-open]").click()
    expect(title).to_contain_text("Conversation 0")
    page.get_by_role("link", name="← Inbox").click()
    expect(page).to_have_url(re.compile(r"/inbox/$"))
    expect(page.locator("#list-pane")).to_be_visible()
    _no_sideways_scroll(page)


# ------------------------------------------------------------------------------------------ live conversation


def _telegram_desk(org_a, api_base: str):
    channel = ChannelFactory(
        brand=BrandFactory(organization=org_a, name="Nimbus"),
        kind=ChannelKind.TELEGRAM,
        credentials={"bot_token": TOKEN, "webhook_secret": SECRET},
        settings={"api_base": api_base},
    )
    agent, colleague = _member(org_a, "yusuf", "Yusuf"), _member(org_a, "marta", "Marta")
    return channel, agent, colleague


def _telegram_message(update_id: int, message_id: int, text: str) -> dict:
    return {
        "update_id": update_id,
        "message": {
            "message_id": message_id,
            "from": CUSTOMER,
            "chat": CHAT,
            "date": DATE + message_id,
            "text": text,
        },
    }


def _deliver(server, channel, update: dict, *, within: float = 60) -> None:
    """POST the update as Telegram does, and wait until the worker has settled the payload."""
    response = httpx.post(
        f"{server.url}/hooks/{channel.webhook_token}/",
        json=update,
        headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
    )
    assert response.status_code == 200, response.text
    payload_id = response.json()["received"]
    deadline = time.monotonic() + within
    while off_loop(lambda: RawPayload.objects.get(pk=payload_id).status) == RawPayload.Status.RECEIVED:
        assert time.monotonic() < deadline, f"payload {payload_id} left waiting"
        time.sleep(0.1)


@pytest.mark.celery_worker
def test_the_open_conversation_follows_customers_and_colleagues_live_and_keeps_the_draft(
    asgi_server, celery_worker, org_a, page
):
    from playwright.sync_api import expect

    with FakeTelegram() as telegram:
        channel, agent, colleague = off_loop(_telegram_desk, org_a, telegram.url)
        # The worker's first payload loads the pipeline's models: slow on a busy machine.
        _deliver(asgi_server, channel, _telegram_message(1, 7, "My order is late"), within=240)
        conversation = off_loop(lambda: Conversation.objects.get(channel=channel))
        url = reverse("inbox:conversation", args=[conversation.pk])
        page.set_viewport_size({"width": 1440, "height": 900})
        _log_in(page, asgi_server.url, "yusuf", url)
        view = page.locator("[data-conversation-page]")
        expect(view).to_have_attribute("data-live", "true")
        draft = "Hello Ana, I am looking into it right now and"
        page.locator("#reply-text").fill(draft)
        page.locator("#note-text").fill("a note half written")
        page.evaluate("window.stayed = true")

        # The customer writes again: through the signed webhook, the pipeline and the worker, into the thread.
        _deliver(asgi_server, channel, _telegram_message(2, 8, "Any news? It has been a week"))
        stored = time.monotonic()  # the worker committed it
        expect(page.locator("#thread .msg.inbound").filter(has_text="Any news?")).to_have_count(
            1, timeout=5_000
        )
        arrived = time.monotonic() - stored
        # A colleague's note, their reply (sent by the worker to the fake Telegram: its delivery shows),
        # and their changes of assignee, tags and status.
        off_loop(lambda: note_add(conversation=conversation, author=colleague.user, text="Courier called"))
        expect(page.locator("#thread .msg.note").filter(has_text="Courier called")).to_have_count(1)
        off_loop(
            lambda: reply_send(conversation=conversation, author=colleague.user, text="On its way, Ana!")
        )
        reply = page.locator("#thread .msg.outbound").filter(has_text="On its way, Ana!")
        expect(reply.locator(".meta")).to_contain_text("Sent", timeout=15_000)
        off_loop(
            lambda: conversation_assign_to(
                conversation=conversation, assignee=colleague.user, actor=colleague.user
            )
        )
        controls = page.locator("#conversation-controls")
        expect(controls).to_contain_text("assigned to Marta")
        expect(page.get_by_role("button", name="Take over from Marta")).to_be_visible()
        off_loop(
            lambda: conversations_bulk_tag(conversations=[conversation], name="courier", actor=colleague.user)
        )
        expect(controls.locator(".tags")).to_contain_text("courier")

        # Nothing reloaded, and the drafts are as they were.
        assert page.evaluate("window.stayed") is True
        expect(page.locator("#reply-text")).to_have_value(draft)
        expect(page.locator("#note-text")).to_have_value("a note half written")

        # Marta replied since Yusuf opened it: sending is warned about first, and goes on the second press.
        page.locator("#reply-text").press_sequentially(" will write back soon.")
        page.get_by_role("button", name="Send", exact=True).click()
        expect(page.locator("#reply-warning")).to_contain_text(
            "Marta replied since you opened this conversation"
        )
        expect(page.locator("#reply-text")).to_have_value(f"{draft} will write back soon.")
        assert off_loop(lambda: Message.objects.filter(author_user=agent.user).count()) == 0
        page.get_by_role("button", name="Send", exact=True).click()
        expect(page.locator("#thread .msg.outbound").filter(has_text="will write back soon")).to_have_count(1)
        assert telegram.sent and telegram.sent[0]["text"] == "On its way, Ana!"
    # From the worker's commit to the open page: the event, the socket, the thread fetched again. (The test
    # sees the commit by polling every 0.1 s: the figure may be up to that much short.)
    print(f"inbound message shown {arrived:.2f} s after the worker stored it")


# ------------------------------------------------------------------------------------------ safe concurrency


def test_two_agents_race_for_the_same_conversation_and_the_second_is_asked(asgi_server, org_a, page):
    from playwright.sync_api import expect

    desk = off_loop(_desk, org_a, rows=1)
    conversation = desk["conversations"][0]
    url = reverse("inbox:conversation", args=[conversation.pk])
    page.set_viewport_size({"width": 1440, "height": 900})
    _log_in(page, asgi_server.url, "yusuf", url)
    other = page.context.browser.new_context(viewport={"width": 1440, "height": 900}).new_page()
    _log_in(other, asgi_server.url, "marta", url)
    for each in (page, other):
        expect(each.locator("[data-conversation-page]")).to_have_attribute("data-live", "true")

    # Both press "Assign to me" at once: both requests leave before either answer comes back.
    press = "document.querySelector('#conversation-controls button[value=assign_me]').click()"
    page.evaluate(press)
    other.evaluate(press)

    # One of them got it; the other is told who took it, and when, and nothing of theirs was done.
    assignee = None
    deadline = time.monotonic() + 10
    while assignee is None and time.monotonic() < deadline:
        assignee = off_loop(lambda: Conversation.objects.get(pk=conversation.pk).assignee)
    winner, loser = (page, other) if assignee.username == "yusuf" else (other, page)
    winner_name, loser_name = ("Yusuf", "Marta") if winner is page else ("Marta", "Yusuf")
    question = loser.locator("[data-conflict]")
    expect(question).to_contain_text(re.compile(rf"{winner_name} took this \d+ s ago — take over\?"))
    expect(winner.locator("#conversation-controls")).to_contain_text(f"assigned to {winner_name}")
    expect(winner.locator("[data-conflict]")).to_have_count(0)
    assert off_loop(lambda: Conversation.objects.get(pk=conversation.pk).assignee.first_name) == winner_name
    ARTIFACTS.mkdir(exist_ok=True)
    loser.screenshot(path=str(ARTIFACTS / "conversation-conflict-1440.png"), caret="initial")

    # The second agent decides to take over: now it is theirs, and the first sees it live.
    question.get_by_role("button", name="Take over").click()
    expect(loser.locator("#conversation-controls")).to_contain_text(f"assigned to {loser_name}")
    expect(winner.locator("#conversation-controls")).to_contain_text(f"assigned to {loser_name}")
    expect(winner.get_by_role("button", name=f"Take over from {loser_name}")).to_be_visible()
    assert off_loop(lambda: Conversation.objects.get(pk=conversation.pk).assignee.first_name) == loser_name
    other.context.close()


def test_a_bulk_action_over_a_colleagues_change_says_who_and_when_before_doing_it(asgi_server, org_a, page):
    from playwright.sync_api import expect

    desk = off_loop(_desk, org_a, rows=2)
    first, second = desk["conversations"]
    page.set_viewport_size({"width": 1440, "height": 900})
    _log_in(page, asgi_server.url, "yusuf", reverse("inbox:index"))
    page.get_by_role("checkbox", name=re.compile(r"^Conversation 0")).check()
    page.get_by_role("checkbox", name=re.compile(r"^Conversation 1")).check()
    # Marta takes one of them just before Yusuf acts (his list would hear of it within a second).
    off_loop(
        lambda: conversation_assign_to(
            conversation=second, assignee=desk["colleague"].user, actor=desk["colleague"].user, seen_version=0
        )
    )
    page.locator("#inbox-bulk button[value=close]").click()
    status = page.locator("#inbox-action-status")
    expect(status).to_contain_text("It changed since you looked: nothing was done.")
    expect(status).to_contain_text(re.compile(r"Marta took this \d+ s ago"))
    assert off_loop(lambda: Conversation.objects.filter(status="closed").count()) == 0
    status.get_by_role("button", name="Do it anyway").click()
    expect(status).to_contain_text("Status of 2: Closed.")
    assert off_loop(lambda: Conversation.objects.filter(status="closed").count()) == 2


# ---------------------------------------------------------------------------------- one-click correction


def _classified(org_a):
    desk = _desk(org_a, rows=1)
    conversation = desk["conversations"][0]
    message = conversation.messages.get()
    Message.objects.filter(pk=message.pk).update(
        sentiment="neutral",
        sentiment_score=0.1,
        intent="question",
        classified_at=conversation.created_at,
        classification={"sentiment": {"scores": {"neutral": 0.6}}, "intent": {"scores": {"question": 0.5}}},
    )
    return conversation, message


def test_a_label_is_corrected_on_its_chip_in_one_click(asgi_server, org_a, page):
    from playwright.sync_api import expect

    conversation, message = off_loop(_classified, org_a)
    page.set_viewport_size({"width": 1440, "height": 900})
    _log_in(page, asgi_server.url, "yusuf", reverse("inbox:conversation", args=[conversation.pk]))
    chip = page.get_by_label("Sentiment: neutral. Correct it")
    chip.click()
    menu = page.get_by_role("form", name="Correct the sentiment")
    expect(menu).to_be_visible()
    menu.get_by_role("button", name="negative").click()  # the one click that saves it
    expect(page.get_by_label("Sentiment: negative. Correct it")).to_contain_text("negative ✎")
    example = off_loop(lambda: TrainingExample.objects.get(message_id=message.pk))
    assert (example.task, example.label) == ("sentiment", "negative")
    assert off_loop(lambda: Message.objects.get(pk=message.pk).sentiment) == "negative"

    page.get_by_label("Intent: question. Correct it").click()
    page.get_by_role("form", name="Correct the intent").get_by_role("button", name="complaint").click()
    expect(page.get_by_label("Intent: complaint. Correct it")).to_contain_text("complaint ✎")
    assert off_loop(lambda: TrainingExample.objects.filter(message_id=message.pk).count()) == 2
