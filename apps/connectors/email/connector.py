"""The email channel: IMAP polling (or IDLE push: `idle.py`) in, SMTP replies out (settings: `config.py`)."""

from __future__ import annotations

from ..base import Connector, FetchResult, InboundMessage
from ..kinds import ChannelKind
from .config import setting_bool
from .imap import fetch_new_messages
from .parsing import parse_email
from .smtp import send_reply


def _own_addresses(channel) -> frozenset[str]:
    settings = channel.settings or {}
    addresses = [settings.get("from_address") or "", *(settings.get("own_addresses") or [])]
    return frozenset(str(address).strip().lower() for address in addresses if address)


class EmailConnector(Connector):
    kind = ChannelKind.EMAIL
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
