"""Who is viewing a conversation, for collision detection (ConversationConsumer).

One Redis sorted set per conversation: a member per open page (socket), scored with the time its last
heartbeat was heard. An entry older than PRESENCE_TTL_SECONDS counts as gone, so a page that vanished
without closing its socket (a laptop lid shut, a network cut) drops out within that time; the set itself
expires when nobody touches it.
"""

from __future__ import annotations

import asyncio
import json
import time
import weakref
from dataclasses import dataclass

import redis.asyncio as redis
from django.conf import settings

PRESENCE_TTL_SECONDS = 30
# How often a page says it is still open (static/js/conversation.js sends it; well within the TTL).
HEARTBEAT_SECONDS = 10

# One client (and connection pool) per event loop: a pool cannot be shared between loops.
_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, redis.Redis] = weakref.WeakKeyDictionary()


def _client() -> redis.Redis:
    loop = asyncio.get_running_loop()
    client = _clients.get(loop)
    if client is None:
        client = _clients[loop] = redis.Redis.from_url(settings.REDIS_URL)
    return client


def _key(conversation_id: int) -> str:
    return f"{settings.CACHES['default']['KEY_PREFIX']}:presence:conversation:{conversation_id}"


@dataclass(frozen=True)
class PageView:
    """One open conversation page: a user may have the same conversation open in two tabs."""

    conversation_id: int
    user_id: int
    name: str
    socket: str  # the consumer's channel name

    @property
    def member(self) -> str:
        return json.dumps([self.user_id, self.name, self.socket])


async def presence_touch(view: PageView) -> None:
    """The page is open now."""
    now = time.time()
    key = _key(view.conversation_id)
    async with _client().pipeline(transaction=True) as pipe:
        pipe.zadd(key, {view.member: now})
        pipe.zremrangebyscore(key, "-inf", now - PRESENCE_TTL_SECONDS)
        pipe.expire(key, PRESENCE_TTL_SECONDS * 2)
        await pipe.execute()


async def presence_leave(view: PageView) -> None:
    await _client().zrem(_key(view.conversation_id), view.member)


async def presence_viewers(conversation_id: int) -> list[dict]:
    """The users viewing the conversation now, once each however many tabs they have, by name."""
    members = await _client().zrangebyscore(_key(conversation_id), time.time() - PRESENCE_TTL_SECONDS, "+inf")
    viewers: dict[int, str] = {}
    for member in members:
        user_id, name, _ = json.loads(member)
        viewers[user_id] = name
    return [{"user": user_id, "name": name} for user_id, name in sorted(viewers.items(), key=lambda v: v[1])]
