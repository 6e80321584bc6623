"""Bulk import of historical data and review exports: each CSV row or JSON line becomes one payload."""

from __future__ import annotations

from ..base import Connector, InboundMessage
from ..kinds import ChannelKind
from ..normalized import messages_from_payload


class BulkImportConnector(Connector):
    kind = ChannelKind.IMPORT

    def parse(self, channel, body: bytes, headers: dict[str, str]) -> list[InboundMessage]:
        return messages_from_payload(body)
