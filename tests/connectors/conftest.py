import pytest

from apps.conversations.models import Conversation
from apps.ingestion.models import RawPayload
from apps.ingestion.services import payload_process
from apps.replies.delivery import message_deliver
from apps.replies.services import reply_create
from tests.connectors.livechat.test_widget_browser import asgi_server, page  # noqa: F401 (browser fixtures)
from tests.factories import membership_create


@pytest.fixture
def process_payloads():
    """Process every received payload of a channel, newest first (workers may run them in any order)."""

    def _process(channel) -> int:
        ids = list(
            RawPayload.objects.filter(channel=channel, status=RawPayload.Status.RECEIVED)
            .order_by("-pk")
            .values_list("pk", flat=True)
        )
        for payload_id in ids:
            payload_process(payload_id=payload_id)
        return len(ids)

    return _process


@pytest.fixture
def agent_reply(django_capture_on_commit_callbacks):
    """An agent's reply in the test's only conversation, whose delivery task is enqueued once committed;
    the test runs it, as the worker would, unless `deliver=False`."""

    def _reply(channel, text: str, *, deliver: bool = True):
        agent = membership_create(channel.organization).user
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            reply = reply_create(conversation=Conversation.objects.get(), author=agent, text=text)
        assert len(callbacks) == 1  # the delivery task is enqueued once committed
        if deliver:
            message_deliver(message_id=reply.pk)
            reply.refresh_from_db()
        return reply

    return _reply
