"""The widget in a real browser against a real ASGI server (uvicorn: HTTP and WebSockets), end to end.

pytest-django's live_server is WSGI only (no WebSockets), so the test starts uvicorn on the test database.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.db import connection

from apps.accounts.models import Role
from apps.conversations.models import Conversation, Message
from apps.ingestion.models import RawPayload
from apps.ingestion.services import payload_process
from apps.replies.delivery import message_deliver
from apps.replies.services import reply_create
from tests.factories import membership_create

from .helpers import livechat_channel

ROOT = Path(__file__).resolve().parents[3]
CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOT = ROOT / "test-artifacts" / "livechat-widget.png"

pytestmark = [
    pytest.mark.skipif(not CHROMIUM.exists(), reason="no Chromium at /usr/bin/chromium for the browser test"),
    pytest.mark.django_db(transaction=True),
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _test_database_url() -> str:
    from django.conf import settings
    from django.db import connection

    parts = urlsplit(settings.DATABASE_URL)
    return urlunsplit(parts._replace(path=f"/{connection.settings_dict['NAME']}"))


class AsgiServer:
    """uvicorn serving cxm.asgi on the test database and Redis, with DEBUG on (for the demo page)."""

    def __init__(self, log_path: Path, *, debug: bool = True):
        self.debug = debug
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self.process = None

    def start(self) -> None:
        env = dict(
            os.environ, DATABASE_URL=_test_database_url(), CXM_TESTING="1", DEBUG="1" if self.debug else "0"
        )
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "uvicorn", "cxm.asgi:application", "--host", "127.0.0.1"]
                + ["--port", str(self.port), "--no-access-log", "--lifespan", "off"],
                env=env,
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 60
        while not self._answers():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                pytest.fail(f"uvicorn did not start:\n{self.log_path.read_text(errors='replace')[-3000:]}")
            time.sleep(0.2)

    def _answers(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/health/?live=1", timeout=2) as response:
                return response.status == 200
        except OSError:
            return False

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


@pytest.fixture
def asgi_server(transactional_db, tmp_path):
    server = AsgiServer(tmp_path / "uvicorn.log")
    server.start()
    yield server
    server.stop()


def _wait_for(check, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.1)
    raise AssertionError("timed out")


def off_loop(function, *args, **kwargs):
    """Run Django code on a thread of its own: Playwright's sync API keeps an event loop on this one."""

    def run():
        try:
            return function(*args, **kwargs)
        finally:
            connection.close()

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(run).result()


def agent_answers(channel, payload_id: int, text: str) -> Message:
    """What the workers and the inbox do: ingest the payload, then an agent's reply is delivered."""
    payload_process(payload_id=payload_id)
    conversation = Conversation.objects.get(channel=channel)
    agent = membership_create(channel.organization, Role.COMMUNITY_MANAGER).user
    agent.first_name = "Marta"
    agent.save()
    reply = reply_create(conversation=conversation, author=agent, text=text)
    message_deliver(message_id=reply.pk)
    return Message.objects.get(pk=reply.pk)


def _refused_by_policy(message, errors: list) -> None:
    if "Content Security Policy" in message.text:
        errors.append(f"{message.text} (at {message.location.get('url')})")


@pytest.fixture
def page():
    """A Chromium page; it fails the test on any JavaScript error of the page, and on anything the page's
    Content-Security-Policy refused (Chromium reports each refusal on the console)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 760})
            errors = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.on("console", lambda message: _refused_by_policy(message, errors))
            yield page
            assert errors == []
        finally:
            browser.close()


def test_a_visitor_chats_with_the_keyboard_and_sees_the_reply_live(asgi_server, brand_a, page):
    from playwright.sync_api import expect

    channel = off_loop(
        livechat_channel,
        brand_a,
        settings={"widget": {"title": "Brand A support", "greeting": "Hi! How can we help?"}},
    )
    text = "Hello from a real browser <b>not bold</b>"

    page.goto(f"{asgi_server.url}/livechat/{channel.webhook_token}/demo/")

    bubble = page.get_by_role("button", name="Open chat")
    bubble.focus()
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="Brand A support")
    expect(dialog).to_be_visible()
    box = page.get_by_role("textbox", name="Your message")
    expect(box).to_be_focused()
    expect(dialog.get_by_text("Hi! How can we help?")).to_be_visible()
    page.keyboard.type(text)
    page.keyboard.press("Enter")

    log = page.get_by_role("log", name="Messages")
    expect(log.get_by_text(text, exact=True)).to_be_visible()
    assert log.locator("b").count() == 0  # rendered as text, never as HTML
    payload = _wait_for(lambda: off_loop(RawPayload.objects.filter(channel=channel).first))
    assert payload.source == RawPayload.Source.WIDGET
    expect(log.get_by_text("Sending…")).to_have_count(0)  # acknowledged once stored

    # The worker ingests it; an agent answers from the inbox; the reply shows up live.
    reply = off_loop(agent_answers, channel, payload.pk, "Hi! Marta here, how can I help?")
    assert reply.delivery_status == Message.Delivery.SENT
    expect(log.get_by_text("Hi! Marta here, how can I help?")).to_be_visible()
    expect(log.get_by_text("Marta ·", exact=False)).to_be_visible()
    SCREENSHOT.parent.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOT))

    # Escape closes the panel and gives the focus back to the bubble.
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(bubble).to_be_focused()

    # A returning visitor (same browser) gets their conversation back.
    page.reload()
    page.get_by_role("button", name="Open chat").click()
    log = page.get_by_role("log", name="Messages")
    expect(log.get_by_text(text, exact=True)).to_be_visible()
    expect(log.get_by_text("Hi! Marta here, how can I help?")).to_be_visible()
    assert off_loop(RawPayload.objects.filter(channel=channel).count) == 1

    # The server goes away: a message written meanwhile waits, and is sent once the widget is back.
    asgi_server.stop()
    expect(page.get_by_role("status")).to_contain_text("reconnecting")
    page.get_by_role("textbox", name="Your message").fill("Written while offline")
    page.keyboard.press("Enter")
    expect(log.get_by_text("Sending…")).to_have_count(1)
    asgi_server.start()
    expect(log.get_by_text("Sending…")).to_have_count(0, timeout=20_000)
    _wait_for(lambda: off_loop(RawPayload.objects.filter(channel=channel).count) == 2)
    bodies = off_loop(lambda: [bytes(p.body) for p in RawPayload.objects.filter(channel=channel)])
    assert sum(b"Written while offline" in body for body in bodies) == 1


def test_a_logged_in_visitor_is_identified_and_their_chat_is_not_left_behind_at_logout(
    asgi_server, brand_a, page
):
    from playwright.sync_api import expect

    channel = off_loop(livechat_channel, brand_a)
    demo = f"{asgi_server.url}/livechat/{channel.webhook_token}/demo/"
    page.goto(f"{demo}?login=user-9&name=Bo+Berg&email=bo@example.com")
    page.get_by_role("button", name="Open chat").click()
    page.get_by_role("textbox", name="Your message").fill("Logged in and asking")
    page.keyboard.press("Enter")
    log = page.get_by_role("log", name="Messages")
    expect(log.get_by_text("Logged in and asking")).to_be_visible()
    expect(log.get_by_text("Sending…")).to_have_count(0)

    def ingested():
        payload = RawPayload.objects.get(channel=channel)
        payload_process(payload_id=payload.pk)
        message = Message.objects.select_related("author_identity").get(channel=channel)
        return message.author_identity, message.metadata["visitor"]

    identity, first_visitor = off_loop(ingested)
    assert (identity.kind, identity.external_id, identity.display_name) == ("website", "user-9", "Bo Berg")
    assert identity.email == "bo@example.com" and identity.email_verified

    # The user logs out; whoever uses the browser next starts afresh and does not see Bo's chat.
    page.goto(demo)
    page.get_by_role("button", name="Open chat").click()
    page.get_by_role("textbox", name="Your message").fill("Anonymous now")
    page.keyboard.press("Enter")
    log = page.get_by_role("log", name="Messages")
    expect(log.get_by_text("Sending…")).to_have_count(0)
    expect(log.get_by_text("Logged in and asking")).to_have_count(0)
    bodies = off_loop(lambda: [json.loads(bytes(p.body)) for p in RawPayload.objects.filter(channel=channel)])
    visitors = {body["visitor"] for body in bodies}
    assert len(bodies) == 2 and len(visitors) == 2 and first_visitor in visitors
