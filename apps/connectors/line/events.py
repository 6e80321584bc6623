"""LINE webhook events (https://developers.line.biz/en/reference/messaging-api/#webhook-event-objects) →
what CXM stores, applies or ignores.

A webhook body is `{"destination": "<bot user id>", "events": [ … ]}`; every event has `type`, `mode`
("active", or "standby" while another module channel holds the chat), `timestamp` (Unix ms), `source`
(`{"type": "user", "userId"}`, `{"type": "group", "groupId", "userId"?}` or `{"type": "room", "roomId",
"userId"?}`), `webhookEventId` and `deliveryContext.isRedelivery`.

- `message` (text, sticker, image, video, audio, file, location): one inbound message, its external id
  LINE's message id, threaded by the chat (the user, group or room id, what a push is addressed to). The
  reply token travels in metadata: a reply within its validity answers with it, later ones are pushed.
  The content of images, videos, audio and files LINE hosts is fetched by the connector (`media.py`).
- `postback` (a button of the bot's message pressed): stored as the user's message `[postback: data]`.
- `unsend`: the message is marked deleted (kept for audit).
- `follow`, `unfollow`, `join`, `leave`, `memberJoined`, `memberLeft`, `videoPlayComplete`, `beacon`,
  `accountLink`, `things`, `membership`, `module`, `activated`, `deactivated`, `botSuspended`, `botResumed`
  and `pnpDelivery…` are ignored with a reason that names them; so is a type this parser does not know.
- An empty `events` list is what the console's "Verify" button sends: ignored, with that reason.
"""

from __future__ import annotations

from datetime import UTC, datetime

from ..base import Ignored, InboundAuthor, InboundMessage, Interpretation, MessageUpdate, PayloadRejected
from ..normalized import clean_text

MAX_TEXT = 5000  # a text message object holds 5000 characters at most

IGNORED_EVENTS = {
    "follow": "the user added the account as a friend (or unblocked it): no message yet",
    "unfollow": "the user blocked the account: pushes to them fail from now on",
    "join": "the bot was added to a group or room",
    "leave": "the bot was removed from a group or room",
    "memberJoined": "members joined a group or room the bot is in",
    "memberLeft": "members left a group or room the bot is in",
    "videoPlayComplete": "a user finished watching a video the bot sent (a view statistic)",
    "beacon": "a user's phone came near a LINE Beacon (a presence signal, not a message)",
    "accountLink": "the result of linking a LINE account to a service account",
    "things": "a LINE Things device event",
    "membership": "a change of a user's paid membership",
    "module": "the module channel was attached or detached",
    "activated": "chat control given to this channel (module mode)",
    "deactivated": "chat control taken from this channel (module mode)",
    "botSuspended": "the module channel was suspended",
    "botResumed": "the module channel was resumed",
    "pnpDeliveryCompletion": "a LINE notification message (PNP) was delivered to a phone number",
}
PLACEHOLDERS = {"image": "image", "video": "video", "audio": "audio message", "file": "file"}


def event_time(event: dict) -> datetime:
    value = event.get("timestamp")
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(value / 1000, UTC)
        except (OverflowError, OSError, ValueError):
            pass
    return datetime.now(UTC)


def events_of(data) -> list:
    if not isinstance(data, dict) or not isinstance(data.get("events"), list):
        raise PayloadRejected("not a LINE webhook: an 'events' list is required")
    return data["events"]


def chat_of(source: dict) -> str:
    """Where the event happened, the id a push is addressed to: the user, group or room."""
    kind = source.get("type")
    key = {"user": "userId", "group": "groupId", "room": "roomId"}.get(kind)
    chat = source.get(key) if key else None
    if not chat:
        raise PayloadRejected(f"a LINE event source of type {kind!r} without its id")
    return str(chat)


def author_of(source: dict) -> InboundAuthor:
    """The sender; a group member who has not consented to share their id stays the group (LINE omits
    `userId` then)."""
    user = source.get("userId")
    if user:
        return InboundAuthor(external_id=str(user))
    return InboundAuthor(external_id=chat_of(source), display_name="LINE group member")


def _placeholder(message: dict) -> str:
    kind = message.get("type")
    if kind == "sticker":
        words = ", ".join(str(k) for k in (message.get("keywords") or [])[:3])
        return f"[sticker: {words}]" if words else "[sticker]"
    if kind == "location":
        title = message.get("title") or message.get("address") or ""
        point = f"{message.get('latitude')}, {message.get('longitude')}"
        return f"[location: {title} ({point})]" if title else f"[location: {point}]"
    label = PLACEHOLDERS.get(kind, kind)
    name = message.get("fileName") or ""
    return f"[{label}: {name}]" if name else f"[{label}]"


def message_metadata(event: dict, message: dict) -> dict:
    source = event.get("source") or {}
    metadata: dict = {"source_type": source.get("type") or "", "mode": event.get("mode") or "active"}
    if event.get("replyToken"):
        metadata["reply_token"] = event["replyToken"]
        metadata["reply_token_at"] = event.get("timestamp")
    if message.get("quoteToken"):
        metadata["quote_token"] = message["quoteToken"]
    kind = message.get("type")
    if kind == "sticker":
        metadata["sticker"] = {
            key: message[key]
            for key in ("packageId", "stickerId", "stickerResourceType", "keywords", "text")
            if message.get(key) is not None
        }
    elif kind == "location":
        metadata["location"] = {
            key: message.get(key) for key in ("title", "address", "latitude", "longitude") if key in message
        }
    elif kind in PLACEHOLDERS:
        entry: dict = {"type": kind, "message_id": str(message.get("id"))}
        for key, name in (("fileName", "file_name"), ("fileSize", "file_size"), ("duration", "duration")):
            if message.get(key) is not None:
                entry[name] = message[key]
        provider = message.get("contentProvider") if isinstance(message.get("contentProvider"), dict) else {}
        entry["provider"] = provider.get("type") or "line"
        if provider.get("originalContentUrl"):
            entry["url"] = provider["originalContentUrl"]
        if provider.get("previewImageUrl"):
            entry["preview_url"] = provider["previewImageUrl"]
        if isinstance(message.get("imageSet"), dict):
            entry["image_set"] = message["imageSet"]
        metadata["media"] = [entry]
    if message.get("quotedMessageId"):
        metadata["quoted_message_id"] = str(message["quotedMessageId"])
    return metadata


def _message(event: dict) -> InboundMessage:
    message = event.get("message")
    source = event.get("source")
    if not isinstance(message, dict) or not message.get("id") or not isinstance(source, dict):
        raise PayloadRejected("a LINE message event needs 'message.id' and 'source'")
    text = ""
    if message.get("type") == "text":
        text = clean_text(message.get("text"), "message.text", MAX_TEXT)
    text = text or _placeholder(message)
    return InboundMessage(
        external_id=str(message["id"]),
        thread_key=chat_of(source),
        text=text,
        sent_at=event_time(event),
        author=author_of(source),
        in_reply_to=str(message.get("quotedMessageId") or ""),
        metadata=message_metadata(event, message),
    )


def _postback(event: dict) -> InboundMessage:
    source = event.get("source")
    postback = event.get("postback") if isinstance(event.get("postback"), dict) else {}
    if not isinstance(source, dict):
        raise PayloadRejected("a LINE postback event needs 'source'")
    data = clean_text(str(postback.get("data") or ""), "postback.data", 300)
    metadata: dict = {"source_type": source.get("type") or "", "postback": data, "mode": event.get("mode")}
    if isinstance(postback.get("params"), dict):
        metadata["postback_params"] = postback["params"]
    if event.get("replyToken"):
        metadata["reply_token"] = event["replyToken"]
        metadata["reply_token_at"] = event.get("timestamp")
    # A postback has no message id: the event's id (or, for older payloads, its time) names it.
    name = event.get("webhookEventId") or f"{chat_of(source)}:{event.get('timestamp')}"
    return InboundMessage(
        external_id=f"postback:{name}",
        thread_key=chat_of(source),
        text=f"[postback: {data}]",
        sent_at=event_time(event),
        author=author_of(source),
        metadata=metadata,
    )


def _unsend(event: dict) -> MessageUpdate:
    unsend = event.get("unsend") if isinstance(event.get("unsend"), dict) else {}
    if not unsend.get("messageId"):
        raise PayloadRejected("a LINE unsend event needs 'unsend.messageId'")
    source = event.get("source") if isinstance(event.get("source"), dict) else {}
    return MessageUpdate(
        target=str(unsend["messageId"]),
        action=MessageUpdate.DELETE,
        at=event_time(event),
        event_type="unsend",
        actor=str(source.get("userId") or ""),
    )


def interpret_events(data) -> Interpretation:
    events = events_of(data)
    result = Interpretation()
    if not events:
        result.ignored.append(
            Ignored(
                "verification", "an empty event list: the LINE console's “Verify” button checking the URL"
            )
        )
        return result
    for event in events:
        if not isinstance(event, dict):
            raise PayloadRejected("a LINE event must be an object")
        kind = str(event.get("type") or "")
        if kind == "message":
            result.messages.append(_message(event))
        elif kind == "postback":
            result.messages.append(_postback(event))
        elif kind == "unsend":
            result.updates.append(_unsend(event))
        elif kind in IGNORED_EVENTS:
            result.ignored.append(Ignored(kind, IGNORED_EVENTS[kind]))
        else:
            result.ignored.append(
                Ignored(
                    kind[:100] or "untyped",
                    f"a LINE event of type {kind!r}, which this connector does not know",
                )
            )
    return result
