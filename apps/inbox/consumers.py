from channels.generic.websocket import AsyncJsonWebsocketConsumer


def organization_group(organization_id: int) -> str:
    return f"org-{organization_id}-inbox"


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
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code):
        if hasattr(self, "group"):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def inbox_event(self, event):
        await self.send_json(event["payload"])

    async def _membership(self, user):
        from channels.db import database_sync_to_async

        session = self.scope.get("session") or {}

        @database_sync_to_async
        def load():
            from apps.accounts.middleware import SESSION_KEY

            memberships = user.memberships.all()
            wanted = session.get(SESSION_KEY)
            return (
                memberships.filter(organization_id=wanted).first() if wanted else None
            ) or memberships.order_by("created_at").first()

        return await load()
