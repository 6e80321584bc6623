"""Comments on the brand's Facebook posts and Instagram media → inbound messages.

A post (or a piece of media) and the comments under it form one conversation: the thread key is
`"post:<post_id>"` (Facebook) or `"media:<media_id>"` (Instagram), and the connector's `send` recognises
those prefixes to answer with a public comment reply instead of a private message. Each comment's
external id is the platform's comment id; `metadata` records where it sits (`source`, `comment_id`,
`post_id` / `media_id`, `parent_id`).

Facebook Page `feed` changes: `value = {"item": "comment", "verb": "add", "comment_id", "post_id",
"parent_id", "from": {"id", "name"}, "message", "created_time", "photo"?}`. Visitors' posts on the Page
(`item` "status" / "post" / "photo" / "video", verb "add") open a conversation the same way, their
external id being the post id. An edit (verb "edited") updates the stored comment or post, a removal
(verb "remove") marks it deleted; reactions, shares, hides and other items are ignored with a reason.

Instagram `comments` / `live_comments` changes: `value = {"id", "text", "from": {"id", "username"},
"media": {"id", "media_product_type"}, "parent_id"?}`; no time is given, the entry's `time` is used.

The brand's own comments (author = the Page / the Instagram account, i.e. the entry's id) are ignored:
CXM stores its replies itself when it sends them.
"""

from __future__ import annotations

from ..base import Ignored, InboundAuthor, InboundMessage, Interpretation, MessageUpdate
from ..normalized import clean_text
from .messaging import MESSAGING_FIELDS
from .webhooks import changes, event_time

FACEBOOK_POST_ITEMS = {"status", "post", "photo", "video"}


def parse_page_feed(entry: dict) -> Interpretation:
    page_id = str(entry.get("id") or "")
    result = Interpretation()
    found = result.messages
    for change in changes(entry):
        value = change["value"]
        field, item, verb = change.get("field"), value.get("item"), value.get("verb")
        if field in MESSAGING_FIELDS:
            continue  # messaging events in the `changes` form, which parse_messaging reads
        if field != "feed":
            result.ignored.append(Ignored(str(field)[:100], f"a '{field}' change of the Page, not a message"))
            continue
        event = f"feed:{item}:{verb}"[:100]
        author = value.get("from") if isinstance(value.get("from"), dict) else {}
        author_id = str(author.get("id") or "")
        post_id = str(value.get("post_id") or "")
        if item == "comment":
            external_id = str(value.get("comment_id") or "")
            source = "facebook_comment"
        elif item in FACEBOOK_POST_ITEMS:
            external_id = post_id
            source = "facebook_post"
        else:
            result.ignored.append(
                Ignored(event, f"a '{item}' {verb} on the Page's feed, not a comment or post")
            )
            continue
        if verb in ("edited", "edit", "remove", "delete", "hide", "unhide") and external_id:
            at = event_time(value.get("created_time"), entry.get("time"))
            if verb in ("remove", "delete"):
                result.updates.append(
                    MessageUpdate(external_id, MessageUpdate.DELETE, at, event, actor=author_id)
                )
            elif verb in ("edited", "edit") and clean_text(value.get("message"), "message"):
                text = clean_text(value.get("message"), "message")
                result.updates.append(MessageUpdate(external_id, MessageUpdate.EDIT, at, event, text=text))
            else:
                result.ignored.append(Ignored(event, f"a {item} {verb} by the Page's moderators"))
            continue
        if verb != "add":
            result.ignored.append(
                Ignored(event, f"a '{verb}' of a {item}, which this connector does not know")
            )
            continue
        if author_id and author_id == page_id:
            result.ignored.append(Ignored(event, "the Page's own comment or post (CXM stores its replies)"))
            continue
        if not external_id or not post_id:
            result.ignored.append(Ignored(event, f"a {item} with no id"))
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
            result.ignored.append(Ignored(event, f"a {item} with no text, photo or video"))
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
    return result


def parse_instagram_comments(entry: dict) -> Interpretation:
    account_id = str(entry.get("id") or "")
    result = Interpretation()
    found = result.messages
    for change in changes(entry):
        value = change["value"]
        field = str(change.get("field") or "")
        if field in MESSAGING_FIELDS:
            continue  # messaging events in the `changes` form, which parse_messaging reads
        if field not in ("comments", "live_comments"):
            result.ignored.append(Ignored(field[:100] or "change", f"a '{field}' change, not a comment"))
            continue
        comment_id = str(value.get("id") or "")
        author = value.get("from") if isinstance(value.get("from"), dict) else {}
        author_id = str(author.get("id") or "")
        if not comment_id or not author_id:
            result.ignored.append(Ignored(field, "a comment with no id or no author"))
            continue
        if author_id == account_id:
            result.ignored.append(Ignored(field, "the account's own comment (CXM stores its replies)"))
            continue
        text = clean_text(value.get("text"), "text")
        if not text:
            result.ignored.append(Ignored(field, "a comment with no text"))
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
    return result
