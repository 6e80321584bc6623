import json
import logging
import time

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from apps.accounts.tenancy import brand_visible_to, scoped
from apps.core.live import conversation_group, live_send, organization_group, user_group
from apps.core.throttle import SlidingWindow

from .presence import PageView, presence_leave, presence_touch, presence_viewers

logger = logging.getLogger(__name__)


# Close code of a socket whose member's role or brands changed (4000-4999 are the application's own).
CLOSE_MEMBERSHIP_CHANGED = 4409


def inbox_send(organization_id: int, brand_id: int, payload: dict) -> None:
    """Tell the open inboxes of an organisation about something of one brand: every inbox event goes out
    through here, one per brand, so that each socket can tell whether it may see it (InboxConsumer)."""
    live_send(organization_group(organization_id), "inbox.event", {**payload, "brand": brand_id})


class InboxConsumer(AsyncJsonWebsocketConsumer):
    """Live inbox events for the organisation the user works in (new messages, assignments...)."""

    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=4401)
            return
        membership = await self._membership(user)
        if membership is None or not membership.can_work_inbox:
            await self.close(code=4403)
            return
        self.group = organization_group(membership.organization_id)
        self.membership = membership  # its brands are loaded: inbox_event() decides with them
        await self.channel_layer.group_add(self.group, self.channel_name)
        # The user's own events (notifications) come through the same socket.
        self.own_group = user_group(membership.organization_id, user.pk)
        await self.channel_layer.group_add(self.own_group, self.channel_name)
        await self.accept()

    async def disconnect(self, code):
        if hasattr(self, "group"):
            await self.channel_layer.group_discard(self.group, self.channel_name)
        if hasattr(self, "own_group"):
            await self.channel_layer.group_discard(self.own_group, self.channel_name)

    async def inbox_event(self, event):
        # The organisation is the group's; the brand is checked here, by the same rule as every queryset.
        # An event without a brand reaches only members of every brand (inbox_send always names one).
        if not brand_visible_to(self.membership, event["payload"].get("brand")):
            return
        await self.send_json(event["payload"])

    async def user_event(self, event):
        await self.send_json(event["payload"])

    async def membership_changed(self, event):
        # The role or brands this socket was let in with changed (apps.accounts.services): it closes, and the
        # page's reconnection is let in, or not, by the new ones.
        await self.close(code=CLOSE_MEMBERSHIP_CHANGED)

    async def _membership(self, user):
        from channels.db import database_sync_to_async

        session = self.scope.get("session") or {}

        @database_sync_to_async
        def load():
            from apps.accounts.middleware import SESSION_KEY

            memberships = user.memberships.all()
            wanted = session.get(SESSION_KEY)
            membership = (
                memberships.filter(organization_id=wanted).first() if wanted else None
            ) or memberships.order_by("created_at").first()
            if membership is not None:
                membership.brand_ids  # noqa: B018 (loaded here, where the database may be used)
            return membership

        return await load()


# Close codes of the conversation socket (4000-4999 are the application's own).
CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_NOT_FOUND = 4404  # no such conversation, or not one this member may see: the same answer for both
TYPING_FIELDS = ("reply", "note")
# Whatever a page sends, its typing is passed on at most once a second, and frames beyond these are dropped.
TYPING_MIN_INTERVAL_SECONDS = 1.0
FRAMES_PER_WINDOW = 30
WINDOW_SECONDS = 10.0


class ConversationConsumer(AsyncJsonWebsocketConsumer):
    """Collision detection on one conversation page (/ws/conversation/<id>/): who else is viewing it and
    who is typing a reply or a note, for the members who may see that conversation (its organisation,
    and its brand for members limited to some). Their own notifications come through it too.

    The page sends {"type": "heartbeat"} every HEARTBEAT_SECONDS and {"type": "typing", "field": "reply" |
    "note"} while someone types; it receives {"event": "presence", "viewers": [{"user", "name"}...]} and
    {"event": "typing", "user", "name", "field"}, its own user among them.
    """

    view: PageView | None = None

    # The organisation is chosen as for the inbox's socket: the one the session works in.
    _membership = InboxConsumer._membership

    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        membership = await self._membership(user)
        if membership is None or not membership.can_work_inbox:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        conversation_id = self.scope["url_route"]["kwargs"]["pk"]
        if not await self._may_see(membership, conversation_id):
            await self.close(code=CLOSE_NOT_FOUND)
            return
        self.view = PageView(
            conversation_id=conversation_id,
            user_id=user.pk,
            name=user.get_full_name() or user.username,
            socket=self.channel_name,
        )
        self.joined = [conversation_group(conversation_id), user_group(membership.organization_id, user.pk)]
        for group in self.joined:
            await self.channel_layer.group_add(group, self.channel_name)
        self.frames = SlidingWindow(FRAMES_PER_WINDOW, WINDOW_SECONDS)
        self.typed_at = 0.0
        await self.accept()
        await presence_touch(self.view)
        await self._announce(await self._viewers_event())

    async def disconnect(self, code):
        if self.view is None:
            return
        await presence_leave(self.view)
        for group in self.joined:
            await self.channel_layer.group_discard(group, self.channel_name)
        await self._announce(await self._viewers_event())

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        # Malformed or excessive frames are dropped rather than answered: the page never sends them.
        allowed, _ = self.frames.allow()
        if not allowed or not text_data:
            return
        try:
            content = json.loads(text_data)
        except ValueError:
            return
        if not isinstance(content, dict):
            return
        if content.get("type") == "heartbeat":
            await presence_touch(self.view)
            # Answered to this page alone: how it notices pages that vanished without closing their socket.
            await self.send_json(await self._viewers_event())
        elif content.get("type") == "typing":
            await self._typing(content.get("field"))

    async def _typing(self, field) -> None:
        now = time.monotonic()
        if now - self.typed_at < TYPING_MIN_INTERVAL_SECONDS:
            return
        self.typed_at = now
        await self._announce(
            {
                "event": "typing",
                "user": self.view.user_id,
                "name": self.view.name,
                "field": field if field in TYPING_FIELDS else TYPING_FIELDS[0],
            }
        )

    async def conversation_event(self, event):
        await self.send_json(event["payload"])

    async def user_event(self, event):
        await self.send_json(event["payload"])

    membership_changed = InboxConsumer.membership_changed

    async def _viewers_event(self) -> dict:
        return {"event": "presence", "viewers": await presence_viewers(self.view.conversation_id)}

    async def _announce(self, payload: dict) -> None:
        await self.channel_layer.group_send(
            conversation_group(self.view.conversation_id), {"type": "conversation.event", "payload": payload}
        )

    @database_sync_to_async
    def _may_see(self, membership, conversation_id: int) -> bool:
        from apps.conversations.models import Conversation

        return scoped(Conversation, membership).filter(pk=conversation_id).exists()
