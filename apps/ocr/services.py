"""Text in images: the image attachments of stored messages are fetched, read by OCR (engine.py), and their
text stored with the message (`Message.image_text`; each image's text, thumbnail, or the reason it was not
read, in `metadata["images"]`). Then the messages_text_changed hook has listening, the classifier and
search take the message again, so a brand named only in an image is found, classified and searchable.

Attachments are what the connectors record: `metadata["attachments"]` (Messenger, Instagram, the API
channels: `{"type": "image", "url": ...}`) and `metadata["media"]` (Mastodon). Email attachments are
not kept by the connectors, so they are not read.
"""

from __future__ import annotations

import logging

import httpx
from django.db import transaction

from apps.conversations.hooks import messages_text_changed
from apps.conversations.models import Message
from apps.core.outbound import DestinationRefused, guarded_http_client

from . import engine

logger = logging.getLogger(__name__)

IMAGE_TYPES = {"image", "photo", "gifv"}
MAX_IMAGES = 4  # per message: an album of more is read for its first four
MAX_BYTES = 10 * 1024 * 1024
FETCH_TIMEOUT_SECONDS = 15
MAX_IMAGE_TEXT_CHARS = 5000


def image_urls(message: Message) -> list[str]:
    urls = []
    for key in ("attachments", "media"):
        items = (message.metadata or {}).get(key)
        for item in items if isinstance(items, list) else []:
            if not isinstance(item, dict) or item.get("type") not in IMAGE_TYPES or item.get("sticker_id"):
                continue
            url = item.get("url")
            if isinstance(url, str) and url.startswith(("https://", "http://")):
                urls.append(url)
    return list(dict.fromkeys(urls))[:MAX_IMAGES]


def messages_read_images_on_arrival(messages: list[Message]) -> None:
    """The messages_stored hook: a task per inbound message with images (none while OCR is off)."""
    ids = [m.pk for m in messages if m.direction == Message.Direction.INBOUND and image_urls(m)]
    if not ids or not engine.available():
        return
    from .tasks import read_images_task

    for message_id in ids:
        try:
            read_images_task.delay(message_id)
        except Exception:
            logger.warning("reading of images not enqueued", exc_info=True)
            return


class FetchFailed(Exception):
    pass


def _fetch(url: str) -> bytes:
    """The image's bytes, from a public address only (apps.core.outbound), at most MAX_BYTES."""
    try:
        with (
            guarded_http_client(timeout=FETCH_TIMEOUT_SECONDS, follow_redirects=True) as client,
            client.stream("GET", url) as response,
        ):
            if response.status_code != 200:
                raise FetchFailed(f"the image's server answered HTTP {response.status_code}")
            data = bytearray()
            for chunk in response.iter_bytes():
                data += chunk
                if len(data) > MAX_BYTES:
                    raise FetchFailed(f"the image is larger than {MAX_BYTES // (1024 * 1024)} MiB")
            return bytes(data)
    except DestinationRefused as error:
        raise FetchFailed(f"refused: {error}") from error
    except httpx.HTTPError as error:
        raise FetchFailed(f"the image could not be fetched ({type(error).__name__})") from error


def _read_one(url: str) -> dict:
    try:
        data = _fetch(url)
        return {"url": url, "text": engine.read(data), "thumbnail": engine.thumbnail(data)}
    except (FetchFailed, engine.ImageUnreadable) as error:
        return {"url": url, "error": str(error)[:300]}


def message_read_images(*, message_id: int) -> str:
    """Read the message's images and store their text; returns the text (outside any transaction: the
    fetches and OCR take seconds)."""
    message = Message.objects.filter(pk=message_id).first()
    if message is None or not engine.available():
        return ""
    images = [_read_one(url) for url in image_urls(message)]
    image_text = "\n".join(i["text"] for i in images if i.get("text"))[:MAX_IMAGE_TEXT_CHARS]
    with transaction.atomic():
        # Read again under a lock: an edit or a reaction may have changed its metadata meanwhile.
        message = (
            Message.objects.select_for_update(of=("self",))
            .select_related("conversation", "channel")
            .get(pk=message_id)
        )
        message.metadata = {**message.metadata, "images": images}
        message.image_text = image_text
        message.save(update_fields=["metadata", "image_text"])
        if image_text:
            transaction.on_commit(lambda: messages_text_changed.send([message]))
    return image_text
