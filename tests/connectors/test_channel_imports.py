"""Importing a file from the channel page: a real worker imports it while the page shows progress."""

import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from apps.accounts.models import Role
from apps.connectors.kinds import ChannelKind
from apps.ingestion.models import ImportJob
from tests.factories import ChannelFactory

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]

CSV = (
    "id,thread_id,text,sent_at,author_id,author_handle,author_name,rating\n"
    + "".join(
        f"r{n},t{n},Great product number {n},2026-10-0{1 + n % 9}T10:00:00Z,a{n},@a{n},Ana {n},5\n"
        for n in range(300)
    )
    + "bad-row,,,,,,,\n"
)


def test_upload_shows_progress_and_imports_every_row(org_a, brand_a, make_membership, login, celery_worker):
    channel = ChannelFactory(brand=brand_a, kind=ChannelKind.REVIEWS)
    client = login(make_membership(org_a, Role.ADMIN))
    response = client.post(
        reverse("connectors:import", args=[channel.pk]),
        {"file": SimpleUploadedFile("reviews.csv", CSV.encode(), content_type="text/csv")},
    )
    assert response.status_code == 302
    job = ImportJob.objects.get()
    assert job.total_rows == 301

    deadline = time.monotonic() + 60
    while job.status != ImportJob.Status.DONE and time.monotonic() < deadline:
        row = client.get(reverse("connectors:import_progress", args=[job.pk])).content.decode()
        assert "<progress" in row
        time.sleep(0.3)
        job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE, job.errors
    assert (job.stored, job.rejected) == (300, 1) and "'text' or 'html' is required" in job.errors[0][1]
    page = client.get(reverse("connectors:detail", args=[channel.pk])).content.decode()
    assert (
        "reviews.csv" in page and 'value="100"' in page and "hx-trigger" not in page.split('id="imports"')[1]
    )


def test_wrong_file_type_is_refused_with_a_reason(org_a, brand_a, make_membership, login):
    channel = ChannelFactory(brand=brand_a, kind=ChannelKind.REVIEWS)
    client = login(make_membership(org_a, Role.ADMIN))
    page = client.post(
        reverse("connectors:import", args=[channel.pk]),
        {"file": SimpleUploadedFile("notes.pdf", b"%PDF-1.4")},
        follow=True,
    ).content.decode()
    assert "must be .csv" in page and not ImportJob.objects.exists()


def _wait_done(job: ImportJob) -> ImportJob:
    deadline = time.monotonic() + 60
    while job.status not in (ImportJob.Status.DONE, ImportJob.Status.FAILED) and time.monotonic() < deadline:
        time.sleep(0.3)
        job.refresh_from_db()
    return job


def test_a_latin1_file_with_bad_rows_stores_the_others_with_their_accents(
    org_a, brand_a, make_membership, login, celery_worker
):
    from apps.conversations.models import Message

    channel = ChannelFactory(brand=brand_a, kind=ChannelKind.REVIEWS)
    client = login(make_membership(org_a, Role.ADMIN))
    rows = [
        f"r{n},t{n},Très bon café numéro {n},2026-10-01T10:00:00Z,a{n},@a{n},José {n},{n}\n"
        for n in range(20)
    ]
    rows[5] = "r5,t5,Le 5 est bizarre,2026-10-01T10:00:00Z,a5,@a5,Zoé,²³\n"  # superscript digits: not a count
    rows[9] = f'r9,t9,"{"long " * 28_000}",2026-10-01T10:00:00Z,a9,@a9,Noé,9\n'  # a field over 131,072 chars
    content = "id,thread_id,text,sent_at,author_id,author_handle,author_name,author_followers\n" + "".join(
        rows
    )
    response = client.post(
        reverse("connectors:import", args=[channel.pk]),
        {"file": SimpleUploadedFile("avis.csv", content.encode("latin-1"), content_type="text/csv")},
    )
    assert response.status_code == 302
    job = _wait_done(ImportJob.objects.get())
    assert job.status == ImportJob.Status.DONE and job.encoding in ("cp1252", "iso8859-1"), job.errors
    assert (job.stored, job.rejected) == (18, 2)
    assert [number for number, _ in job.errors] == [6, 10]
    assert "author_followers" in job.errors[0][1] and "131,072" in job.errors[1][1]
    deadline = time.monotonic() + 60
    while Message.objects.filter(channel=channel).count() < 18 and time.monotonic() < deadline:
        time.sleep(0.3)
    texts = set(Message.objects.filter(channel=channel).values_list("text", flat=True))
    assert "Très bon café numéro 0" in texts and not any("\ufffd" in text for text in texts)


def test_a_named_encoding_the_file_is_not_in_is_refused(org_a, brand_a, make_membership, login):
    channel = ChannelFactory(brand=brand_a, kind=ChannelKind.REVIEWS)
    client = login(make_membership(org_a, Role.ADMIN))
    page = client.post(
        reverse("connectors:import", args=[channel.pk]),
        {"file": SimpleUploadedFile("a.csv", "id,text\n1,café\n".encode("latin-1")), "encoding": "utf-8"},
        follow=True,
    ).content.decode()
    assert "not valid utf-8" in page and not ImportJob.objects.exists()
