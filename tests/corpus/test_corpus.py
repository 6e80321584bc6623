"""The corpus: real-shaped payloads of every platform, each with the outcome it must end in.

Every file under tests/corpus/<platform>/ holds one payload as the platform sends or serves it and what
must come of it. manifest.json records the source and licence of each, and its origin: "collected" (copied
from a public test suite, e.g. CPython's email tests, feedparser's, teloxide's; notices in LICENSES.md) or
"written" (after the shapes of the platform's published documentation):

    {"entry": "telegram" | "whatsapp" | "messenger" | "instagram" | "webhook" | "feed" | "email" | "x"
              | "mastodon" | "reddit" | "bluesky" | "widget",
     "phase": 1,                      # later phases are delivered once earlier ones are processed
     "payload": {…} | "raw": "…",     # JSON payload, or the feed / mail as text ("raw_b64" for bytes)
     "visitor": "<32 hex>", "messages": ["…"],   # the widget: what a visitor types
     "serve": {…},                    # polled platforms: what the fake answers (X: tweets, users,
                                      # data_as_object; Mastodon: statuses, notifications, queries,
                                      # ignores_types; Reddit: things, as its listings hold them;
                                      # Bluesky: posts, notifications, actors, queries,
                                      # ignores_reasons)
     "content_type": "…",             # feeds: what the site answers
     "phone_number_id": "…",          # WhatsApp: the case gets a channel of its own for this number
     "own_channel": true,             # signed webhooks: a channel of its own (its suite reuses its ids)
     "expect": {"outcome": "stored" | "applied" | "ignored" | "rejected" | "poll_error",
                "event": "…",         # ignored: the event type named
                "reason": "…",        # ignored / rejected / poll_error: a part of the reason
                "messages": [{"id", "text", "author", "sent_at", "thread", "direction"?}],   # stored
                "message": {"id", "text"?, "deleted"?, "reaction"?, "delivery"?, "edits"?}},  # applied
     "sent": [{"id", "to", "text"}]}  # messages CXM sent before (created first), that receipts are about

One test delivers them all through the real entry points (signed webhooks to /hooks/<token>/, feeds
polled over HTTP, mail over IMAP from dovecot) to a real Celery worker, waits until nothing is left
waiting, and checks each outcome: none may end silent or stuck.
"""

from __future__ import annotations

import base64
import contextlib
import json
import time
from pathlib import Path

import pytest
from asgiref.sync import async_to_sync
from django.utils.dateparse import parse_datetime

from apps.connectors.kinds import ChannelKind
from apps.connectors.meta.webhooks import sign as meta_sign
from apps.connectors.models import Channel
from apps.connectors.webhook.connector import sign as cxm_sign
from apps.conversations.models import Message
from apps.ingestion.models import RawPayload
from apps.ingestion.polling import channel_poll
from tests.connectors.livechat.helpers import livechat_channel, send_message, start
from tests.factories import ChannelFactory, ConversationFactory, MessageFactory
from tests.fakes.meta import APP_SECRET, PAGE_TOKEN, PHONE_NUMBER_ID, VERIFY_TOKEN
from tests.fakes.telegram import TOKEN

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]

CORPUS = Path(__file__).parent
TELEGRAM_SECRET = "corpus-telegram-secret"
WEBHOOK_SECRET = "corpus-webhook-secret"
NOWHERE = {"api_base": "http://127.0.0.1:9", "graph_base": "http://127.0.0.1:9"}


def corpus_cases() -> list[tuple[str, dict]]:
    return [
        (str(path.relative_to(CORPUS)), json.loads(path.read_text()))
        for path in sorted(CORPUS.glob("*/*.json"))
    ]


def _body(case: dict) -> bytes:
    if "raw_b64" in case:
        return base64.b64decode(case["raw_b64"])
    if "raw" in case:
        return case["raw"].encode()
    return json.dumps(case["payload"], ensure_ascii=False).encode()


class Entry:
    """Delivers corpus payloads the way each platform does, and finds the payloads they became."""

    def __init__(self, brand, client, site, mailbox, platforms):
        self.brand, self.client, self.site, self.mailbox = brand, client, site, mailbox
        self.platforms = platforms
        meta = {"app_secret": APP_SECRET, "verify_token": VERIFY_TOKEN, "access_token": PAGE_TOKEN}
        self.meta = meta
        self.channels = {
            "telegram": self._channel(ChannelKind.TELEGRAM, bot_token=TOKEN, webhook_secret=TELEGRAM_SECRET),
            "whatsapp": self._channel(ChannelKind.WHATSAPP, **meta, phone_number_id=PHONE_NUMBER_ID),
            "messenger": self._channel(ChannelKind.MESSENGER, **meta),
            "instagram": self._channel(ChannelKind.INSTAGRAM, **meta),
            "webhook": self._channel(ChannelKind.WEBHOOK, signing_secret=WEBHOOK_SECRET),
        }
        if mailbox is not None:
            self.channels["email"] = ChannelFactory(
                brand=brand,
                kind=ChannelKind.EMAIL,
                settings={"host": "127.0.0.1", "port": mailbox.server.port, "security": "none"},
                credentials={"username": mailbox.username, "password": mailbox.password},
            )

    def _channel(self, kind, **credentials) -> Channel:
        return ChannelFactory(brand=self.brand, kind=kind, credentials=credentials, settings=dict(NOWHERE))

    def deliver(self, name: str, case: dict) -> tuple[Channel, list[int]]:
        """Deliver one case; its channel and the ids of the payloads it was stored as."""
        entry = case["entry"]
        if entry in ("x", "mastodon", "reddit", "bluesky"):
            return self._poll_social(entry, case["serve"])
        if entry == "widget":
            return self._widget(case["visitor"], case["messages"])
        body = _body(case)
        if entry == "feed":
            return self._poll_feed(name, case, body)
        if entry == "email":
            return self._poll_mail(body)
        channel = self.channels[entry]
        if "phone_number_id" in case:  # a collected WhatsApp payload: a channel of its own, for its number
            channel = self._channel(
                ChannelKind.WHATSAPP, **self.meta, phone_number_id=case["phone_number_id"]
            )
        elif case.get("own_channel"):  # a collected payload whose ids another one of its suite reuses
            channel = self._channel(channel.kind, **channel.credentials)
        for sent in case.get("sent", []):  # what CXM sent before, which the payload's receipts are about
            conversation = ConversationFactory(channel=channel, external_thread_id=sent["to"])
            MessageFactory(
                conversation=conversation,
                direction=Message.Direction.OUTBOUND,
                external_id=sent["id"],
                text=sent["text"],
                delivery_status=Message.Delivery.SENT if "failed" in sent["id"] else Message.Delivery.QUEUED,
            )
        headers = {}
        if entry == "telegram":
            headers["HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN"] = TELEGRAM_SECRET
        elif entry == "webhook":
            stamp = str(int(time.time()))
            headers.update(
                HTTP_X_CXM_TIMESTAMP=stamp, HTTP_X_CXM_SIGNATURE=cxm_sign(WEBHOOK_SECRET, stamp, body)
            )
        else:
            headers["HTTP_X_HUB_SIGNATURE_256"] = meta_sign(APP_SECRET, body)
        response = self.client.post(
            f"/hooks/{channel.webhook_token}/", body, content_type="application/json", **headers
        )
        assert response.status_code in (200, 400), (
            f"{name}: HTTP {response.status_code} {response.content[:300]}"
        )
        if response.status_code == 400:  # refused at the door: kept as rejected, with the reason
            return channel, list(
                RawPayload.objects.filter(channel=channel).order_by("-pk").values_list("pk", flat=True)[:1]
            )
        return channel, [response.json()["received"]]

    def _new_payloads(self, channel, before: int) -> list[int]:
        return list(
            RawPayload.objects.filter(channel=channel, pk__gt=before)
            .order_by("pk")
            .values_list("pk", flat=True)
        )

    def _last_pk(self) -> int:
        return RawPayload.objects.order_by("-pk").values_list("pk", flat=True).first() or 0

    def _poll_feed(self, name: str, case: dict, body: bytes) -> tuple[Channel, list[int]]:
        path = "/corpus/" + name.replace("/", "-")
        self.site.publish(path, body, content_type=case.get("content_type", "application/rss+xml"))
        channel = ChannelFactory(
            brand=self.brand,
            kind=case.get("kind", ChannelKind.FEED),
            settings={"feeds": [self.site.url(path)]},
        )
        before = self._last_pk()
        with contextlib.suppress(Exception):  # a poll that fails is recorded on the channel, checked below
            channel_poll(channel_id=channel.pk)
        return channel, self._new_payloads(channel, before)

    def _widget(self, visitor: str, texts: list[str]) -> tuple[Channel, list[int]]:
        """A visitor's messages through the widget's WebSocket (the real ASGI app and channel layer)."""

        channel = self.channels.setdefault("widget", livechat_channel(self.brand))

        async def chat() -> list[str]:
            communicator, ready = await start(channel.webhook_token, visitor=visitor)
            assert ready["visitor"] == visitor, ready
            sent = [
                (await send_message(communicator, text, f"corpus-{index:03d}"))[0]
                for index, text in enumerate(texts)
            ]
            await communicator.disconnect()
            return sent

        ids = async_to_sync(chat)()
        external_ids = [f"widget:{visitor}:{message_id}" for message_id in ids]
        return channel, list(
            RawPayload.objects.filter(channel=channel, external_id__in=external_ids).values_list(
                "pk", flat=True
            )
        )

    def _poll_social(self, entry: str, serve: dict) -> tuple[Channel, list[int]]:
        """A channel of its own (a first poll) on the platform's fake, which answers only the case's posts."""
        fake = self.platforms[entry]
        if entry == "x":
            fake.tweets = list(serve["tweets"])
            fake.users.update({user["id"]: user for user in serve.get("users", [])})
            fake.data_as_object = bool(serve.get("data_as_object"))
            fields = {
                "credentials": {"bearer_token": fake.bearer_token},
                "settings": {
                    "api_base": fake.url,
                    "user_id": fake.brand_user_id,
                    "query": serve.get("query", '"Nimbus"'),
                },
            }
        elif entry == "reddit":
            fake.things = list(serve["things"])
            credentials = {
                key: getattr(fake, key) for key in ("client_id", "client_secret", "username", "password")
            }
            fields = {
                "credentials": credentials,
                "settings": {
                    "auth_base": fake.url,
                    "api_base": fake.url,
                    "query": '"nimbus"',
                    "subreddits": serve.get("subreddits", ["NimbusMobile"]),
                    "inbox": True,
                },
            }
        elif entry == "bluesky":
            fake.posts = list(serve.get("posts", []))
            fake.notifications = list(serve.get("notifications", []))
            fake.ignores_reasons = bool(serve.get("ignores_reasons"))
            fake.actors.update({actor["did"]: actor for actor in serve.get("actors", [])})
            fields = {
                "credentials": {"identifier": fake.handle, "app_password": fake.app_password},
                "settings": {"service": fake.url, "queries": serve.get("queries", ["nimbus"])},
            }
        else:
            fake.statuses = list(serve.get("statuses", []))
            fake.notifications = list(serve.get("notifications", []))
            fake.ignores_types = bool(serve.get("ignores_types"))
            fields = {
                "credentials": {"access_token": fake.access_token},
                "settings": {"instance": fake.url, "queries": serve.get("queries", ["nimbus"])},
            }
        channel = ChannelFactory(brand=self.brand, kind=entry, **fields)
        before = self._last_pk()
        channel_poll(channel_id=channel.pk)
        return channel, self._new_payloads(channel, before)

    def _poll_mail(self, body: bytes) -> tuple[Channel, list[int]]:
        channel = self.channels["email"]
        self.mailbox.deliver(body)
        before = self._last_pk()
        channel_poll(channel_id=channel.pk)
        return channel, self._new_payloads(channel, before)


def _wait_until_processed(payload_ids: list[int], timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    while RawPayload.objects.filter(pk__in=payload_ids, status=RawPayload.Status.RECEIVED).exists():
        assert time.monotonic() < deadline, "payloads left waiting: " + ", ".join(
            str(pk)
            for pk in RawPayload.objects.filter(pk__in=payload_ids, status="received").values_list(
                "pk", flat=True
            )
        )
        time.sleep(0.2)


OUTCOME_STATUS = {
    "stored": RawPayload.Status.PROCESSED,
    "applied": RawPayload.Status.APPLIED,
    "ignored": RawPayload.Status.IGNORED,
    "rejected": RawPayload.Status.REJECTED,
}


def _check_message(name: str, channel: Channel, expected: dict, payload_ids: list[int]) -> list[str]:
    # Without an id (a mail with no Message-ID: the id made for it hashes the bytes as the server keeps
    # them), the message is the one its payload stored.
    found = Message.objects.filter(channel=channel).select_related("author_identity", "conversation")
    if "id" in expected:
        message = found.filter(external_id=expected["id"]).first()
    else:
        message = found.filter(raw_payload_id__in=payload_ids).first()
    if message is None:
        return [f"{name}: no message {expected.get('id', 'from its payload')!r}"]
    problems = []
    if "text" in expected and message.text != expected["text"]:
        problems.append(f"{name}: text {message.text!r} != {expected['text']!r}")
    if "author" in expected:
        identity = message.author_identity.external_id if message.author_identity else None
        if identity != expected["author"]:
            problems.append(f"{name}: author {identity!r} != {expected['author']!r}")
    if "sent_at" in expected and message.sent_at != parse_datetime(expected["sent_at"]):
        problems.append(f"{name}: sent_at {message.sent_at.isoformat()} != {expected['sent_at']}")
    if "thread" in expected and message.conversation.external_thread_id != expected["thread"]:
        problems.append(
            f"{name}: thread {message.conversation.external_thread_id!r} != {expected['thread']!r}"
        )
    if "direction" in expected and message.direction != expected["direction"]:
        problems.append(f"{name}: direction {message.direction} != {expected['direction']}")
    if "deleted" in expected and (message.deleted_at is not None) != expected["deleted"]:
        problems.append(f"{name}: deleted_at {message.deleted_at} (expected deleted={expected['deleted']})")
    if (
        "reaction" in expected
        and expected["reaction"] not in (message.metadata.get("reactions") or {}).values()
    ):
        problems.append(
            f"{name}: reactions {message.metadata.get('reactions')} lack {expected['reaction']!r}"
        )
    if "delivery" in expected and message.delivery_status != expected["delivery"]:
        problems.append(f"{name}: delivery {message.delivery_status} != {expected['delivery']}")
    if "edits" in expected and [e["text"] for e in message.metadata.get("edits", [])] != expected["edits"]:
        problems.append(f"{name}: edits {message.metadata.get('edits')} != {expected['edits']}")
    return problems


def _check(name: str, case: dict, channel: Channel, payload_ids: list[int]) -> list[str]:
    expect = case["expect"]
    if expect["outcome"] == "poll_error":
        channel.refresh_from_db()
        errors = " ".join(
            str(state.get("error", "")) for state in (channel.cursor.get("feeds") or {}).values()
        )
        errors += channel.last_error
        return (
            []
            if expect["reason"] in errors
            else [f"{name}: no poll error with {expect['reason']!r}: {errors!r}"]
        )
    if not payload_ids:
        return [f"{name}: stored no payload at all"]
    problems = []
    for payload in RawPayload.objects.filter(pk__in=payload_ids):
        if payload.status != OUTCOME_STATUS[expect["outcome"]]:
            reason = payload.rejection_reason or payload.ignored_reason
            problems.append(f"{name}: {payload.status} (expected {expect['outcome']}) {reason}")
        if "event" in expect and payload.event_type != expect["event"]:
            problems.append(f"{name}: event {payload.event_type!r} != {expect['event']!r}")
        reason = payload.ignored_reason or payload.rejection_reason
        if "reason" in expect and expect["reason"] not in reason:
            problems.append(f"{name}: reason {reason!r} lacks {expect['reason']!r}")
    for expected in expect.get("messages", []):
        problems += _check_message(name, channel, expected, payload_ids)
    if "message" in expect:
        problems += _check_message(name, channel, expect["message"], payload_ids)
    return problems


def test_every_corpus_payload_ends_stored_applied_or_ignored(
    brand_a, client, site, mailbox, platforms, celery_worker
):
    cases = corpus_cases()
    entry = Entry(brand_a, client, site, mailbox, platforms)
    problems: list[str] = []
    for phase in sorted({case.get("phase", 1) for _, case in cases}):
        delivered = [
            (name, case, *entry.deliver(name, case)) for name, case in cases if case.get("phase", 1) == phase
        ]
        _wait_until_processed([pk for *_, ids in delivered for pk in ids])
        # Checked before the next phase: its edits and deletions change what this one stored.
        problems += [
            problem for name, case, channel, ids in delivered for problem in _check(name, case, channel, ids)
        ]
    assert not problems, f"{len(problems)} of {len(cases)} corpus payloads:\n" + "\n".join(problems)
    assert not RawPayload.objects.filter(status=RawPayload.Status.RECEIVED).exists()


def test_every_corpus_file_has_its_source_and_licence_in_the_manifest():
    manifest = json.loads((CORPUS / "manifest.json").read_text())
    files = {name for name, _ in corpus_cases()}
    assert files == set(manifest), sorted(files ^ set(manifest))
    root = CORPUS.parent.parent
    for name, record in manifest.items():
        source = record.get("source", "")
        # A platform's published page, or for CXM's own formats the module that defines them.
        assert source.startswith("https://") or (root / source.split(" ")[0]).exists(), name
        assert record.get("licence"), name
        assert record.get("origin") in ("collected", "written"), name
    # Collected files: copied from a permissively licensed public test suite, named to the commit, and
    # the licence's notice kept in LICENSES.md.
    notices = (CORPUS / "LICENSES.md").read_text()
    collected = {name: record for name, record in manifest.items() if record["origin"] == "collected"}
    for name, record in collected.items():
        assert record.get("repository") and record.get("path") and record.get("ref"), name
        assert record["repository"] in notices, f"{name}: {record['repository']} has no notice"
    assert len(files) >= 300, f"the corpus holds {len(files)} payloads"
    assert len(collected) >= 100, f"the corpus holds {len(collected)} collected payloads"
