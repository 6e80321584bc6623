"""The email channel: IMAP polling (or IDLE push: `idle.py`) in, SMTP replies out (settings: `config.py`)."""

from __future__ import annotations

from ..base import Connector, FetchResult, InboundMessage
from ..kinds import ChannelKind
from ..setup import CHOICE, EMAIL, FLAG, LINES, LONG_TEXT, NUMBER, Setting
from .config import setting_bool
from .imap import fetch_new_messages
from .parsing import parse_email
from .smtp import send_reply

SECURITY_CHOICES = (("ssl", "SSL/TLS"), ("starttls", "STARTTLS"), ("none", "None (unencrypted)"))


def _own_addresses(channel) -> frozenset[str]:
    settings = channel.settings or {}
    addresses = [settings.get("from_address") or "", *(settings.get("own_addresses") or [])]
    return frozenset(str(address).strip().lower() for address in addresses if address)


class EmailConnector(Connector):
    kind = ChannelKind.EMAIL
    setup_fields = (
        Setting("host", "IMAP server", required=True, help="Where new mail is read, e.g. imap.example.com."),
        Setting("port", "IMAP port", NUMBER, min_value=1, max_value=65535, help="Default 993 (SSL) or 143."),
        Setting("security", "IMAP security", CHOICE, choices=SECURITY_CHOICES, default="ssl"),
        Setting("mailbox", "Mailbox", help="Default INBOX."),
        Setting("username", "IMAP user name", credential=True, required=True),
        Setting("password", "IMAP password", secret=True, required=True),
        Setting("smtp_host", "SMTP server", help="Where replies are sent from; empty: replies are not sent."),
        Setting("smtp_port", "SMTP port", NUMBER, min_value=1, max_value=65535, help="Default 465 or 587."),
        Setting("smtp_security", "SMTP security", CHOICE, choices=SECURITY_CHOICES, default="ssl"),
        Setting(
            "smtp_username", "SMTP user name", credential=True, help="Empty: the SMTP server needs none."
        ),
        Setting("smtp_password", "SMTP password", secret=True),
        Setting("from_address", "From address", EMAIL, help="The address replies come from."),
        Setting("from_name", "From name", help="Default: the brand's name."),
        Setting(
            "own_addresses",
            "The brand's other addresses",
            LINES,
            help="One a line: mail from these is the brand's own (outbound).",
        ),
        Setting(
            "trust_sender",
            "The server rejects forged senders",
            FLAG,
            help="Only when the server enforces DMARC (or relays internal mail only): a sender's address "
            "then counts as verified when profiles are merged.",
        ),
        Setting("idle", "Push new mail (IMAP IDLE)", FLAG, default=True, help="Off: the mailbox is polled."),
        Setting(
            "tls_ca_certificate",
            "Private CA certificate (PEM)",
            LONG_TEXT,
            advanced=True,
            help="Only for a server whose certificate a private CA signed.",
        ),
    )
    # What the reply composer checks (apps/replies/limits.py): no length limit; any email address of the
    # customer's profile can be written to from another channel's conversation; no attachments sent yet.
    limits = {"max_length": None, "reaches": "customer", "contact": "email"}
    polls = True
    poll_interval_seconds = 60

    def fetch(self, channel) -> FetchResult:
        return fetch_new_messages(channel)

    def parse(self, channel, body: bytes, headers: dict[str, str]) -> list[InboundMessage]:
        """One raw RFC 822 message (what `fetch` stored) → one message."""
        trust_sender = setting_bool((channel.settings or {}).get("trust_sender"))
        return [parse_email(body, trust_sender=trust_sender, own_addresses=_own_addresses(channel))]

    def send(self, channel, message, reply_to: str = "") -> str:
        return send_reply(channel, message, reply_to=reply_to)
