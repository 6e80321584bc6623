"""WhatsApp Cloud API notifications → inbound messages, and delivery statuses → delivery updates.

`entry[].changes[]` with `field: "messages"` and `value = {"messaging_product": "whatsapp", "metadata":
{"display_phone_number", "phone_number_id"}, "contacts": [{"profile": {"name"}, "wa_id"}],
"messages": [ … ], "statuses": [ … ]}`.

- Each `messages[]` item (`from` = the customer's wa_id, `id` = wamid, `timestamp` in Unix seconds as
  text, `type`) is one inbound message threaded by wa_id (`"group:<group_id>"` for group messages).
  `text.body`, a caption, an interactive reply (button, list, or a flow's `nfm_reply` with its answers
  from `response_json`), a button, an order (its items, quantities and prices), or a placeholder
  (`[image]`, `[location: …]`); media ids in `metadata["media"]`; `context.id` (the message replied to)
  as in_reply_to.
- A `reaction` is set on the message it names (an empty emoji removes it); an `edit` updates the stored
  message's text (history kept; an edit of a message never stored is stored as that message); a
  `revoke` marks the stored message deleted and keeps it.
- `smb_message_echoes` (coexistence: what the business sent, edited or deleted from the WhatsApp
  Business app): each `message_echoes[]` item is read like a `messages[]` one, but as an *outbound* message
  to the customer `to`, in that customer's conversation; its edits and revokes update the stored message.
- `system` notices (the customer changed number, their identity key changed), `request_welcome`,
  `unsupported` messages and message types this parser does not know are ignored with a reason naming
  the type, as is any field other than `messages` (template and quality updates...).
- The author is the wa_id with the profile name from `contacts[]` and the phone "+<wa_id>",
  *verified*: WhatsApp proved the number owns the account, which makes it strong evidence for joining
  this profile with any other verified use of the same number.
- `statuses[]` (sent / delivered / read / failed receipts of the brand's own messages) become receipts
  (external id = the wamid CXM stored when sending, status in Message.Delivery terms); one naming no
  message CXM sent is ignored with that reason by the pipeline.
- A change whose `metadata.phone_number_id` is not the channel's `phone_number_id` (one Meta app
  serving several numbers) belongs to another channel and is skipped.
"""

from __future__ import annotations

import json

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

MEDIA_TYPES = ("image", "video", "audio", "document", "sticker")
KNOWN_TYPES = {*MEDIA_TYPES, "text", "location", "contacts", "interactive", "button", "order"}
IGNORED_TYPES = {
    "system": "a system notice (the customer changed number or their security identity changed)",
    "request_welcome": "the customer opened the chat for the first time; there is no message yet",
    "ephemeral": "a disappearing message, which WhatsApp does not show to businesses",
    "unsupported": "a message type the Cloud API does not deliver to businesses",
    "unknown": "a message type the Cloud API does not deliver to businesses",
}
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
        return _interactive(content)
    if kind == "button":
        return clean_text(content.get("text"), "button.text") or "[button]", {
            "button_payload": content.get("payload")
        }
    if kind == "order":
        return _order(content)
    return f"[{kind or 'unsupported'} message]", {}


def _interactive(content: dict) -> tuple[str, dict]:
    """A button or list reply (its title and description), or a WhatsApp Flow's answers (`nfm_reply`,
    whose `response_json` is a JSON text of the fields the customer filled in)."""
    kind = str(content.get("type") or "")
    reply = content.get(kind) if isinstance(content.get(kind), dict) else {}
    if not reply:
        reply = content.get("button_reply") or content.get("list_reply") or content.get("nfm_reply") or {}
    reply = reply if isinstance(reply, dict) else {}
    extra: dict = {"interactive": {"type": kind, "id": reply.get("id")}}
    if kind == "nfm_reply" or "response_json" in reply:
        try:
            answers = json.loads(reply.get("response_json") or "{}")
        except (TypeError, ValueError):
            answers = {}
        answers = answers if isinstance(answers, dict) else {}
        extra["interactive"].update(name=reply.get("name"), response=answers)
        fields = [f"{key}: {value}" for key, value in answers.items() if key != "flow_token"]
        title = clean_text(reply.get("body") or "", "nfm_reply.body")
        text = "\n".join([title or "[form reply]", *fields])
        return clean_text(text, "nfm_reply"), extra
    parts = [reply.get("title") or "", reply.get("description") or ""]
    text = clean_text(" — ".join(str(part) for part in parts if part), "interactive.title")
    return text or "[interactive reply]", extra


def _order(content: dict) -> tuple[str, dict]:
    items = [item for item in content.get("product_items") or [] if isinstance(item, dict)]
    lines = [
        f"{item.get('quantity', 1)} × {item.get('product_retailer_id', '?')}"
        + (
            f" at {item.get('item_price')} {item.get('currency') or ''}".rstrip()
            if "item_price" in item
            else ""
        )
        for item in items
    ]
    note = clean_text(content.get("text") or "", "order.text")
    text = "\n".join(
        [f"[order: {len(items)} item{'s' if len(items) != 1 else ''}]", *lines, *([note] if note else [])]
    )
    return text, {"order": content}


def _author(wa_id: str, names: dict[str, str]) -> InboundAuthor:
    return InboundAuthor(
        external_id=wa_id,
        display_name=clean_text(names.get(wa_id, ""), "profile.name", 255),
        phone=f"+{wa_id.lstrip('+')}",
        phone_verified=True,
    )


def parse_whatsapp(entry: dict, *, phone_number_id: str = "") -> list[InboundMessage]:
    return interpret_whatsapp(entry, phone_number_id=phone_number_id).messages


def _update(message: dict, kind: str) -> MessageUpdate | None:
    """A reaction, edit or revoke: a change to the message it names."""
    content = message.get(kind) if isinstance(message.get(kind), dict) else {}
    at = event_time(message.get("timestamp"))
    actor = str(message.get("from") or "")
    if kind == "reaction":
        target = str(content.get("message_id") or "")
        emoji = str(content.get("emoji") or "")
        action = MessageUpdate.REACT if emoji else MessageUpdate.UNREACT
        return MessageUpdate(target, action, at, "reaction", actor=actor, emoji=emoji) if target else None
    target = str(content.get("original_message_id") or content.get("id") or "")
    if not target:
        return None
    if kind == "revoke":
        return MessageUpdate(target, MessageUpdate.DELETE, at, "revoke", actor=actor)
    edited = content.get("message") if isinstance(content.get("message"), dict) else content
    edited_kind = str(edited.get("type") or "text")
    text, _ = _body(edited, edited_kind)
    return MessageUpdate(target, MessageUpdate.EDIT, at, "edit", text=text, actor=actor)


def interpret_whatsapp(entry: dict, *, phone_number_id: str = "") -> Interpretation:
    result = Interpretation()
    for change in changes(entry):
        value = change["value"]
        field = str(change.get("field") or "messages")
        if field not in ("messages", "smb_message_echoes"):
            result.ignored.append(
                Ignored(field[:100], f"a '{field}' notification, about the account, not a message")
            )
            continue
        if not _for_this_number(value, phone_number_id):
            result.ignored.append(Ignored(field, "a notification for another phone number of the account"))
            continue
        names = {
            str(contact.get("wa_id")): (contact.get("profile") or {}).get("name") or ""
            for contact in value.get("contacts") or []
            if isinstance(contact, dict) and isinstance(contact.get("profile") or {}, dict)
        }
        if field == "smb_message_echoes":
            # Coexistence: what the business sent, edited or deleted from the WhatsApp Business app (or a
            # linked device) on a number also onboarded to the Cloud API. Never a copy of a Cloud API send,
            # so each is stored as an outbound message of the customer's conversation (`to`).
            for message in value.get("message_echoes") or []:
                if isinstance(message, dict):
                    _message(message, names, result, echo=True)
            continue
        result.receipts += _statuses(value)
        for message in value.get("messages") or []:
            if isinstance(message, dict):
                _message(message, names, result, echo=False)
    return result


def _message(message: dict, names: dict[str, str], result: Interpretation, *, echo: bool) -> None:
    """One `messages[]` item (from the customer) or `message_echoes[]` item (from the business to the
    customer `to`) → a message, an update of a stored one, or an ignored event."""
    kind = str(message.get("type") or "")
    customer = str(message.get("to" if echo else "from") or "")
    if kind in ("reaction", "edit", "revoke"):
        update = _update(message, kind)
        if update is None:
            raise PayloadRejected(f"a WhatsApp {kind} needs the id of the message it changes")
        if kind == "edit" and update.text and customer:  # never stored: stored as edited
            update.fallback = InboundMessage(
                external_id=update.target,
                thread_key=customer,
                text=update.text,
                sent_at=update.at,
                author=_author(customer, names),
                outbound=echo,
                metadata={"source": "whatsapp_echo" if echo else "whatsapp_message", "edited": True},
            )
        result.updates.append(update)
        return
    if kind in IGNORED_TYPES:
        result.ignored.append(Ignored(kind, IGNORED_TYPES[kind]))
        return
    wamid = str(message.get("id") or "")
    if not customer or not wamid:
        raise PayloadRejected(
            f"a WhatsApp message{' echo' if echo else ''} needs '{'to' if echo else 'from'}' and 'id'"
        )
    if kind not in KNOWN_TYPES:
        result.ignored.append(
            Ignored(
                kind[:100] or "untyped", f"a message of type '{kind}', which this connector does not know"
            )
        )
        return
    text, metadata = _body(message, kind)
    if not text:
        result.ignored.append(Ignored(kind, "a message with no text or media"))
        return
    metadata = {"source": "whatsapp_echo" if echo else "whatsapp_message", "type": kind, **metadata}
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
    result.messages.append(
        InboundMessage(
            external_id=wamid,
            thread_key=f"group:{group_id}" if group_id else customer,
            text=text,
            sent_at=event_time(message.get("timestamp")),
            author=_author(customer, names),
            in_reply_to=str(context.get("id") or ""),
            outbound=echo,
            metadata=metadata,
        )
    )


def parse_statuses(entry: dict, *, phone_number_id: str = "") -> list[DeliveryUpdate]:
    return interpret_whatsapp(entry, phone_number_id=phone_number_id).receipts


def _statuses(value: dict) -> list[DeliveryUpdate]:
    found = []
    for status in value.get("statuses") or []:
        if not isinstance(status, dict):
            continue
        platform_status = str(status.get("status") or "")
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
                # A status CXM has no word for (e.g. "deleted", "warning") changes nothing but is still a
                # receipt: the pipeline applies it where it names a message, and explains it otherwise.
                status=STATUS_TO_DELIVERY.get(platform_status, ""),
                platform_status=platform_status,
                at=event_time(status.get("timestamp")),
                recipient=str(status.get("recipient_id") or ""),
                error=error,
            )
        )
    return found
