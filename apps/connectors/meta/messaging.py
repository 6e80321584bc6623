"""Messenger and Instagram messaging events → inbound messages.

Events come in `entry[].messaging[]` (and `entry[].standby[]` when another app owns the thread under the
handover protocol): `{"sender": {"id"}, "recipient": {"id"}, "timestamp": <ms>, "message" | … }`.

- `message`: from the customer (`sender.id`, a Page-scoped id on Messenger, an Instagram-scoped id on
  Instagram), external id `message.mid`, threaded by the customer's id. Text, or a bracketed placeholder
  per attachment (`[image]`, `[file]`...); attachments (type, url) in `metadata["attachments"]`;
  `reply_to.mid` as in_reply_to; `quick_reply.payload`, `referral` and story replies in metadata.
  An unsent message (`is_deleted`) marks the stored one deleted (kept for audit).
- echoes (`message.is_echo`): what the Page / account itself sent. An echo is stored as an *outbound*
  message when the connector's `keep_echo` says it was not sent by CXM (Messenger: CXM marks its sends
  with `metadata: "cxm:<id>"`, echoed back); otherwise it is ignored, because CXM already stored that
  reply and learns its id only when the Send API answers (keeping the echo would race that).
- `message_edit` (Messenger): the stored message's text is updated, the earlier one kept in its history;
  an edit of a message never stored is stored as that message.
- `reaction`: set on (or, `action: "unreact"`, removed from) the message it names.
- `delivery` (its `mids`) and `read` (Instagram's `read.mid`): receipts of the brand's messages; a
  Messenger read, which gives only a watermark time, is ignored with that reason.
- `postback` (a tap on a button such as "Get Started"): an inbound message with the button's title.
- Anything else (opt-ins, referrals, handover, account linking...) is ignored with a reason naming it.
"""

from __future__ import annotations

from collections.abc import Callable

from ..base import (
    DeliveryUpdate,
    Ignored,
    InboundAuthor,
    InboundMessage,
    Interpretation,
    MessageUpdate,
    PayloadRejected,
)
from ..normalized import clean_text
from .webhooks import changes, event_time


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


# Why an echo of the account's own message is not stored.
ECHO_REASONS = {
    "messenger": "the echo of a message CXM sent, stored when it was sent",
    "instagram": (
        "the echo of a message the account sent: Instagram's echoes cannot tell CXM's replies (stored when "
        "sent) from messages sent in the Instagram app, so none is stored"
    ),
}


def _message_event(
    event: dict, result: Interpretation, *, keep_echo: Callable[[dict], bool], platform: str
) -> InboundMessage | None:
    message = event["message"]
    if not isinstance(message, dict):
        raise PayloadRejected(f"a {platform} message event whose 'message' is not an object")
    if message.get("is_deleted"):
        if message.get("mid"):
            at = event_time(event.get("timestamp"))
            result.updates.append(
                MessageUpdate(str(message["mid"]), MessageUpdate.DELETE, at, "message_unsend")
            )
        return None
    mid = message.get("mid")
    if not mid:
        raise PayloadRejected(f"a {platform} message event has no 'message.mid'")
    echo = bool(message.get("is_echo"))
    if echo and not keep_echo(message):
        result.ignored.append(Ignored("message_echo", ECHO_REASONS.get(platform, ECHO_REASONS["messenger"])))
        return None
    # The customer is the sender of what they write and the recipient of what the brand writes.
    customer_id = _id(event.get("recipient") if echo else event.get("sender"))
    if not customer_id:
        raise PayloadRejected(f"a {platform} message event has no customer id (sender / recipient)")
    attachments = _attachments(message)
    text = _text(message, attachments)
    if not text:
        result.ignored.append(Ignored("message", "a message with no text or attachment"))
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


def _edit_event(event: dict, result: Interpretation, *, platform: str) -> None:
    edit = event["message_edit"]
    customer_id = _id(event.get("sender"))
    if not isinstance(edit, dict) or not edit.get("mid") or not customer_id:
        raise PayloadRejected(f"a {platform} message_edit needs 'message_edit.mid' and 'sender.id'")
    text = clean_text(edit.get("text"), "message_edit.text")
    at = event_time(event.get("timestamp"))
    fallback = InboundMessage(
        external_id=str(edit["mid"]),
        thread_key=customer_id,
        text=text or "[edited message]",
        sent_at=at,
        author=InboundAuthor(external_id=customer_id),
        metadata={"source": f"{platform}_message", "edited": True, "num_edit": edit.get("num_edit")},
    )
    result.updates.append(
        MessageUpdate(str(edit["mid"]), MessageUpdate.EDIT, at, "message_edit", text=text, fallback=fallback)
    )


def _reaction_event(event: dict, result: Interpretation) -> None:
    reaction = event["reaction"] if isinstance(event["reaction"], dict) else {}
    if not reaction.get("mid"):
        result.ignored.append(Ignored("reaction", "a reaction naming no message"))
        return
    unreact = reaction.get("action") == "unreact"
    result.updates.append(
        MessageUpdate(
            str(reaction["mid"]),
            MessageUpdate.UNREACT if unreact else MessageUpdate.REACT,
            event_time(event.get("timestamp")),
            "reaction",
            actor=_id(event.get("sender")),
            emoji=str(reaction.get("emoji") or reaction.get("reaction") or ""),
        )
    )


def _receipt_event(event: dict, result: Interpretation, kind: str) -> None:
    data = event[kind] if isinstance(event[kind], dict) else {}
    mids = [str(mid) for mid in data.get("mids") or [] if mid] + (
        [str(data["mid"])] if data.get("mid") else []
    )
    if not mids:
        result.ignored.append(
            Ignored(kind, f"a {kind} receipt up to a time (watermark), naming no message; nothing to apply")
        )
        return
    at = event_time(event.get("timestamp"))
    customer = _id(event.get("sender"))
    result.receipts += [DeliveryUpdate(mid, "delivered", kind, at, recipient=customer) for mid in mids]


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


# Messaging events Meta may also send as field changes (`changes[].value` holds the event): Instagram
# with Instagram Login, and the App Dashboard's test notifications.
MESSAGING_FIELDS = ("messages", "messaging_seen", "message_reactions", "messaging_postbacks", "message_edit")


def messaging_events(entry: dict) -> list[dict]:
    events = []
    for key in ("messaging", "standby"):
        events.extend(event for event in entry.get(key) or [] if isinstance(event, dict))
    events += [change["value"] for change in changes(entry) if change.get("field") in MESSAGING_FIELDS]
    return events


IGNORED_EVENTS = {
    "optin": "an opt-in (a plugin or a one-time notification request), not a message",
    "referral": "a referral (the customer came from an ad or a link) into an existing thread",
    "account_linking": "the customer linked or unlinked their account",
    "pass_thread_control": "the thread was handed over between apps (handover protocol)",
    "take_thread_control": "the thread was taken over by another app (handover protocol)",
    "request_thread_control": "another app asked for the thread (handover protocol)",
    "app_roles": "the app's roles in the handover protocol changed",
    "policy_enforcement": "a policy notice from Meta about the Page",
    "game_play": "a game was played",
    "messaging_feedback": "a customer feedback form answer",
}


def parse_messaging(
    entry: dict, *, platform: str, keep_echo: Callable[[dict], bool] = lambda message: False
) -> Interpretation:
    result = Interpretation()
    for event in messaging_events(entry):
        if "message" in event:
            inbound = _message_event(event, result, keep_echo=keep_echo, platform=platform)
            if inbound is not None:
                result.messages.append(inbound)
        elif "message_edit" in event:
            _edit_event(event, result, platform=platform)
        elif "postback" in event:
            inbound = _postback_event(event, platform=platform)
            if inbound is None:
                raise PayloadRejected(f"a {platform} postback needs 'sender.id'")
            result.messages.append(inbound)
        elif "reaction" in event:
            _reaction_event(event, result)
        elif "delivery" in event or "read" in event:
            _receipt_event(event, result, "delivery" if "delivery" in event else "read")
        else:
            kind = next((key for key in event if key not in ("sender", "recipient", "timestamp")), "")
            if not kind:  # e.g. a standby notice: another app owns the thread under the handover protocol
                kind, reason = (
                    "empty event",
                    "an event holding only its sender and recipient, nothing to store",
                )
            else:
                reason = IGNORED_EVENTS.get(kind) or f"a '{kind}' event, which this connector does not know"
            result.ignored.append(Ignored(kind[:100], reason))
    return result
