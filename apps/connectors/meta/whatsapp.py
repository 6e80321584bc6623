"""WhatsApp Cloud API notifications → inbound messages, and delivery statuses → delivery updates.

`entry[].changes[]` with `field: "messages"` and `value = {"messaging_product": "whatsapp", "metadata":
{"display_phone_number", "phone_number_id"}, "contacts": [{"profile": {"name"}, "wa_id"}],
"messages": [ … ], "statuses": [ … ]}`.

- Each `messages[]` item (`from` = the customer's wa_id, `id` = wamid, `timestamp` in Unix seconds as
  text, `type`) is one inbound message threaded by wa_id (`"group:<group_id>"` for group messages).
  `text.body`, a caption, an interactive / button reply's title, or a placeholder (`[image]`,
  `[location: …]`); media ids in `metadata["media"]`; `context.id` (the message replied to) as
  in_reply_to. Reactions, `system` notices (number changes) and unknown `request_welcome` events produce
  nothing.
- The author is the wa_id with the profile name from `contacts[]` and the phone "+<wa_id>",
  *verified*: WhatsApp proved the number owns the account, which makes it strong evidence for joining
  this profile with any other verified use of the same number.
- `statuses[]` (sent / delivered / read / failed receipts of the brand's own messages) are not messages:
  `parse` skips them, and `delivery_updates()` maps them to DeliveryUpdate values (external id = the
  wamid CXM stored when sending, status in Message.Delivery terms) for whoever applies them to messages.
- A change whose `metadata.phone_number_id` is not the channel's `phone_number_id` (one Meta app
  serving several numbers) belongs to another channel and is skipped.
"""

from __future__ import annotations

from ..base import DeliveryUpdate, InboundAuthor, InboundMessage, PayloadRejected
from ..normalized import clean_text
from .webhooks import changes, event_time

MEDIA_TYPES = ("image", "video", "audio", "document", "sticker")
SKIPPED_TYPES = {"reaction", "system", "request_welcome", "ephemeral"}
STATUS_TO_DELIVERY = {"sent": "sent", "delivered": "delivered", "read": "delivered", "failed": "failed"}


def _for_this_number(value: dict, phone_number_id: str) -> bool:
    metadata = value.get("metadata") if isinstance(value.get("metadata"), dict) else {}
    number = str(metadata.get("phone_number_id") or "")
    return not (phone_number_id and number and number != str(phone_number_id))


def _body(message: dict, kind: str) -> tuple[str, dict]:
    """The message's text and extra metadata, by type."""
    content = message.get(kind) if isinstance(message.get(kind), dict) else {}
    if kind == "text":
        return clean_text(content.get("body"), "text.body"), {}
    if kind in MEDIA_TYPES:
        media = {"type": kind}
        for key in ("id", "mime_type", "sha256", "filename", "animated"):
            if content.get(key) is not None:
                media[key] = content[key]
        caption = clean_text(content.get("caption"), f"{kind}.caption")
        label = f"[{kind}: {content['filename']}]" if content.get("filename") else f"[{kind}]"
        return caption or label, {"media": [media]}
    if kind == "location":
        where = ", ".join(str(content[k]) for k in ("name", "address") if content.get(k))
        point = f"{content.get('latitude')}, {content.get('longitude')}"
        return f"[location: {where} ({point})]" if where else f"[location: {point}]", {"location": content}
    if kind == "contacts":
        cards = message.get("contacts") if isinstance(message.get("contacts"), list) else []
        names = [
            (card.get("name") or {}).get("formatted_name") or ""
            for card in cards
            if isinstance(card, dict) and isinstance(card.get("name") or {}, dict)
        ]
        return f"[contact: {', '.join(n for n in names if n)}]", {"contacts": cards}
    if kind == "interactive":
        reply = content.get("button_reply") or content.get("list_reply") or content.get("nfm_reply") or {}
        reply = reply if isinstance(reply, dict) else {}
        title = clean_text(reply.get("title") or reply.get("body") or "", "interactive.title")
        return title or "[interactive reply]", {
            "interactive": {"type": content.get("type"), "id": reply.get("id")}
        }
    if kind == "button":
        return clean_text(content.get("text"), "button.text") or "[button]", {
            "button_payload": content.get("payload")
        }
    return f"[{kind or 'unsupported'} message]", {}


def parse_whatsapp(entry: dict, *, phone_number_id: str = "") -> list[InboundMessage]:
    found = []
    for change in changes(entry):
        value = change["value"]
        if change.get("field", "messages") != "messages" or not _for_this_number(value, phone_number_id):
            continue
        names = {
            str(contact.get("wa_id")): (contact.get("profile") or {}).get("name") or ""
            for contact in value.get("contacts") or []
            if isinstance(contact, dict) and isinstance(contact.get("profile") or {}, dict)
        }
        for message in value.get("messages") or []:
            if not isinstance(message, dict):
                continue
            kind = str(message.get("type") or "")
            if kind in SKIPPED_TYPES:
                continue
            wa_id, wamid = str(message.get("from") or ""), str(message.get("id") or "")
            if not wa_id or not wamid:
                raise PayloadRejected("a WhatsApp message needs 'from' and 'id'")
            text, metadata = _body(message, kind)
            if not text:
                continue
            metadata = {"source": "whatsapp_message", "type": kind, **metadata}
            context = message.get("context") if isinstance(message.get("context"), dict) else {}
            if context.get("forwarded") or context.get("frequently_forwarded"):
                metadata["forwarded"] = True
            if isinstance(message.get("referral"), dict):
                metadata["referral"] = message["referral"]  # a click-to-WhatsApp ad
            if message.get("errors"):
                metadata["errors"] = message["errors"]
            group_id = str(message.get("group_id") or "")
            if group_id:
                metadata["group_id"] = group_id
            found.append(
                InboundMessage(
                    external_id=wamid,
                    thread_key=f"group:{group_id}" if group_id else wa_id,
                    text=text,
                    sent_at=event_time(message.get("timestamp")),
                    author=InboundAuthor(
                        external_id=wa_id,
                        display_name=clean_text(names.get(wa_id, ""), "profile.name", 255),
                        phone=f"+{wa_id.lstrip('+')}",
                        phone_verified=True,
                    ),
                    in_reply_to=str(context.get("id") or ""),
                    metadata=metadata,
                )
            )
    return found


def parse_statuses(entry: dict, *, phone_number_id: str = "") -> list[DeliveryUpdate]:
    found = []
    for change in changes(entry):
        value = change["value"]
        if change.get("field", "messages") != "messages" or not _for_this_number(value, phone_number_id):
            continue
        for status in value.get("statuses") or []:
            if not isinstance(status, dict) or status.get("status") not in STATUS_TO_DELIVERY:
                continue
            errors = [e for e in status.get("errors") or [] if isinstance(e, dict)]
            error = ""
            if errors:
                first = errors[0]
                details = (
                    (first.get("error_data") or {}).get("details")
                    if isinstance(first.get("error_data"), dict)
                    else ""
                )
                error = f"{first.get('title') or first.get('message') or 'failed'} [code {first.get('code')}]"
                error += f" — {details}" if details else ""
            found.append(
                DeliveryUpdate(
                    external_id=str(status.get("id") or ""),
                    status=STATUS_TO_DELIVERY[status["status"]],
                    platform_status=status["status"],
                    at=event_time(status.get("timestamp")),
                    recipient=str(status.get("recipient_id") or ""),
                    error=error,
                )
            )
    return found
