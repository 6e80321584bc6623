"""Messenger and Instagram messaging events → inbound messages.

Events come in `entry[].messaging[]` (and `entry[].standby[]` when another app owns the thread under the
handover protocol): `{"sender": {"id"}, "recipient": {"id"}, "timestamp": <ms>, "message" | … }`.

- `message`: from the customer (`sender.id`, a Page-scoped id on Messenger, an Instagram-scoped id on
  Instagram), external id `message.mid`, threaded by the customer's id. Text, or a bracketed placeholder
  per attachment (`[image]`, `[file]`...); attachments (type, url) in `metadata["attachments"]`;
  `reply_to.mid` as in_reply_to; `quick_reply.payload`, `referral` and story replies in metadata.
  Unsent messages (`is_deleted`) produce nothing.
- echoes (`message.is_echo`): what the Page / account itself sent. An echo is stored as an *outbound*
  message when the connector's `keep_echo` says it was not sent by CXM (Messenger: CXM marks its sends
  with `metadata: "cxm:<id>"`, echoed back); otherwise it is dropped, because CXM already stored that
  reply and learns its id only when the Send API answers (keeping the echo would race that).
- `message_edit` (Messenger): a new inbound message with the edited text, id `"<mid>:edit:<num_edit>"`,
  `metadata["edited"] = True`, `metadata["edit_of"] = mid`; the original stays as it was.
- `postback` (a tap on a button such as "Get Started"): an inbound message with the button's title.
- Anything else (reads, deliveries, reactions, opt-ins, referrals, handover) produces nothing.
"""

from __future__ import annotations

from collections.abc import Callable

from ..base import InboundAuthor, InboundMessage, PayloadRejected
from ..normalized import clean_text
from .webhooks import event_time


def _id(value) -> str:
    return str(value.get("id") or "") if isinstance(value, dict) else ""


def _attachments(message: dict) -> list[dict]:
    found = []
    for attachment in message.get("attachments") or []:
        if not isinstance(attachment, dict):
            continue
        payload = attachment.get("payload") if isinstance(attachment.get("payload"), dict) else {}
        item = {"type": attachment.get("type") or "file"}
        for key in ("url", "title", "sticker_id"):
            value = payload.get(key) or attachment.get(key)
            if value:
                item[key] = value
        found.append(item)
    return found


def _text(message: dict, attachments: list[dict]) -> str:
    text = clean_text(message.get("text"), "message.text")
    if text:
        return text
    if attachments:
        labels = ["sticker" if item.get("sticker_id") else item["type"] for item in attachments]
        return " ".join(f"[{label}]" for label in labels)
    if message.get("is_unsupported"):
        return "[unsupported message]"
    return ""


def _message_event(event: dict, *, keep_echo: Callable[[dict], bool], platform: str) -> InboundMessage | None:
    message = event["message"]
    if not isinstance(message, dict) or message.get("is_deleted"):
        return None
    mid = message.get("mid")
    if not mid:
        raise PayloadRejected(f"a {platform} message event has no 'message.mid'")
    echo = bool(message.get("is_echo"))
    if echo and not keep_echo(message):
        return None
    # The customer is the sender of what they write and the recipient of what the brand writes.
    customer_id = _id(event.get("recipient") if echo else event.get("sender"))
    if not customer_id:
        raise PayloadRejected(f"a {platform} message event has no customer id (sender / recipient)")
    attachments = _attachments(message)
    text = _text(message, attachments)
    if not text:
        return None
    metadata: dict = {"source": f"{platform}_message"}
    if attachments:
        metadata["attachments"] = attachments
    if isinstance(message.get("quick_reply"), dict):
        metadata["quick_reply"] = message["quick_reply"].get("payload")
    if isinstance(message.get("referral"), dict):
        metadata["referral"] = message["referral"]
    reply_to = message.get("reply_to") if isinstance(message.get("reply_to"), dict) else {}
    if isinstance(reply_to.get("story"), dict):
        metadata["story"] = reply_to["story"]
    if echo:
        metadata["echo_app_id"] = message.get("app_id")
    return InboundMessage(
        external_id=str(mid),
        thread_key=customer_id,
        text=text,
        sent_at=event_time(event.get("timestamp")),
        author=InboundAuthor(external_id=customer_id),
        in_reply_to=str(reply_to.get("mid") or ""),
        outbound=echo,
        metadata=metadata,
    )


def _edit_event(event: dict, *, platform: str) -> InboundMessage | None:
    edit = event["message_edit"]
    customer_id = _id(event.get("sender"))
    if not isinstance(edit, dict) or not edit.get("mid") or not customer_id:
        return None
    text = clean_text(edit.get("text"), "message_edit.text")
    if not text:
        return None
    return InboundMessage(
        external_id=f"{edit['mid']}:edit:{edit.get('num_edit') or 1}",
        thread_key=customer_id,
        text=text,
        sent_at=event_time(event.get("timestamp")),
        author=InboundAuthor(external_id=customer_id),
        in_reply_to=str(edit["mid"]),
        metadata={"source": f"{platform}_message", "edited": True, "edit_of": str(edit["mid"])},
    )


def _postback_event(event: dict, *, platform: str) -> InboundMessage | None:
    postback = event["postback"]
    customer_id = _id(event.get("sender"))
    if not isinstance(postback, dict) or not customer_id:
        return None
    title = clean_text(postback.get("title"), "postback.title") or "[button]"
    external_id = postback.get("mid") or f"postback:{customer_id}:{event.get('timestamp')}"
    return InboundMessage(
        external_id=str(external_id),
        thread_key=customer_id,
        text=title,
        sent_at=event_time(event.get("timestamp")),
        author=InboundAuthor(external_id=customer_id),
        metadata={"source": f"{platform}_postback", "postback": postback.get("payload")},
    )


def messaging_events(entry: dict) -> list[dict]:
    events = []
    for key in ("messaging", "standby"):
        events.extend(event for event in entry.get(key) or [] if isinstance(event, dict))
    return events


def parse_messaging(
    entry: dict, *, platform: str, keep_echo: Callable[[dict], bool] = lambda message: False
) -> list[InboundMessage]:
    found = []
    for event in messaging_events(entry):
        if "message" in event:
            inbound = _message_event(event, keep_echo=keep_echo, platform=platform)
        elif "message_edit" in event:
            inbound = _edit_event(event, platform=platform)
        elif "postback" in event:
            inbound = _postback_event(event, platform=platform)
        else:
            inbound = None
        if inbound is not None:
            found.append(inbound)
    return found
