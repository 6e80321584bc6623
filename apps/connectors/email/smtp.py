"""An agent's reply as a threaded email, sent over SMTP.

From: the brand (`from_name`, default the brand's name) at the channel's `from_address`. To: the customer —
the Reply-To or sender of their last inbound message, else an email identity of their profile. Subject:
"Re: <conversation subject>". In-Reply-To / References continue the thread so that the customer's mail
client shows the reply under their message. A new Message-ID on the from-address's domain is returned as
the message's external id: the customer's answer refers to it, and lands in the same conversation.
Cc / Bcc come from `message.metadata["cc"]` / `["bcc"]` (Bcc only in the envelope, never in a header); the
agent's signature follows the "-- " delimiter. A plain-text part and a simple HTML rendering of it.

Errors: network failures and 4xx answers → TransientError (retried); 5xx answers, a refused login, a
certificate that does not verify, no address for the customer → PayloadRejected (the message fails with
the reason).
"""

from __future__ import annotations

import html
import logging
import re
import smtplib
import ssl
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, getaddresses, make_msgid

from apps.core.outbound import DestinationRefused, untrusted_destination

from ..base import PayloadRejected, TransientError
from ..kinds import ChannelKind
from .config import SmtpConfig, tls_context
from .parsing import MSGID

logger = logging.getLogger(__name__)

REPLY_PREFIX = re.compile(r"^\s*(re|aw|sv|vs|antw|ref|rif|res|r)\s*(\[\d+\])?\s*:", re.IGNORECASE)
MAX_REFERENCES = 20


def _is_message_id(value: str | None) -> bool:
    return bool(value) and MSGID.fullmatch(value) is not None


def _address(value: str, what: str) -> Address:
    try:
        return Address(addr_spec=value)
    except (ValueError, IndexError, TypeError) as error:
        raise PayloadRejected(f"{what} {value!r} is not a valid email address ({error})") from None


def _addresses(value, what: str) -> list[str]:
    """Addresses from a list or a comma-separated string; every one must be valid."""
    if not value:
        return []
    values = [value] if isinstance(value, str) else [str(item) for item in value]
    found = []
    for text in values:
        if "\r" in text or "\n" in text:
            raise PayloadRejected(f"{what} {text!r} is not a valid email address")
        for _, address in getaddresses([text]):
            if not address:
                continue
            if "@" not in address or any(c.isspace() for c in address):
                raise PayloadRejected(f"{what} {address!r} is not a valid email address")
            _address(address, what)
            found.append(address)
    return found


def _recipient(message) -> tuple[str, str]:
    """(display name, address) of the customer this reply goes to."""
    from apps.conversations.models import Message

    conversation = message.conversation
    last_inbound = (
        Message.objects.filter(conversation=conversation, direction=Message.Direction.INBOUND)
        .exclude(author_identity=None)
        .exclude(author_identity__email="")
        .select_related("author_identity")
        .order_by("-sent_at", "-pk")
        .first()
    )
    if last_inbound is not None:
        identity = last_inbound.author_identity
        reply_to = (last_inbound.metadata or {}).get("reply_to")
        if reply_to:
            return "", reply_to
        return identity.display_name, identity.email
    identities = [
        identity for identity in conversation.customer.identities.exclude(email="") if "@" in identity.email
    ]
    # The profile's email identity first, then any verified address, then the most recently seen.
    identities.sort(
        key=lambda i: (i.kind != ChannelKind.EMAIL, not i.email_verified, -i.last_seen_at.timestamp())
    )
    if identities:
        return identities[0].display_name, identities[0].email
    raise PayloadRejected("no email address is known for this customer: nowhere to send the reply")


def _thread_headers(message, reply_to: str) -> tuple[str, list[str]]:
    """(In-Reply-To, References) continuing the conversation's thread."""
    from apps.conversations.models import Message

    conversation = message.conversation
    earlier = (
        Message.objects.filter(conversation=conversation).exclude(pk=message.pk).exclude(external_id=None)
    )
    parent = None
    if _is_message_id(reply_to):
        parent = earlier.filter(external_id=reply_to).first()
    if parent is None:
        candidates = earlier.exclude(direction=Message.Direction.NOTE).order_by("-sent_at", "-pk")
        parent = next((m for m in candidates[:50] if _is_message_id(m.external_id)), None)
    references: list[str] = []
    if _is_message_id(conversation.external_thread_id):
        references.append(conversation.external_thread_id)
    if parent is not None:
        references += [ref for ref in (parent.metadata or {}).get("references") or [] if _is_message_id(ref)]
        references.append(parent.external_id)
    references = list(dict.fromkeys(references))
    if len(references) > MAX_REFERENCES:  # keep the root and the most recent, as RFC 5322 suggests
        references = [references[0], *references[-(MAX_REFERENCES - 1) :]]
    in_reply_to = parent.external_id if parent is not None else (references[-1] if references else "")
    return in_reply_to, references


def _subject(conversation) -> str:
    subject = " ".join((conversation.subject or "").split())
    if not subject:
        return f"Re: your message to {conversation.brand.name}"
    return subject if REPLY_PREFIX.match(subject) else f"Re: {subject}"


def _signature(message) -> str:
    user = message.author_user
    signature = ((user.signature if user is not None else "") or "").replace("\r\n", "\n").strip("\n")
    lines = signature.split("\n")
    if lines and lines[0].rstrip() == "--":  # the agent typed the delimiter themselves
        lines = lines[1:]
    return "\n".join(lines).strip("\n")


def _html(text: str, signature: str) -> str:
    paragraphs = [p for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]
    body = "".join(f"<p>{html.escape(p).replace(chr(10), '<br>')}</p>\n" for p in paragraphs)
    if signature:
        body += f'<div class="signature">-- <br>{html.escape(signature).replace(chr(10), "<br>")}</div>\n'
    return f'<!DOCTYPE html>\n<html><body style="font-family: sans-serif">\n{body}</body></html>\n'


def compose_reply(config: SmtpConfig, message, reply_to: str = "") -> tuple[EmailMessage, list[str]]:
    """The email for an outbound message, and its envelope recipients (To, Cc and Bcc)."""
    conversation = message.conversation
    name, to = _recipient(message)
    to_address = _address(to, "the customer's address")
    metadata = message.metadata or {}
    cc = [a for a in _addresses(metadata.get("cc"), "cc address") if a.lower() != to.lower()]
    bcc = _addresses(metadata.get("bcc"), "bcc address")
    in_reply_to, references = _thread_headers(message, reply_to)

    email = EmailMessage()
    email["From"] = Address(display_name=config.from_name, addr_spec=config.from_address)
    email["To"] = Address(display_name=" ".join((name or "").split()), addr_spec=to_address.addr_spec)
    if cc:
        email["Cc"] = ", ".join(cc)
    email["Subject"] = _subject(conversation)
    email["Date"] = format_datetime(datetime.now(UTC))
    email["Message-ID"] = make_msgid(domain=config.from_address.rpartition("@")[2])
    if in_reply_to:
        email["In-Reply-To"] = in_reply_to
    if references:
        email["References"] = " ".join(references)

    text = (message.text or "").replace("\r\n", "\n").rstrip()
    signature = _signature(message)
    plain = f"{text}\n\n-- \n{signature}\n" if signature else f"{text}\n"
    email.set_content(plain)
    email.add_alternative(_html(text, signature), subtype="html")

    recipients: dict[str, str] = {}  # one envelope recipient per address, whatever its case
    for address in (to, *cc, *bcc):
        recipients.setdefault(address.lower(), address)
    return email, list(recipients.values())


def _code_error(code: int, text: str, what: str) -> Exception:
    reason = f"{what}: {code} {text}".strip()
    return TransientError(reason) if 400 <= code < 500 else PayloadRejected(reason)


def _smtp_text(value) -> str:
    return (value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)).strip()[:500]


def _translate(error: Exception, config: SmtpConfig) -> Exception:
    where = f"{config.host}:{config.port}"
    if isinstance(error, smtplib.SMTPAuthenticationError):
        return PayloadRejected(
            f"SMTP login refused for {config.username!r} on {where}: "
            f"{error.smtp_code} {_smtp_text(error.smtp_error)}"
        )
    if isinstance(error, smtplib.SMTPNotSupportedError):
        return PayloadRejected(f"the SMTP server {where} does not support what is needed: {error}")
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        refused = error.recipients
        reason = "; ".join(f"{a}: {code} {_smtp_text(text)}" for a, (code, text) in refused.items())
        if refused and all(400 <= code < 500 for code, _ in refused.values()):
            return TransientError(f"the SMTP server {where} deferred every recipient: {reason}")
        return PayloadRejected(f"the SMTP server {where} refused every recipient: {reason}")
    if isinstance(error, smtplib.SMTPServerDisconnected):
        return TransientError(f"the SMTP server {where} closed the connection: {error}")
    if isinstance(error, smtplib.SMTPResponseException):
        return _code_error(error.smtp_code, _smtp_text(error.smtp_error), f"the SMTP server {where} answered")
    if isinstance(error, ssl.SSLCertVerificationError):
        return PayloadRejected(
            f"the SMTP server {where} has a TLS certificate that does not verify: "
            f"{error.verify_message or error}"
        )
    if isinstance(error, ssl.SSLError):
        return PayloadRejected(
            f"TLS failed with the SMTP server {where} ({error}); check the 'smtp_security' and 'smtp_port' "
            "settings"
        )
    if isinstance(error, OSError | smtplib.SMTPException):
        return TransientError(f"cannot reach the SMTP server {where}: {error!r}")
    if isinstance(error, UnicodeEncodeError):
        return PayloadRejected(f"the SMTP server {where} needs an ASCII login and password")
    return error


def _deliver(config: SmtpConfig, email: EmailMessage, recipients: list[str]) -> dict:
    context = tls_context(config.settings) if config.security != "none" else None
    client = None
    try:
        # The server is the tenant's: it must be on a public address (no scanning CXM's network through it).
        with untrusted_destination(f"the SMTP server {config.host}:{config.port}"):
            if config.security == "ssl":
                client = smtplib.SMTP_SSL(
                    config.host,
                    config.port,
                    local_hostname=config.helo_name,
                    timeout=config.timeout,
                    context=context,
                )
            else:
                client = smtplib.SMTP(
                    config.host, config.port, local_hostname=config.helo_name, timeout=config.timeout
                )
        if config.security == "starttls":
            client.ehlo()
            if not client.has_extn("starttls"):
                raise PayloadRejected(
                    f"the SMTP server {config.host}:{config.port} does not offer STARTTLS; "
                    "use smtp_security 'ssl' or another port"
                )
            client.starttls(context=context)
        if config.username:
            client.login(config.username, config.password)
        return client.send_message(email, from_addr=config.from_address, to_addrs=recipients)
    except DestinationRefused as error:
        raise PayloadRejected(str(error)) from None
    except (smtplib.SMTPException, OSError, UnicodeEncodeError) as error:
        raise _translate(error, config) from error
    finally:
        if client is not None:
            try:
                client.quit()
            except (smtplib.SMTPException, OSError):
                client.close()


def send_reply(channel, message, reply_to: str = "") -> str:
    """Send an outbound message of an email conversation; returns its Message-ID."""
    config = SmtpConfig.from_channel(channel)
    email, recipients = compose_reply(config, message, reply_to)
    refused = _deliver(config, email, recipients)
    if refused:
        reason = "; ".join(f"{a}: {code} {_smtp_text(text)}" for a, (code, text) in refused.items())
        if recipients[0] in refused:
            # The others already have it: retrying would send it to them twice.
            raise PayloadRejected(f"the customer's address was refused (the copies went out): {reason}")
        logger.warning(
            "some copy recipients were refused", extra={"message_id": message.pk, "refused": reason}
        )
    return email["Message-ID"]
