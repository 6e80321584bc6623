"""Imports started from the channel page: a worker imports the file while the page shows its progress."""

from __future__ import annotations

import io
import time

from django.db import transaction
from django.utils import timezone

from apps.connectors.models import Channel

from .bulk_import import UnreadableFile, decode_file, import_file
from .models import ImportJob

MAX_UPLOAD_BYTES = 200 * 1024 * 1024
PROGRESS_EVERY_SECONDS = 0.5


class ImportRefused(ValueError):
    pass


def import_job_create(
    *, channel: Channel, filename: str, content: bytes, actor, encoding: str = ""
) -> ImportJob:
    """Queue the import of a file; its encoding is `encoding` when the user names one, else detected
    (UTF-8, else charset-normalizer's guess), and a file that is not text in it is refused here."""
    if len(content) > MAX_UPLOAD_BYTES:
        raise ImportRefused(
            f"files up to {MAX_UPLOAD_BYTES // (1024 * 1024)} MB can be imported here; "
            "use `manage.py import_messages` for larger ones"
        )
    lowered = filename.lower()
    if not lowered.endswith((".csv", ".jsonl", ".ndjson", ".json")):
        raise ImportRefused("the file must be .csv (with a header row) or .jsonl (one JSON object a line)")
    fmt = "csv" if lowered.endswith(".csv") else "jsonl"
    try:
        _, encoding = decode_file(content, encoding.strip())
    except UnreadableFile as error:
        raise ImportRefused(str(error)) from None
    rows = content.count(b"\n") + (0 if content.endswith(b"\n") or not content else 1)
    job = ImportJob.objects.create(
        organization_id=channel.organization_id,
        channel=channel,
        filename=filename[:255],
        format=fmt,
        encoding=encoding,
        source=content,
        total_rows=max(rows - (1 if fmt == "csv" else 0), 0),
        created_by=actor,
    )
    from .tasks import import_job_task

    transaction.on_commit(lambda: import_job_task.delay(job.pk))
    return job


def import_job_run(*, job_id: int) -> ImportJob | None:
    job = ImportJob.objects.select_related("channel__organization").filter(pk=job_id).first()
    if job is None or job.status not in (ImportJob.Status.QUEUED, ImportJob.Status.RUNNING):
        return job
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.RUNNING)
    read = 0
    last = time.monotonic()

    def progress(rows: int) -> None:
        nonlocal read, last
        read += rows
        if time.monotonic() - last >= PROGRESS_EVERY_SECONDS:
            ImportJob.objects.filter(pk=job.pk).update(rows_read=read)
            last = time.monotonic()

    text = io.StringIO(decode_file(bytes(job.source), job.encoding)[0], newline="")
    try:
        report = import_file(channel=job.channel, stream=text, fmt=job.format, on_progress=progress)
    except Exception as error:  # a broken file fails the job with the reason; rows stored so far stay
        ImportJob.objects.filter(pk=job.pk).update(
            status=ImportJob.Status.FAILED,
            finished_at=timezone.now(),
            errors=[[0, f"{type(error).__name__}: {error}"]],
        )
        raise
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJob.Status.DONE,
        rows_read=report.rows,
        total_rows=report.rows,
        stored=report.stored,
        duplicates=report.duplicates,
        rejected=len(report.errors),
        errors=report.errors[:50],
        finished_at=timezone.now(),
        source=b"",
    )
    job.refresh_from_db()
    return job
