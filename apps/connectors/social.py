"""What the polling social connectors (X, Reddit, Mastodon, Bluesky) do alike: a poll reads the platform's
endpoints into one payload per post, and moves the channel's cursor on."""

from __future__ import annotations

import json

import httpx

from .base import Connector, FetchedItem, FetchResult
from .http import TIMEOUT, public_client


def search_queries(channel, limit: int) -> list[str]:
    """`settings.queries`, else the brand's keywords: each searched on its own, once, at most `limit`."""
    queries = (channel.settings or {}).get("queries")
    if queries is None:
        queries = list(channel.brand.keywords or [])
    return list(dict.fromkeys(q.strip() for q in queries if isinstance(q, str) and q.strip()))[:limit]


class SocialConnector(Connector):
    """A platform polled for what is said to and about the brand."""

    polls = True
    poll_interval_seconds = 120

    def fetch(self, channel) -> FetchResult:
        cursor = dict(channel.cursor or {})
        with public_client(timeout=TIMEOUT) as http:
            found = self.poll(channel, http, cursor)
        # One raw payload per post, its platform id as the external id: a post found twice (by two
        # endpoints, or by two polls) is stored once.
        items = [
            FetchedItem(external_id=external_id, body=json.dumps(entry, sort_keys=True).encode())
            for external_id, entry in found.items()
        ]
        return FetchResult(items=items, cursor=cursor)

    def poll(self, channel, http: httpx.Client, cursor: dict) -> dict[str, dict]:
        """Read what is new since `cursor` (a copy of the channel's, updated in place for the next poll)
        → {platform id of a post: what its payload holds}."""
        raise NotImplementedError
