"""Bulk import: rows checked one by one, stored in chunks, never twice, a row at fault rejected alone."""

import io
import json

import pytest

from apps.connectors.kinds import ChannelKind
from apps.conversations.models import Conversation, Message
from apps.ingestion.bulk_import import ROWS_PER_PAYLOAD, import_file
from apps.ingestion.models import RawPayload
from apps.ingestion.services import IMPORT_CHUNKS_PER_TASK
from apps.ingestion.tasks import process_import_chunk_task
from tests.factories import ChannelFactory
from tests.ingestion.conftest import message

pytestmark = pytest.mark.django_db


@pytest.fixture
def import_channel(brand_a):
    return ChannelFactory(brand=brand_a, kind=ChannelKind.IMPORT)


def _import(channel, rows: list) -> object:
    lines = "".join((row if isinstance(row, str) else json.dumps(row)) + "\n" for row in rows)
    return import_file(channel=channel, stream=io.StringIO(lines), fmt="jsonl")


def _process_waiting(channel) -> None:
    """What the workers do with the payloads the import enqueued (a task per chunk)."""
    for pk in RawPayload.objects.filter(channel=channel, status="received").order_by("pk").values_list("pk"):
        process_import_chunk_task(list(pk))


def test_valid_rows_go_in_chunks_and_each_bad_row_is_kept_with_its_number(import_channel):
    rows = [message(n) for n in range(600)]
    rows[300:300] = ["{not json", {"id": "no-text", "author": {"id": "u"}}, message(7)]  # a duplicate id
    progress = []
    report = import_file(
        channel=import_channel,
        stream=io.StringIO("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows)),
        fmt="jsonl",
        on_progress=progress.append,
    )
    assert (report.rows, report.stored, report.duplicates) == (603, 600, 1)
    assert [number for number, _ in report.errors] == [301, 302]
    assert "malformed JSON" in report.errors[0][1] and "'text' or 'html' is required" in report.errors[1][1]
    assert sum(progress) == 603

    chunks = RawPayload.objects.filter(channel=import_channel, status="received").order_by("pk")
    sizes = [len(json.loads(bytes(chunk.body))["messages"]) for chunk in chunks]
    assert sizes == [ROWS_PER_PAYLOAD, ROWS_PER_PAYLOAD, 600 - 2 * ROWS_PER_PAYLOAD]
    rejected = RawPayload.objects.filter(channel=import_channel, status="rejected").order_by("pk")
    assert [p.rejection_reason[:7] for p in rejected] == ["row 301", "row 302"]

    _process_waiting(import_channel)
    assert Message.objects.filter(channel=import_channel).count() == 600
    assert set(RawPayload.objects.filter(channel=import_channel).values_list("status", flat=True)) == {
        "processed",
        "rejected",
    }


def test_importing_the_same_rows_again_stores_nothing_twice(import_channel):
    rows = [message(n) for n in range(300)]
    assert _import(import_channel, rows).stored == 300
    again = _import(import_channel, rows)  # before the workers got to the first chunks
    assert (again.stored, again.duplicates) == (0, 300)
    _process_waiting(import_channel)
    later = _import(import_channel, [*rows, message(300)])  # after: the channel has those ids
    assert (later.stored, later.duplicates) == (1, 300)
    _process_waiting(import_channel)
    assert Message.objects.filter(channel=import_channel).count() == 301


def test_a_row_that_breaks_its_chunk_is_rejected_alone_and_the_others_are_stored(import_channel):
    rows = [message(n) for n in range(5)]
    # Valid JSON that PostgreSQL's jsonb refuses: it passes the row checks and fails the chunk's insert.
    rows[2]["metadata"] = {"note": "nul \u0000 inside"}
    assert _import(import_channel, rows).stored == 5
    chunk = RawPayload.objects.get(channel=import_channel)

    _process_waiting(import_channel)  # the chunk fails, and is split into a payload per row
    chunk.refresh_from_db()
    assert chunk.status == "processed"
    assert "unsupported Unicode escape" in chunk.headers["split_into_rows_after"]
    _process_waiting(import_channel)  # the rows: the one at fault is rejected alone

    assert sorted(Message.objects.filter(channel=import_channel).values_list("external_id", flat=True)) == [
        "m-0",
        "m-1",
        "m-3",
        "m-4",
    ]
    bad = RawPayload.objects.get(channel=import_channel, status="rejected")
    assert bad.external_id.endswith(":m-2") and "Unicode" in bad.rejection_reason


def test_a_chunk_does_not_end_inside_a_run_of_rows_of_one_thread(import_channel):
    # Three rows a thread: chunks of exactly 250 rows would cut threads in two, and the workers taking
    # two neighbouring chunks would both need that conversation.
    _import(import_channel, [message(n, thread_id=f"t-{n // 3}") for n in range(900)])
    threads_of_chunks = [
        {row["thread_id"] for row in json.loads(bytes(chunk.body))["messages"]}
        for chunk in RawPayload.objects.filter(channel=import_channel).order_by("pk")
    ]
    assert sum(map(len, threads_of_chunks)) == 300  # no thread in two chunks
    assert all(len(threads) * 3 >= ROWS_PER_PAYLOAD for threads in threads_of_chunks[:-1])


def test_a_task_takes_several_chunks_and_a_row_that_breaks_one_is_still_rejected_alone(import_channel):
    rows = [message(n, thread_id=f"t-{n // 5}") for n in range(3 * ROWS_PER_PAYLOAD)]
    rows[ROWS_PER_PAYLOAD + 7]["metadata"] = {"note": "nul \u0000 inside"}  # jsonb refuses it: chunk two
    assert _import(import_channel, rows).stored == len(rows)
    chunks = list(
        RawPayload.objects.filter(channel=import_channel).order_by("pk").values_list("pk", flat=True)
    )
    assert len(chunks) == 3 <= IMPORT_CHUNKS_PER_TASK

    process_import_chunk_task(chunks)  # one task for the three, as payloads_enqueue sends them
    # The set failed on the bad row: each chunk was then processed alone, and the one at fault split.
    assert RawPayload.objects.get(pk=chunks[1]).headers["split_into_rows_after"]
    _process_waiting(import_channel)

    stored = Message.objects.filter(channel=import_channel)
    assert stored.count() == len(rows) - 1
    assert not stored.filter(external_id=rows[ROWS_PER_PAYLOAD + 7]["id"]).exists()
    assert Conversation.objects.filter(channel=import_channel).count() == len(rows) // 5
    bad = RawPayload.objects.get(channel=import_channel, status="rejected")
    assert bad.external_id.endswith(f":{rows[ROWS_PER_PAYLOAD + 7]['id']}")
