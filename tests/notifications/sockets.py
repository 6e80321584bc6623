"""Open CXM's WebSockets as a given user, through Channels' test communicator and the real ASGI application
(the session cookie of a logged-in test client, the real Redis channel layer)."""

from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from cxm.asgi import application


async def socket_as(user, path: str) -> tuple[WebsocketCommunicator, bool, int | None]:
    """(communicator, connected, close code) of `path` opened by `user` (None: anonymous)."""
    headers = [(b"origin", b"http://127.0.0.1")]
    if user is not None:
        client = Client()
        await sync_to_async(client.force_login)(user)
        headers.append((b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode()))
    communicator = WebsocketCommunicator(application, path, headers=headers)
    connected, code = await communicator.connect()
    return communicator, connected, code


async def next_event(communicator: WebsocketCommunicator, event: str, timeout: float = 5) -> dict:
    """The next message of that event, skipping others (presence updates come and go)."""
    while True:
        data = await communicator.receive_json_from(timeout=timeout)
        if data.get("event") == event:
            return data
