"""Telegram Update objects (https://core.telegram.org/bots/api#update) → normalised inbound messages.

What becomes a message:

- `message` and `channel_post`: one inbound message, external id `"<chat id>:<message id>"` (message ids
  are only unique within a chat), threaded by chat id (a private chat's id is the user's id).
- `business_message`: a message in a chat the brand's Telegram Business account has connected to the bot,
  stored like `message`; one written by the business account itself (its `from` is not the private
  chat's user) is outbound.
- `edited_message`, `edited_channel_post`, `edited_business_message`: an edit of the stored message
  (its new text; the previous one kept in its history). An edit of a message never stored (sent before
  the bot was connected) is stored as the message, with `metadata["edited"] = True`.
- `deleted_business_messages`: the messages are marked deleted, and kept for audit.
- `message_reaction`: the user's reaction set on the stored message (an empty new set removes it).
- `callback_query` (a user pressed an inline button under a message of the bot): stored as the user's
  message in that chat, its text the button's data (`[button: …]`).
- Text is `text` or `caption`; media travel as `metadata["media"]` (Telegram file ids, fetched later
  with getFile if needed) and, without a caption, a short bracketed placeholder (`[photo]`,
  `[document: invoice.pdf]`...) so the inbox never shows an empty bubble.
- A contact the user shares about *themselves* (`contact.user_id == from.id`, what the "share my phone
  number" keyboard button sends) carries the phone number of their Telegram account, which Telegram
  verified by SMS: it is kept on the identity as a verified phone (strong evidence for merging).

Every other update (service messages such as a member joining, `my_chat_member`, `chat_member`, inline
queries, polls and votes, payments, boosts, anonymous reaction counts...) is ignored with a reason that
names its type; so is an update type this parser does not know.
"""

from __future__ import annotations

from ..base import Ignored, InboundAuthor, InboundMessage, Interpretation, MessageUpdate, PayloadRejected
from ..normalized import clean_text, parse_time

MESSAGE_FIELDS = ("message", "edited_message", "channel_post", "edited_channel_post")
FILE_MEDIA = ("animation", "audio", "document", "video", "video_note", "voice", "sticker")
PLACEHOLDERS = {
    "photo": "photo",
    "animation": "GIF",
    "audio": "audio",
    "document": "document",
    "video": "video",
    "video_note": "video message",
    "voice": "voice message",
    "sticker": "sticker",
}


def update_id(data) -> int | None:
    value = data.get("update_id") if isinstance(data, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


NEW_MESSAGE_FIELDS = ("message", "channel_post", "business_message")
EDIT_FIELDS = ("edited_message", "edited_channel_post", "edited_business_message")
# Update types that never carry a customer's message to the brand, and why they are not stored.
IGNORED_UPDATES = {
    "inline_query": "an inline query: the user typed the bot's name in some chat, not a message to the brand",
    "chosen_inline_result": "the inline result a user chose, posted in a chat the bot is not part of",
    "poll": "a poll's new state: votes are counted by Telegram, not messages",
    "poll_answer": "a user's vote in a poll, not a message",
    "my_chat_member": "the bot's own membership of a chat changed",
    "chat_member": "a chat member's status changed",
    "chat_join_request": "a request to join a chat, which an admin answers in Telegram",
    "shipping_query": "a payment's shipping query (payments are not handled by CXM)",
    "pre_checkout_query": "a payment's pre-checkout query (payments are not handled by CXM)",
    "purchased_paid_media": "a purchase of paid media (payments are not handled by CXM)",
    "message_reaction_count": "anonymous reaction counts of a channel post, with no one to attribute them to",
    "business_connection": "the business account connected or disconnected the bot",
    "chat_boost": "a chat boost",
    "removed_chat_boost": "a chat boost removed",
}


def parse_update(data) -> list[InboundMessage]:
    """The new messages of an Update (see `interpret_update` for everything it carries)."""
    return interpret_update(data).messages


def interpret_update(data) -> Interpretation:
    if update_id(data) is None:
        raise PayloadRejected("not a Telegram Update: the integer 'update_id' is missing")
    for field in NEW_MESSAGE_FIELDS:
        message = data.get(field)
        if isinstance(message, dict):
            inbound = message_from_telegram(message, business=field == "business_message")
            if inbound is None:
                return Interpretation(ignored=[Ignored(f"{field}:{_service_kind(message)}", _SERVICE_REASON)])
            return Interpretation(messages=[inbound])
    for field in EDIT_FIELDS:
        message = data.get(field)
        if isinstance(message, dict):
            return _edit(field, message)
    if isinstance(data.get("deleted_business_messages"), dict):
        return _deleted(data["deleted_business_messages"])
    if isinstance(data.get("message_reaction"), dict):
        return _reaction(data["message_reaction"])
    if isinstance(data.get("callback_query"), dict):
        return _callback(data["callback_query"])
    kinds = [key for key in data if key != "update_id"]
    for kind in kinds:
        if kind in IGNORED_UPDATES:
            return Interpretation(ignored=[Ignored(kind, IGNORED_UPDATES[kind])])
    kind = kinds[0] if kinds else "empty"
    return Interpretation(
        ignored=[Ignored(kind[:100], f"an update of type '{kind}', which this connector does not know")]
    )


_SERVICE_REASON = "a service message (a member joined or left, a pin, a title change…), not a message"
_SERVICE_KEYS = (
    "new_chat_members",
    "left_chat_member",
    "new_chat_title",
    "new_chat_photo",
    "delete_chat_photo",
    "group_chat_created",
    "supergroup_chat_created",
    "channel_chat_created",
    "pinned_message",
    "migrate_to_chat_id",
    "migrate_from_chat_id",
    "message_auto_delete_timer_changed",
    "forum_topic_created",
    "video_chat_started",
    "video_chat_ended",
    "successful_payment",
    "users_shared",
    "chat_shared",
    "write_access_allowed",
    "boost_added",
)


def _service_kind(message: dict) -> str:
    return next((key for key in _SERVICE_KEYS if key in message), "service")


def _edit(field: str, message: dict) -> Interpretation:
    inbound = message_from_telegram(message, edited=True, business=field == "edited_business_message")
    if inbound is None:
        return Interpretation(ignored=[Ignored(field, "an edit that leaves no text or media")])
    return Interpretation(
        updates=[
            MessageUpdate(
                target=inbound.external_id,
                action=MessageUpdate.EDIT,
                at=inbound.sent_at,
                event_type=field,
                text=inbound.text,
                actor=inbound.author.external_id,
                fallback=inbound,
            )
        ]
    )


def _deleted(data: dict) -> Interpretation:
    chat = data.get("chat") if isinstance(data.get("chat"), dict) else {}
    ids = data.get("message_ids")
    if chat.get("id") is None or not isinstance(ids, list):
        raise PayloadRejected("deleted_business_messages needs 'chat.id' and 'message_ids'")
    now = parse_time(None)
    return Interpretation(
        updates=[
            MessageUpdate(
                target=f"{chat['id']}:{message_id}",
                action=MessageUpdate.DELETE,
                at=now,
                event_type="deleted_business_messages",
            )
            for message_id in ids
        ]
    )


def _reaction_emoji(reaction) -> str:
    if not isinstance(reaction, dict):
        return ""
    if reaction.get("type") == "emoji":
        return str(reaction.get("emoji") or "")
    if reaction.get("type") == "custom_emoji":
        return f"custom:{reaction.get('custom_emoji_id')}"
    return str(reaction.get("type") or "")


def _reaction(data: dict) -> Interpretation:
    chat = data.get("chat") if isinstance(data.get("chat"), dict) else {}
    if chat.get("id") is None or data.get("message_id") is None:
        raise PayloadRejected("message_reaction needs 'chat.id' and 'message_id'")
    who = data.get("user") or data.get("actor_chat") or {}
    emojis = [_reaction_emoji(r) for r in data.get("new_reaction") or []]
    emojis = [emoji for emoji in emojis if emoji]
    return Interpretation(
        updates=[
            MessageUpdate(
                target=f"{chat['id']}:{data['message_id']}",
                action=MessageUpdate.REACT if emojis else MessageUpdate.UNREACT,
                at=parse_time(data.get("date"), "date"),
                event_type="message_reaction",
                actor=str(who.get("id") or "") if isinstance(who, dict) else "",
                emoji=" ".join(emojis),
            )
        ]
    )


def _callback(query: dict) -> Interpretation:
    message = query.get("message") if isinstance(query.get("message"), dict) else {}
    chat = message.get("chat") if isinstance(message.get("chat"), dict) else {}
    user = query.get("from") if isinstance(query.get("from"), dict) else {}
    if chat.get("id") is None or user.get("id") is None or not query.get("id"):
        return Interpretation(
            ignored=[
                Ignored("callback_query", "a button pressed under an inline-mode message, not in a chat")
            ]
        )
    data = clean_text(query.get("data") or query.get("game_short_name") or "", "callback_query.data")
    return Interpretation(
        messages=[
            InboundMessage(
                external_id=f"callback:{query['id']}",
                thread_key=str(chat["id"]),
                text=f"[button: {data}]",
                # Telegram gives no time for a press: the message it sits under is the nearest one.
                sent_at=parse_time(None),
                author=_author({"from": user}),
                in_reply_to=f"{chat['id']}:{message.get('message_id')}",
                metadata={"callback_data": data, "chat_type": chat.get("type") or "", "callback": True},
            )
        ]
    )


def _author(message: dict) -> InboundAuthor:
    # Sent on behalf of a chat (a channel, an anonymous group admin): `from` is then a placeholder user.
    chat = message.get("sender_chat")
    if isinstance(chat, dict) and chat.get("id") is not None:
        username = chat.get("username") or ""
        return InboundAuthor(
            external_id=str(chat["id"]),
            handle=f"@{username}" if username else "",
            display_name=clean_text(chat.get("title"), "sender_chat.title", 255),
            profile_url=f"https://t.me/{username}" if username else "",
        )
    user = message.get("from")
    if not isinstance(user, dict) or user.get("id") is None:
        # `from` is optional in the Bot API; in a private chat the chat itself is the person (a venue sent
        # without `from` in teloxide's test suite, issue 481).
        private = message.get("chat")
        if isinstance(private, dict) and private.get("type") == "private" and private.get("id") is not None:
            user = private
        else:
            raise PayloadRejected("a Telegram message has neither 'from' nor 'sender_chat'")
    username = user.get("username") or ""
    name = " ".join(part for part in (user.get("first_name"), user.get("last_name")) if part)
    author = InboundAuthor(
        external_id=str(user["id"]),
        handle=f"@{username}" if username else "",
        display_name=clean_text(name, "from.first_name", 255),
        profile_url=f"https://t.me/{username}" if username else "",
    )
    contact = message.get("contact")
    if isinstance(contact, dict) and contact.get("user_id") == user["id"] and contact.get("phone_number"):
        author.phone = clean_text(str(contact["phone_number"]), "contact.phone_number", 32)
        author.phone_verified = True
    return author


def _media(message: dict) -> list[dict]:
    media = []
    photo = message.get("photo")
    if isinstance(photo, list) and photo and isinstance(photo[-1], dict):
        largest = photo[-1]  # PhotoSize array, smallest first
        media.append(
            {
                "type": "photo",
                "file_id": largest.get("file_id"),
                "file_unique_id": largest.get("file_unique_id"),
                "width": largest.get("width"),
                "height": largest.get("height"),
            }
        )
    for kind in FILE_MEDIA:
        item = message.get(kind)
        if isinstance(item, dict):
            entry = {
                "type": kind,
                "file_id": item.get("file_id"),
                "file_unique_id": item.get("file_unique_id"),
            }
            for key in ("file_name", "mime_type", "duration", "emoji"):
                if item.get(key) is not None:
                    entry[key] = item[key]
            media.append(entry)
    return media


def _placeholder(message: dict, media: list[dict]) -> str:
    if media:
        first = media[0]
        label = PLACEHOLDERS.get(first["type"], first["type"])
        detail = first.get("file_name") or first.get("emoji") or ""
        return f"[{label}: {detail}]" if detail else f"[{label}]"
    location = message.get("venue") or message.get("location")
    if isinstance(location, dict):
        place = location.get("location") if "location" in location else location
        title = location.get("title") or ""
        point = f"{place.get('latitude')}, {place.get('longitude')}" if isinstance(place, dict) else ""
        return f"[location: {title} ({point})]" if title else f"[location: {point}]"
    contact = message.get("contact")
    if isinstance(contact, dict):
        parts = (contact.get("first_name"), contact.get("last_name"), contact.get("phone_number"))
        return f"[contact: {' '.join(str(part) for part in parts if part)}]"
    poll = message.get("poll")
    if isinstance(poll, dict):
        return f"[poll: {poll.get('question') or ''}]"
    dice = message.get("dice")
    if isinstance(dice, dict):
        return f"[dice: {dice.get('emoji') or ''} {dice.get('value') or ''}]"
    for kind in ("story", "game", "invoice", "giveaway", "paid_media"):
        item = message.get(kind)
        if isinstance(item, dict):
            title = item.get("title") or ""
            return f"[{kind}: {title}]" if title else f"[{kind}]"
    return ""


def message_from_telegram(
    message: dict, *, edited: bool = False, business: bool = False
) -> InboundMessage | None:
    """One Message object → an inbound message; None for service messages (joins, pins...). An edited
    message keeps its original's external id (the edit updates it), sent at the time of the edit."""
    chat = message.get("chat")
    message_id = message.get("message_id")
    if not isinstance(chat, dict) or chat.get("id") is None or message_id is None:
        raise PayloadRejected("a Telegram message needs 'chat.id' and 'message_id'")
    chat_id = chat["id"]
    media = _media(message)
    text = clean_text(message.get("text") or message.get("caption"), "text") or _placeholder(message, media)
    if not text:
        return None
    metadata: dict = {"chat_type": chat.get("type") or "", "message_id": message_id}
    if chat.get("title"):
        metadata["chat_title"] = chat["title"]
    if media:
        metadata["media"] = media
    sent_at = message.get("date")
    if edited:
        sent_at = message.get("edit_date") or message.get("date")
        metadata["edited"] = True
    outbound = False
    if business:
        metadata["business_connection_id"] = message.get("business_connection_id") or ""
        sender = message.get("from") if isinstance(message.get("from"), dict) else {}
        # In a private chat the chat's id is the customer's: anyone else writing is the business itself.
        outbound = chat.get("type") == "private" and sender.get("id") not in (None, chat_id)
    reply = message.get("reply_to_message")
    in_reply_to = (
        f"{chat_id}:{reply['message_id']}" if isinstance(reply, dict) and reply.get("message_id") else ""
    )
    return InboundMessage(
        external_id=f"{chat_id}:{message_id}",
        thread_key=str(chat_id),
        text=text,
        sent_at=parse_time(sent_at, "date"),
        author=_author(message),
        in_reply_to=in_reply_to,
        outbound=outbound,
        metadata=metadata,
    )
