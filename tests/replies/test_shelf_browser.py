"""Saved replies and macros in a real browser on the real ASGI server: an agent makes a saved reply on its
page, inserts it with `/` and the keyboard in the composer with its variables filled, and runs a macro on one
conversation (from the composer) and on several (from the inbox list), undoing each."""

import pytest
from django.urls import reverse

from apps.accounts.models import Role
from apps.conversations.models import Conversation
from apps.replies.models import Macro, SavedReply, Scope
from tests.connectors.livechat.test_widget_browser import CHROMIUM, ROOT, off_loop
from tests.factories import ChannelFactory, membership_create
from tests.inbox.test_inbox_browser import _log_in

from .conftest import conversation_on

SCREENSHOTS = ROOT / "test-artifacts"
# The elements of the page's content that reach beyond the screen's right edge (the top bar is the layout's,
# tested with it).
WIDER_THAN_THE_SCREEN = """Array.from(document.querySelectorAll("main *"))
  .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1)
  .slice(0, 5).map((e) => e.tagName + "." + e.className + "#" + e.id)"""

pytestmark = [
    pytest.mark.skipif(not CHROMIUM.exists(), reason="no Chromium at /usr/bin/chromium for the browser test"),
    pytest.mark.django_db(transaction=True),
]


def _desk(org_a, brand_a):
    agent = membership_create(org_a, Role.COMMUNITY_MANAGER, username="shelf.agent")
    agent.user.first_name, agent.user.last_name = "Sam", "Reyes"
    agent.user.save()
    channel = ChannelFactory(brand=brand_a)
    conversations = [
        conversation_on(channel, text=f"Where is my parcel {n}?", subject=f"Parcel {n}", priority=50 - n)
        for n in (1, 2)
    ]
    return agent, conversations


def _state(pk: int):
    conversation = Conversation.objects.get(pk=pk)
    return conversation.status, sorted(conversation.tags.values_list("name", flat=True))


def test_an_agent_saves_a_reply_and_inserts_it_with_a_slash(asgi_server, org_a, brand_a, page):
    from playwright.sync_api import expect

    agent, (conversation, _) = off_loop(_desk, org_a, brand_a)
    _log_in(page, asgi_server.url, agent.user.username)

    page.goto(f"{asgi_server.url}{reverse('replies:saved_replies')}")
    page.get_by_role("link", name="New saved reply").click()
    page.get_by_label("Title").fill("Parcel on its way")
    page.get_by_label("Body").fill(
        "Hi {{customer.first_name}}, {{agent.name}} from {{brand.name}}: it ships today."
    )
    page.get_by_label("Folder").fill("Delivery")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".shelf-item")).to_contain_text("Parcel on its way")
    expect(page.locator(".shelf-item")).to_contain_text("Personal")
    page.screenshot(path=SCREENSHOTS / "saved-replies.png", full_page=True)
    saved = off_loop(SavedReply.objects.get)
    assert (saved.scope, saved.owner_id, saved.folder) == (Scope.PERSONAL, agent.user_id, "Delivery")
    off_loop(SavedReply.objects.create, organization=org_a, title="Parcel lost", body="We are sorry.")

    page.goto(f"{asgi_server.url}{reverse('inbox:conversation', args=[conversation.pk])}")
    text = page.get_by_role("textbox", name="Your reply")
    expect(text).to_be_visible(timeout=20_000)
    text.focus()
    page.keyboard.type("/parcel")
    options = page.locator("#shelf-picker [role=option]")
    expect(options).to_have_count(2)
    # Never used yet, both: the one outside any folder first.
    expect(options.first).to_contain_text("Parcel lost")
    expect(options.first).to_have_attribute("aria-selected", "true")
    page.keyboard.press("ArrowUp")  # wraps round
    expect(options.nth(1)).to_have_attribute("aria-selected", "true")
    page.keyboard.press("ArrowDown")
    expect(options.first).to_have_attribute("aria-selected", "true")
    page.keyboard.press("ArrowDown")
    chosen = page.locator("#shelf-picker [aria-selected=true]")
    expect(chosen).to_contain_text("Parcel on its way")
    expect(chosen).to_contain_text("Hi Ana, Sam Reyes from Brand A: it ships today.")  # the preview
    page.keyboard.press("Enter")
    expect(text).to_have_value("Hi Ana, Sam Reyes from Brand A: it ships today.")
    expect(page.locator("#shelf-picker")).to_be_hidden()
    expect(page.locator("#shelf-news")).to_contain_text("Inserted “Parcel on its way”.")
    page.screenshot(path=SCREENSHOTS / "composer-slash.png", full_page=True)
    assert off_loop(lambda: SavedReply.objects.get(pk=saved.pk).usage_count) == 1

    # Escape closes the picker and leaves what was typed.
    page.keyboard.type(" /lost")
    expect(options).to_have_count(1)
    page.keyboard.press("Escape")
    expect(page.locator("#shelf-picker")).to_be_hidden()
    expect(text).to_have_value("Hi Ana, Sam Reyes from Brand A: it ships today. /lost")


def test_an_agent_runs_a_macro_on_one_conversation_then_on_several_and_undoes_each(
    asgi_server, org_a, brand_a, page
):
    from playwright.sync_api import expect

    agent, (first, second) = off_loop(_desk, org_a, brand_a)
    sorry = off_loop(
        SavedReply.objects.create, organization=org_a, title="Sorry", body="Sorry, {{customer.first_name}}!"
    )
    off_loop(
        Macro.objects.create,
        organization=org_a,
        name="Lost parcel",
        scope=Scope.ORGANIZATION,
        actions=[
            {"type": "saved_reply", "saved_reply": sorry.pk},
            {"type": "tag", "tag": "lost-parcel"},
            {"type": "status", "status": "pending"},
        ],
    )
    _log_in(page, asgi_server.url, agent.user.username)

    # One conversation, from the composer: the saved reply goes into the reply, nothing is sent.
    page.goto(f"{asgi_server.url}{reverse('inbox:conversation', args=[first.pk])}")
    # The workspace also holds the list's bulk bar (with its own macro menu): use the composer's.
    tools = page.locator("[data-shelf-tools]")
    tools.get_by_label("Macro").select_option(label="Lost parcel")
    tools.get_by_role("button", name="Run macro").click()
    result = page.locator("#macro-result")
    expect(result).to_contain_text("Ran “Lost parcel” on 1 conversation.")
    expect(page.get_by_role("textbox", name="Your reply")).to_have_value("Sorry, Ana!")
    assert off_loop(_state, first.pk) == ("pending", ["lost-parcel"])
    result.get_by_role("button", name="Undo").click()
    expect(result).to_contain_text("Undone.")
    assert off_loop(_state, first.pk) == ("open", [])

    # Several, from the inbox list's bulk bar.
    page.goto(f"{asgi_server.url}{reverse('inbox:index')}")
    expect(page.locator("#inbox-live")).to_have_text("Live")
    page.get_by_role("checkbox", name="Parcel 1").check()
    page.get_by_role("checkbox", name="Parcel 2").check()
    bulk = page.locator("#inbox-bulk")
    bulk.get_by_label("Macro").select_option(label="Lost parcel")
    bulk.get_by_role("button", name="Run macro").click()
    status = page.locator("#inbox-action-status")
    expect(status).to_contain_text("Ran “Lost parcel” on 2 conversations.")
    expect(status).to_contain_text("goes into the composer only when the macro runs on one conversation")
    page.screenshot(path=SCREENSHOTS / "inbox-macro.png", full_page=True)
    assert [off_loop(_state, c.pk) for c in (first, second)] == [("pending", ["lost-parcel"])] * 2
    status.get_by_role("button", name="Undo").click()
    expect(status).to_contain_text("Undone.")
    assert [off_loop(_state, c.pk) for c in (first, second)] == [("open", [])] * 2


def test_the_pages_fit_a_phone(asgi_server, org_a, brand_a, page):
    from playwright.sync_api import expect

    agent, _ = off_loop(_desk, org_a, brand_a)
    off_loop(
        SavedReply.objects.create,
        organization=org_a,
        title="A rather long title for a saved reply that has to wrap on a phone screen",
        folder="Deliveries and returns",
        body="Hi {{customer.first_name}}, " + "averyveryverylongwordwithoutanyspaces" * 3,
    )
    _log_in(page, asgi_server.url, agent.user.username)
    page.set_viewport_size({"width": 390, "height": 844})
    for name in ("replies:saved_replies", "replies:saved_reply_new", "replies:macros", "replies:macro_new"):
        page.goto(f"{asgi_server.url}{reverse(name)}")
        expect(page.locator("h1")).to_be_visible()
        page.screenshot(path=SCREENSHOTS / f"{name.split(':')[1]}-390.png", full_page=True)
        wide = page.evaluate(WIDER_THAN_THE_SCREEN)
        assert not wide, f"{name}: {wide} reach beyond 390 px"
