"""Comments on the brand's Facebook posts and Instagram media → inbound messages.

A post (or a piece of media) and the comments under it form one conversation: the thread key is
`"post:<post_id>"` (Facebook) or `"media:<media_id>"` (Instagram), and the connector's `send` recognises
those prefixes to answer with a public comment reply instead of a private message. Each comment's
external id is the platform's comment id; `metadata` records where it sits (`source`, `comment_id`,
`post_id` / `media_id`, `parent_id`).

Facebook Page `feed` changes: `value = {"item": "comment", "verb": "add", "comment_id", "post_id",
"parent_id", "from": {"id", "name"}, "message", "created_time", "photo"?}`. Visitors' posts on the Page
(`item` "status" / "post" / "photo" / "video", verb "add") open a conversation the same way, their
external id being the post id. Edits, removals, hides, reactions and shares produce nothing.

Instagram `comments` / `live_comments` changes: `value = {"id", "text", "from": {"id", "username"},
"media": {"id", "media_product_type"}, "parent_id"?}`; no time is given, the entry's `time` is used.

The brand's own comments (author = the Page / the Instagram account, i.e. the entry's id) are dropped:
CXM stores its replies itself when it sends them.
"""

from __future__ import annotations

from ..base import InboundAuthor, InboundMessage
from ..normalized import clean_text
from .webhooks import changes, event_time

FACEBOOK_POST_ITEMS = {"status", "post", "photo", "video"}


def parse_page_feed(entry: dict) -> list[InboundMessage]:
    page_id = str(entry.get("id") or "")
    found = []
    for change in changes(entry):
        value = change["value"]
        if change.get("field") != "feed" or value.get("verb") != "add":
            continue
        item = value.get("item")
        author = value.get("from") if isinstance(value.get("from"), dict) else {}
        author_id = str(author.get("id") or "")
        if author_id and author_id == page_id:
            continue
        post_id = str(value.get("post_id") or "")
        if item == "comment":
            external_id = str(value.get("comment_id") or "")
            source = "facebook_comment"
        elif item in FACEBOOK_POST_ITEMS:
            external_id = post_id
            source = "facebook_post"
        else:
            continue
        if not external_id or not post_id:
            continue
        metadata = {
            "source": source,
            "post_id": post_id,
            "comment_id": external_id if item == "comment" else "",
        }
        parent_id = str(value.get("parent_id") or "")
        if item == "comment" and parent_id:
            metadata["parent_id"] = parent_id
        for key in ("photo", "video", "link"):
            if value.get(key):
                metadata[key] = value[key]
        text = clean_text(value.get("message"), "message") or (
            "[photo]" if value.get("photo") else "[video]" if value.get("video") else ""
        )
        if not text:
            continue
        found.append(
            InboundMessage(
                external_id=external_id,
                thread_key=f"post:{post_id}",
                text=text,
                sent_at=event_time(value.get("created_time"), entry.get("time")),
                # Without the pages_read_user_content permission Meta may leave `from` out: such an
                # author stays one anonymous identity per comment rather than merging strangers.
                author=InboundAuthor(
                    external_id=author_id or f"anonymous:{external_id}",
                    display_name=clean_text(author.get("name"), "from.name", 255),
                ),
                in_reply_to=parent_id if item == "comment" else "",
                metadata=metadata,
            )
        )
    return found


def parse_instagram_comments(entry: dict) -> list[InboundMessage]:
    account_id = str(entry.get("id") or "")
    found = []
    for change in changes(entry):
        value = change["value"]
        if change.get("field") not in ("comments", "live_comments"):
            continue
        comment_id = str(value.get("id") or "")
        author = value.get("from") if isinstance(value.get("from"), dict) else {}
        author_id = str(author.get("id") or "")
        if not comment_id or not author_id or author_id == account_id:
            continue
        text = clean_text(value.get("text"), "text")
        if not text:
            continue
        media = value.get("media") if isinstance(value.get("media"), dict) else {}
        media_id = str(media.get("id") or "")
        username = clean_text(author.get("username"), "from.username", 200)
        metadata = {
            "source": "instagram_comment",
            "comment_id": comment_id,
            "media_id": media_id,
            "media_product_type": media.get("media_product_type") or "",
            "live": change.get("field") == "live_comments",
        }
        parent_id = str(value.get("parent_id") or "")
        if parent_id:
            metadata["parent_id"] = parent_id
        found.append(
            InboundMessage(
                external_id=comment_id,
                # Comments on album children may come without the media: each is then its own thread.
                thread_key=f"media:{media_id}" if media_id else f"comment:{comment_id}",
                text=text,
                sent_at=event_time(value.get("timestamp"), entry.get("time")),
                author=InboundAuthor(
                    external_id=author_id,
                    handle=f"@{username}" if username else "",
                    profile_url=f"https://www.instagram.com/{username}/" if username else "",
                ),
                in_reply_to=parent_id,
                metadata=metadata,
            )
        )
    return found
