"""Bulk import of historical messages and review exports (CSV or JSON lines) into a channel.

Every row becomes a raw payload (idempotent on the row's id), so an import can be re-run after a failure
without duplicates. A row that is not valid is stored as rejected with its reason and reported.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from apps.connectors.base import PayloadRejected
from apps.connectors.models import Channel
from apps.connectors.normalized import message_from_dict

from .models import RawPayload
from .services import payload_receive_many, payload_refuse

BATCH = 500
# CSV columns that map onto the author object of CXM's JSON format; any other column goes to metadata.
AUTHOR_COLUMNS = {
    "author_id": "id",
    "author_handle": "handle",
    "author_name": "name",
    "author_email": "email",
    "author_followers": "followers",
}
MESSAGE_COLUMNS = {"id", "thread_id", "text", "html", "subject", "sent_at", "language", "in_reply_to"}


@dataclass
class ImportReport:
    rows: int = 0
    stored: int = 0
    duplicates: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)


def _csv_rows(stream: io.TextIOBase) -> Iterator[dict]:
    for row in csv.DictReader(stream):
        author = {key: row.pop(column) for column, key in AUTHOR_COLUMNS.items() if row.get(column)}
        if "followers" in author:
            author["followers"] = int(author["followers"]) if author["followers"].isdigit() else None
        message = {key: row.pop(key) for key in list(row) if key in MESSAGE_COLUMNS}
        message["author"] = author
        message["metadata"] = {key: value for key, value in row.items() if key and value}
        yield message


def _jsonl_rows(stream: io.TextIOBase) -> Iterator[dict | str]:
    for line in stream:
        if line.strip():
            try:
                yield json.loads(line)
            except json.JSONDecodeError as error:
                yield f"malformed JSON: {error.msg} at column {error.colno}"


def import_file(
    *, channel: Channel, stream: io.TextIOBase, fmt: str, on_progress: Callable[[int], None] = lambda n: None
) -> ImportReport:
    rows = _csv_rows(stream) if fmt == "csv" else _jsonl_rows(stream)
    report = ImportReport()
    batch: list[tuple[str | None, bytes]] = []

    def flush():
        if batch:
            new = payload_receive_many(channel=channel, source=RawPayload.Source.IMPORT, items=batch)
            report.stored += new
            report.duplicates += len(batch) - new
            on_progress(len(batch))
            batch.clear()

    for number, row in enumerate(rows, start=1):
        report.rows += 1
        body = json.dumps(row, ensure_ascii=False).encode() if not isinstance(row, str) else b""
        try:
            if isinstance(row, str):
                raise PayloadRejected(row)
            inbound = message_from_dict(row, index=number)
        except PayloadRejected as error:
            report.errors.append((number, error.reason))
            payload_refuse(
                channel=channel,
                source=RawPayload.Source.IMPORT,
                body=body,
                headers={"row": number},
                reason=f"row {number}: {error.reason}",
            )
            on_progress(1)
            continue
        batch.append((f"import:{inbound.external_id}", body))
        if len(batch) >= BATCH:
            flush()
    flush()
    return report
