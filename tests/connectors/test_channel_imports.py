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
