"""Bulk import of historical messages and review exports (CSV or JSON lines) into a channel.

Each row is checked on its own first: a row that is not valid is stored as a rejected payload with its
number and reason, and reported. The valid rows are stored in chunks of ROWS_PER_PAYLOAD as raw payloads
in the generic format (`{"messages": [...]}`, as the API channel takes them): one row in the payload table,
one status change and one task for many messages, instead of one each. A row whose id the channel already
has, or that came earlier in the file, is counted as a duplicate and not stored again, so an import can be
re-run after a failure; the messages themselves stay unique on (channel, id) whatever the chunks.

A row that cannot be read (a number that is not one, a field longer than MAX_FIELD_CHARS, malformed JSON)
is one rejected row; it never fails the file. A file's encoding is the one the user names, else UTF-8 when
the bytes are valid UTF-8, else what charset-normalizer detects (Latin-1 and Windows exports).
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import json
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from apps.connectors.base import PayloadRejected
from apps.connectors.models import Channel
from apps.connectors.normalized import message_from_dict

from .ingest import stored_external_ids
from .models import RawPayload
from .services import payload_receive_many, payload_refuse

# The rows of a raw payload: a chunk that breaks on one row is split into a payload a row (services.
# payload_broken). Workers take services.IMPORT_CHUNKS_PER_TASK chunks a task, in one transaction.
ROWS_PER_PAYLOAD = 250
# Chunks stored by one statement (and one look-up of the ids the channel already has).
CHUNKS_PER_STATEMENT = 8
# CSV columns that map onto the author object of CXM's JSON format; any other column goes to metadata.
AUTHOR_COLUMNS = {
    "author_id": "id",
    "author_handle": "handle",
    "author_name": "name",
    "author_email": "email",
    "author_followers": "followers",
}
MESSAGE_COLUMNS = {"id", "thread_id", "text", "html", "subject", "sent_at", "language", "in_reply_to"}
# The longest field a row may hold (the csv module's own default limit); a longer one rejects its row.
MAX_FIELD_CHARS = 131_072
# The csv module raises on a field over its limit, which would end the whole file: it reads any length, and
# the row's own check rejects the row (a process-wide setting; nothing else here reads CSV with a limit).
csv.field_size_limit(sys.maxsize)


class UnreadableFile(ValueError):
    """The file's bytes are not text in the encoding named (or in any encoding found)."""


def decode_file(content: bytes, encoding: str = "") -> tuple[str, str]:
    """The file's text and the encoding it was read with: `encoding` when given, else UTF-8 (a BOM
    dropped) when the bytes are valid UTF-8, else charset-normalizer's best match."""
    if encoding:
        try:
            name = codecs.lookup(encoding).name
        except LookupError:
            raise UnreadableFile(f"unknown encoding {encoding[:40]!r}") from None
        try:
            return content.decode(name), name
        except UnicodeDecodeError as error:
            raise UnreadableFile(
                f"the file is not valid {name} (byte {error.start}: {error.reason})"
            ) from None
    try:
        return content.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(content).best()
    if best is None:
        raise UnreadableFile("the file's encoding could not be detected: name it (e.g. latin-1, cp1252)")
    return str(best), codecs.lookup(best.encoding).name


@dataclass
class ImportReport:
    rows: int = 0
    stored: int = 0
    duplicates: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)


def _csv_rows(stream: io.TextIOBase) -> Iterator[dict | str]:
    """Each data row as a message object, or the reason it cannot be one."""
    reader = csv.DictReader(stream)
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as error:  # e.g. a NUL byte: that line is one bad row, and reading goes on
            yield f"unreadable CSV line: {error}"
            continue
        long = next(
            (key for key, value in row.items() if isinstance(value, str) and len(value) > MAX_FIELD_CHARS),
            None,
        )
        if long is not None:
            yield f"the field '{long}' has {len(row[long]):,} characters, more than {MAX_FIELD_CHARS:,}"
            continue
        author = {key: row.pop(column) for column, key in AUTHOR_COLUMNS.items() if row.get(column)}
        if "followers" in author:
            try:  # int() reads any script's decimal digits; a superscript or a fraction is not a count
                author["followers"] = int(author["followers"].strip())
            except ValueError:
                yield f"'author_followers' must be a whole number, not {author['followers'][:40]!r}"
                continue
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


def _chunk_payload(rows: list[tuple[str, dict]]) -> tuple[str, bytes]:
    """A chunk's external id (from its rows' ids: the same file imported again gives the same chunks)
    and body."""
    digest = hashlib.blake2b(digest_size=16)
    for external_id, _ in rows:
        digest.update(external_id.encode() + b"\0")
    body = json.dumps({"messages": [row for _, row in rows]}, ensure_ascii=False).encode()
    return f"import:{digest.hexdigest()}", body


class _ThreadRuns:
    """Where a full chunk may end: not inside a run of rows of one thread (two workers would take chunks
    sharing a conversation, and one would have to wait for the other), unless the run is very long."""

    def __init__(self):
        self.thread, self.length = None, 0

    def may_end_before(self, thread: str) -> bool:
        return thread != self.thread or self.length >= ROWS_PER_PAYLOAD

    def add(self, thread: str) -> None:
        self.length = self.length + 1 if thread == self.thread else 1
        self.thread = thread


class _Chunker:
    """Collects valid rows and stores them in chunks, skipping the ids already stored."""

    def __init__(self, channel: Channel, report: ImportReport, on_progress: Callable[[int], None]):
        self.channel, self.report, self.on_progress = channel, report, on_progress
        self.pending: list[tuple[str, str, dict]] = []  # (id, thread, row)
        self.runs = _ThreadRuns()
        self.seen: set[str] = set()  # the ids of this file so far: a row repeated later is a duplicate

    def add(self, external_id: str, thread: str, row: dict) -> None:
        if external_id in self.seen:
            self.report.duplicates += 1
            self.on_progress(1)
            return
        self.seen.add(external_id)
        if len(self.pending) >= ROWS_PER_PAYLOAD * CHUNKS_PER_STATEMENT and self.runs.may_end_before(thread):
            self.flush()
        self.pending.append((external_id, thread, row))
        self.runs.add(thread)

    def flush(self) -> None:
        if not self.pending:
            return
        rows, self.pending = self.pending, []
        stored = stored_external_ids(self.channel.pk, {external_id for external_id, _, _ in rows})
        chunks: list[list[tuple[str, dict]]] = [[]]
        runs = _ThreadRuns()
        for external_id, thread, row in rows:
            if external_id in stored:
                continue
            if len(chunks[-1]) >= ROWS_PER_PAYLOAD and runs.may_end_before(thread):
                chunks.append([])
            chunks[-1].append((external_id, row))
            runs.add(thread)
        chunks = [chunk for chunk in chunks if chunk]
        payloads = dict(_chunk_payload(chunk) for chunk in chunks)
        new = set(
            payload_receive_many(
                channel=self.channel, source=RawPayload.Source.IMPORT, items=list(payloads.items())
            )
        )
        # A chunk stored before (the same rows, imported again before they were processed) adds nothing.
        stored_rows = sum(len(chunk) for chunk, key in zip(chunks, payloads, strict=True) if key in new)
        self.report.stored += stored_rows
        self.report.duplicates += len(rows) - stored_rows
        self.on_progress(len(rows))


def import_file(
    *, channel: Channel, stream: io.TextIOBase, fmt: str, on_progress: Callable[[int], None] = lambda n: None
) -> ImportReport:
    rows = _csv_rows(stream) if fmt == "csv" else _jsonl_rows(stream)
    report = ImportReport()
    chunker = _Chunker(channel, report, on_progress)
    for number, row in enumerate(rows, start=1):
        report.rows += 1
        try:
            if isinstance(row, str):
                raise PayloadRejected(row)
            inbound = message_from_dict(row, index=number)
        except PayloadRejected as error:
            report.errors.append((number, error.reason))
            payload_refuse(
                channel=channel,
                source=RawPayload.Source.IMPORT,
                body=json.dumps(row, ensure_ascii=False).encode() if not isinstance(row, str) else b"",
                headers={"row": number},
                reason=f"row {number}: {error.reason}",
            )
            on_progress(1)
            continue
        chunker.add(inbound.external_id, inbound.thread_key, row)
    chunker.flush()
    return report
