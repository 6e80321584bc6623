"""Which connector serves which channel kind. A kind without a connector stores payloads and rejects them
with a clear reason, so that nothing is lost before its connector exists."""

from __future__ import annotations

from functools import cache

from .base import Connector


@cache
def _connectors() -> dict[str, Connector]:
    from .bulk_import.connector import BulkImportConnector
    from .webhook.connector import SignedWebhookConnector

    connectors = [SignedWebhookConnector(), BulkImportConnector()]
    return {connector.kind: connector for connector in connectors}


def connector_for(kind: str) -> Connector:
    connector = _connectors().get(kind)
    if connector is None:
        unsupported = Connector()
        unsupported.kind = kind
        return unsupported
    return connector


def polling_kinds() -> list[str]:
    return [kind for kind, connector in _connectors().items() if connector.polls]
