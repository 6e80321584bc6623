"""The inbox WebSocket goes through Channels and the real Redis channel layer, scoped to one organisation."""

import pytest
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator

from apps.accounts.models import Role
from apps.inbox.consumers import organization_group
from cxm.asgi import application

pytestmark = pytest.mark.django_db(transaction=True)


async def _connect(client):
    cookie = client.cookies["sessionid"].value
    communicator = WebsocketCommunicator(
        application,
        "/ws/inbox/",
        headers=[(b"cookie", f"sessionid={cookie}".encode()), (b"origin", b"http://127.0.0.1")],
    )
    connected, code = await communicator.connect()
    return communicator, connected, code


@pytest.mark.asyncio
async def test_members_receive_their_organisations_events_only(org_a, org_b, make_membership, client):
    from asgiref.sync import sync_to_async

    agent = await sync_to_async(make_membership)(org_a, Role.COMMUNITY_MANAGER)
    await sync_to_async(client.force_login)(agent.user)
    communicator, connected, _ = await _connect(client)
    assert connected
    layer = get_channel_layer()
    await layer.group_send(organization_group(org_b.pk), {"type": "inbox.event", "payload": {"for": "b"}})
    await layer.group_send(organization_group(org_a.pk), {"type": "inbox.event", "payload": {"for": "a"}})
    assert await communicator.receive_json_from(timeout=5) == {"for": "a"}
    assert await communicator.receive_nothing(timeout=0.3)
    await communicator.disconnect()


@pytest.mark.asyncio
async def test_marketers_and_anonymous_users_are_refused(org_a, make_membership, client):
    from asgiref.sync import sync_to_async

    marketer = await sync_to_async(make_membership)(org_a, Role.MARKETER)
    await sync_to_async(client.force_login)(marketer.user)
    communicator, connected, code = await _connect(client)
    assert not connected and code == 4403
    anonymous = WebsocketCommunicator(application, "/ws/inbox/", headers=[(b"origin", b"http://127.0.0.1")])
    connected, code = await anonymous.connect()
    assert not connected and code == 4401


# Brands: tests/security/test_live_event_matrix.py sends each event type through the real pipeline (webhook,
# worker, channel layer, uvicorn) to sockets of every role and brand scope.


@pytest.mark.asyncio
async def test_a_bulk_action_tells_the_open_inboxes_once_committed(org_a, brand_a, make_membership, client):
    from asgiref.sync import sync_to_async

    from apps.conversations.services import conversations_bulk_set_status
    from tests.factories import ChannelFactory, ConversationFactory

    agent = await sync_to_async(make_membership)(org_a, Role.COMMUNITY_MANAGER)
    conversation = await sync_to_async(ConversationFactory)(
        channel=await sync_to_async(ChannelFactory)(brand=brand_a)
    )
    await sync_to_async(client.force_login)(agent.user)
    communicator, connected, _ = await _connect(client)
    assert connected

    await sync_to_async(conversations_bulk_set_status)(
        conversations=[conversation], status="closed", actor=agent.user
    )

    event = await communicator.receive_json_from(timeout=5)
    assert event == {
        "event": "conversation.updated",
        "brand": brand_a.pk,
        "conversations": [conversation.pk],
        # The version each conversation is at now: a page that shows it already fetches nothing.
        "versions": {str(conversation.pk): 1},
    }
    await communicator.disconnect()


@pytest.mark.asyncio
async def test_a_members_sockets_close_when_their_brands_or_role_change(org_a, make_membership, client):
    """A socket is let in with the role and brands of its time: when an admin changes them (or removes the
    member), the open inbox socket closes, so that the page reconnects under the new ones."""
    from asgiref.sync import sync_to_async
    from django.test import Client
    from django.urls import reverse

    from apps.inbox.consumers import CLOSE_MEMBERSHIP_CHANGED
    from tests.factories import BrandFactory

    own, other = await sync_to_async(
        lambda: (BrandFactory(organization=org_a), BrandFactory(organization=org_a))
    )()
    agent = await sync_to_async(make_membership)(org_a, Role.COMMUNITY_MANAGER)
    admin = await sync_to_async(make_membership)(org_a, Role.ADMIN)
    await sync_to_async(client.force_login)(agent.user)
    communicator, connected, _ = await _connect(client)
    assert connected

    def admin_limits_the_agent():
        admin_client = Client()
        admin_client.force_login(admin.user)
        url = reverse("admin:accounts_membership_change", args=[agent.pk])
        return admin_client.post(url, {"role": Role.COMMUNITY_MANAGER, "brands": [own.pk]}).status_code

    assert await sync_to_async(admin_limits_the_agent)() == 302
    closed = await communicator.receive_output(timeout=5)
    assert closed == {"type": "websocket.close", "code": CLOSE_MEMBERSHIP_CHANGED}
