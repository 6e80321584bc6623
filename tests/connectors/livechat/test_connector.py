"""The live-chat connector's parse and send, the visitor token, and the consumer's small rules."""

import base64
import json

import pytest

from apps.connectors.base import PayloadRejected
from apps.connectors.kinds import ChannelKind
from apps.connectors.livechat.connector import LivechatConnector, widget_payload
from apps.connectors.livechat.visitor import (
    VisitorIdentity,
    VisitorTokenInvalid,
    identity_seal,
    visitor_group,
    visitor_id_new,
    visitor_token_sign,
    visitor_token_verify,
)
from apps.connectors.registry import connector_for
from apps.core.throttle import SlidingWindow
from apps.customers.services import StrongLink
from apps.ingestion.livechat import origin_allowed
from tests.factories import ChannelFactory, ConversationFactory, MessageFactory

VISITOR = "0123456789abcdef0123456789abcdef"
OTHER_VISITOR = "fedcba9876543210fedcba9876543210"
connector = LivechatConnector()

# The worked example of the README: a brand implementing the token in any language must produce this.
README_SECRET = "s3cr3t-from-cxm"
README_TOKEN = (
    "eyJ1c2VyX2lkIjoiNDIiLCJlbWFpbCI6ImFuYUBleGFtcGxlLmNvbSIsIm5hbWUiOiJBbmEgTGltYSIsImV4cCI6MTg5MzQ1NjAwMH0"
    ".9a73d8fce95bd3dedb21c126d31f60d3bf9df405619d8767f48626dc299dab20"
)


def test_the_registry_serves_livechat_with_this_connector():
    assert isinstance(connector_for(ChannelKind.LIVECHAT), LivechatConnector)


def test_an_anonymous_visitor_message():
    body = widget_payload(
        visitor_id=VISITOR,
        client_message_id="abc12345",
        text="  Hello\nthere  ",
        page={"url": "https://shop.example/p/1", "title": "Shoes"},
    )
    [message] = connector.parse(None, body, {})
    assert message.external_id == f"widget:{VISITOR}:abc12345"
    assert message.thread_key == VISITOR and message.text == "Hello\nthere"
    assert message.author.kind is None and message.author.external_id == VISITOR
    assert message.author.links == [] and not message.author.email
    assert message.metadata == {
        "client_message_id": "abc12345",
        "visitor": VISITOR,
        "page_url": "https://shop.example/p/1",
        "page_title": "Shoes",
    }
    assert not message.outbound and message.sent_at.tzinfo is not None


def test_a_logged_in_visitor_writes_as_their_site_account_linked_to_the_browser():
    identity = VisitorIdentity(user_id="user-42", email="ana@example.com", name="Ana")
    body = widget_payload(visitor_id=VISITOR, client_message_id="abc12345", text="hi", identity=identity)
    [message] = connector.parse(None, body, {})
    author = message.author
    assert (author.kind, author.external_id, author.display_name) == ("website", "user-42", "Ana")
    assert author.email == "ana@example.com" and author.email_verified
    assert author.links == [
        StrongLink(ChannelKind.LIVECHAT, VISITOR, "logged in on the brand's website in the same browser")
    ]
    assert message.thread_key == VISITOR


def test_an_identity_seal_is_only_good_for_its_own_visitor_and_cannot_be_forged():
    sealed = identity_seal(OTHER_VISITOR, VisitorIdentity(user_id="user-42"))
    for forged in [sealed, "user-42", {"user_id": "user-42"}, sealed[:-2] + "xx"]:
        data = json.loads(widget_payload(visitor_id=VISITOR, client_message_id="abc12345", text="hi"))
        data["identity"] = forged
        [message] = connector.parse(None, json.dumps(data).encode(), {})
        assert message.author.kind is None and message.author.external_id == VISITOR
        assert "identity_ignored" in message.metadata


@pytest.mark.parametrize(
    "change,reason",
    [
        ({"type": "typing"}, "type"),
        ({"version": 2}, "version"),
        ({"visitor": "not-a-visitor"}, "visitor"),
        ({"client_message_id": "x"}, "client_message_id"),
        ({"text": "   "}, "no text"),
        ({"text": 12}, "must be a string"),
        ({"sent_at": "yesterday"}, "ISO 8601"),
    ],
)
def test_payloads_that_can_never_be_processed_are_rejected(change, reason):
    data = json.loads(widget_payload(visitor_id=VISITOR, client_message_id="abc12345", text="hi"))
    data.update(change)
    with pytest.raises(PayloadRejected, match=reason):
        connector.parse(None, json.dumps(data).encode(), {})
    with pytest.raises(PayloadRejected, match="JSON"):
        connector.parse(None, b"{nope", {})


@pytest.mark.django_db
def test_send_goes_to_live_chat_conversations_only(brand_a):
    livechat = ChannelFactory(brand=brand_a, kind=ChannelKind.LIVECHAT)
    email = ChannelFactory(brand=brand_a, kind=ChannelKind.EMAIL)
    elsewhere = MessageFactory(
        conversation=ConversationFactory(channel=email, external_thread_id=VISITOR), channel=livechat
    )
    with pytest.raises(PayloadRejected, match="live-chat conversation"):
        connector.send(livechat, elsewhere)
    no_visitor = MessageFactory(conversation=ConversationFactory(channel=livechat, external_thread_id="x"))
    with pytest.raises(PayloadRejected):
        connector.send(livechat, no_visitor)
    reply = MessageFactory(conversation=ConversationFactory(channel=livechat, external_thread_id=VISITOR))
    assert connector.send(livechat, reply) == f"widget-out:{reply.pk}"


def test_the_readme_example_token_verifies():
    identity = visitor_token_verify(README_SECRET, README_TOKEN, now=1893455999)
    assert identity == VisitorIdentity(user_id="42", email="ana@example.com", name="Ana Lima")
    with pytest.raises(VisitorTokenInvalid) as expired:
        visitor_token_verify(README_SECRET, README_TOKEN, now=1893456001)
    assert expired.value.code == "visitor_token_expired"


def test_a_token_signs_the_payload_as_sent_whatever_the_json_spacing_or_key_order():
    import hashlib
    import hmac

    raw = b'{ "exp": 4102444800,\n  "user_id": 7 }'
    payload = base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
    signature = hmac.new(b"k", payload.encode(), hashlib.sha256).hexdigest().upper()
    assert visitor_token_verify("k", f"{payload}.{signature}") == VisitorIdentity(user_id="7")


@pytest.mark.parametrize(
    "token,code",
    [
        (visitor_token_sign("other", {"user_id": "1", "exp": 4102444800}), "visitor_token_invalid"),
        (visitor_token_sign("k", {"user_id": "1", "exp": 1}), "visitor_token_expired"),
        (visitor_token_sign("k", {"user_id": "1"}), "visitor_token_invalid"),
        (visitor_token_sign("k", {"user_id": "1", "exp": True}), "visitor_token_invalid"),
        (visitor_token_sign("k", {"user_id": "", "exp": 4102444800}), "visitor_token_invalid"),
        (
            visitor_token_sign("k", {"user_id": "1", "exp": 4102444800, "email": "nope"}),
            "visitor_token_invalid",
        ),
        (visitor_token_sign("k", ["user_id", "1"]), "visitor_token_invalid"),
        ("a.b.c", "visitor_token_invalid"),
        ("é." + "0" * 64, "visitor_token_invalid"),
        ("x" * 5000, "visitor_token_invalid"),
        (None, "visitor_token_invalid"),
    ],
)
def test_tokens_that_prove_nothing(token, code):
    with pytest.raises(VisitorTokenInvalid) as error:
        visitor_token_verify("k", token)
    assert error.value.code == code


def test_a_token_whose_claims_were_changed_fails():
    token = visitor_token_sign("k", {"user_id": "1", "exp": 4102444800})
    _, signature = token.split(".")
    forged = base64.urlsafe_b64encode(b'{"user_id":"2","exp":4102444800}').rstrip(b"=").decode()
    with pytest.raises(VisitorTokenInvalid, match="signature"):
        visitor_token_verify("k", f"{forged}.{signature}")
    with pytest.raises(VisitorTokenInvalid) as unsupported:
        visitor_token_verify("", token)
    assert unsupported.value.code == "visitor_token_unsupported"


def test_visitor_ids_and_groups():
    first, second = visitor_id_new(), visitor_id_new()
    assert first != second and len(first) == 32
    group = visitor_group(7, first)
    assert group.startswith("livechat-7-") and first not in group and len(group) < 100
    assert visitor_group(7, first) != visitor_group(8, first) != visitor_group(7, second)


@pytest.mark.parametrize(
    "origin,allowed",
    [
        ("https://shop.example", True),
        ("https://SHOP.example:443", True),
        ("https://shop.example:8443", False),
        ("http://shop.example", False),
        ("https://www.shop.example", False),
        ("https://a.brand.example", True),
        ("https://a.b.brand.example", True),
        ("https://brand.example", False),
        ("https://evilbrand.example", False),
        ("http://localhost:3000", True),
        ("null", False),
        ("", False),
    ],
)
def test_origin_rules(origin, allowed):
    rules = ["https://shop.example", "https://*.brand.example", "http://localhost:3000", 12]
    assert origin_allowed(origin, rules) is allowed
    assert origin_allowed(origin, ["*"]) is bool(origin and origin != "null")


def test_the_sliding_window():
    window = SlidingWindow(2, 10)
    assert window.allow(0)[0] and window.allow(1)[0]
    assert window.allow(5) == (False, 5.0)
    assert window.allow(10.5)[0]
