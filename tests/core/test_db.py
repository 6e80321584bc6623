"""local_settings: PostgreSQL settings for one block, on the real database."""

import pytest
from django.db import connection, transaction

from apps.core.db import local_settings

pytestmark = pytest.mark.django_db


def setting(name: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting(%s)", [name])
        return cursor.fetchone()[0]


def test_the_settings_hold_inside_the_block_and_are_back_after_it():
    with transaction.atomic():
        before = setting("work_mem")
        with local_settings(work_mem="64MB", enable_seqscan="off"):
            assert (setting("work_mem"), setting("enable_seqscan")) == ("64MB", "off")
        assert (setting("work_mem"), setting("enable_seqscan")) == (before, "on")


def test_an_extension_setting_not_loaded_yet_can_be_set():
    with local_settings(hnsw__iterative_scan="relaxed_order"):
        assert setting("hnsw.iterative_scan") == "relaxed_order"
