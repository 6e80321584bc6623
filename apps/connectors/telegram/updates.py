"""Telegram Update objects (https://core.telegram.org/bots/api#update) → normalised inbound messages.

What becomes a message:

- `message` and `channel_post`: one inbound message, external id `"<chat id>:<message id>"` (message ids
  are only unique within a chat), threaded by chat id (a private chat's id is the user's id).
- `edited_message` and `edited_channel_post`: a *new* inbound message holding the corrected text, external
  id `"<chat id>:<message id>:edit:<edit_date>"`, with `metadata["edited"] = True` and
  `metadata["edit_of"]` = the original's external id. Stored messages are never rewritten: the thread
  shows what the customer wrote and then what they changed it to, and each edit is ingested once.
- Text is `text` or `caption`; media travel as `metadata["media"]` (Telegram file ids, fetched later
  with getFile if needed) and, without a caption, a short bracketed placeholder (`[photo]`,
  `[document: invoice.pdf]`...) so the inbox never shows an empty bubble.
- A contact the user shares about *themselves* (`contact.user_id == from.id`, what the "share my phone
  number" keyboard button sends) carries the phone number of their Telegram account, which Telegram
  verified by SMS: it is kept on the identity as a verified phone (strong evidence for merging).

Every other update (service messages such as a member joining, `my_chat_member`, `callback_query`,
polls, reactions...) produces no message: `parse_update` returns [] and the payload is processed,
not rejected.
"""

from __future__ import annotations

from ..base import InboundAuthor, InboundMessage, PayloadRejected
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


def parse_update(data) -> list[InboundMessage]:
    if update_id(data) is None:
        raise PayloadRejected("not a Telegram Update: the integer 'update_id' is missing")
    for field in MESSAGE_FIELDS:
        message = data.get(field)
        if isinstance(message, dict):
            inbound = message_from_telegram(message, edited=field.startswith("edited_"))
            return [inbound] if inbound else []
    return []


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
    return ""


def message_from_telegram(message: dict, *, edited: bool = False) -> InboundMessage | None:
    """One Message object → an inbound message; None for service messages (joins, pins...)."""
    chat = message.get("chat")
    message_id = message.get("message_id")
    if not isinstance(chat, dict) or chat.get("id") is None or message_id is None:
        raise PayloadRejected("a Telegram message needs 'chat.id' and 'message_id'")
    chat_id = chat["id"]
    media = _media(message)
    text = clean_text(message.get("text") or message.get("caption"), "text") or _placeholder(message, media)
    if not text:
        return None
    original_id = f"{chat_id}:{message_id}"
    metadata: dict = {"chat_type": chat.get("type") or "", "message_id": message_id}
    if chat.get("title"):
        metadata["chat_title"] = chat["title"]
    if media:
        metadata["media"] = media
    external_id, sent_at = original_id, message.get("date")
    if edited:
        edit_date = message.get("edit_date") or message.get("date")
        external_id = f"{original_id}:edit:{edit_date}"
        sent_at = edit_date
        metadata.update(edited=True, edit_of=original_id)
    reply = message.get("reply_to_message")
    in_reply_to = (
        f"{chat_id}:{reply['message_id']}" if isinstance(reply, dict) and reply.get("message_id") else ""
    )
    return InboundMessage(
        external_id=external_id,
        thread_key=str(chat_id),
        text=text,
        sent_at=parse_time(sent_at, "date"),
        author=_author(message),
        in_reply_to=in_reply_to,
        metadata=metadata,
    )
