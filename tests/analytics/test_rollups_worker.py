"""The workers keep the rollups current: a new message and a relabelled one reach the dashboard through a
real Celery worker (the call the ingestion pipeline makes after commit), with no rebuild."""

import time

import pytest

from apps.analytics.models import DirtyBucket, MessageHourly
from apps.analytics.services import rollups_refresh_soon
from apps.conversations.models import Message
from tests.factories import ChannelFactory, ConversationFactory, MessageFactory


def _wait_for(condition, what: str) -> None:
    deadline = time.monotonic() + 60
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.3)


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_a_worker_refreshes_the_buckets_that_writes_marked_dirty(brand_a, celery_worker):
    conversation = ConversationFactory(channel=ChannelFactory(brand=brand_a))
    message = MessageFactory(conversation=conversation, sentiment="neutral")
    assert DirtyBucket.objects.filter(brand_id=brand_a.pk).exists()

    rollups_refresh_soon()
    _wait_for(lambda: MessageHourly.objects.filter(brand=brand_a, sentiment="neutral").exists(), "no rollup")
    _wait_for(lambda: not DirtyBucket.objects.exists(), "buckets stayed dirty")

    Message.objects.filter(pk=message.pk).update(sentiment="negative")  # as the classifier writes labels
    rollups_refresh_soon()
    _wait_for(lambda: MessageHourly.objects.filter(brand=brand_a, sentiment="negative").exists(), "stale")
    assert not MessageHourly.objects.filter(brand=brand_a, sentiment="neutral").exists()


@pytest.mark.django_db(transaction=True)
def test_two_workers_recomputing_one_bucket_at_once_leave_it_counted_once(brand_a):
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection
    from django.utils import timezone

    from apps.analytics.services import rollups_recompute

    conversation = ConversationFactory(channel=ChannelFactory(brand=brand_a))
    for _ in range(30):
        MessageFactory(conversation=conversation)
    today = timezone.now().date()

    def recompute():
        try:
            for _ in range(5):
                rollups_recompute(
                    organization_id=brand_a.organization_id,
                    brand_ids=[brand_a.pk],
                    first_day=today,
                    last_day=today,
                )
        finally:
            connection.close()

    with ThreadPoolExecutor(2) as pool:
        for future in [pool.submit(recompute), pool.submit(recompute)]:
            future.result()
    assert sum(MessageHourly.objects.filter(brand=brand_a).values_list("messages", flat=True)) == 30
