"""From feed bytes to entry documents, and from an entry document to an InboundMessage.

A poll stores one payload per entry (so each entry is stored and processed once), as a small JSON
document of this shape (version 1):

    {"v": 1,
     "feed": {"url": "<configured URL>", "fetched_url": "…", "title": "…", "link": "…", "format": "rss20",
              "language": "en-us", "author": {"name": "…", "href": "…", "email": "…"} | null},
     "entry": {"id": "…", "link": "…", "title": "…", "title_type": "text/plain",
               "summary": "<p>…</p>", "summary_type": "text/html",
               "content": [{"type": "text/html", "value": "<p>…</p>"}],
               "published": "2026-11-20T10:00:00+00:00" | null, "updated": … | null,
               "author": {"name": "…", "href": "…", "email": "…"} | null, "tags": ["…"],
               "in_reply_to": {"ref": "…", "href": "…"} | null,   # RFC 4685 thr:in-reply-to
               "ratings": {"rating": "4/5", "media_starrating": {"average": "4.5", "max": "5"}},
               "media": [{"url": "…", "type": "audio/mpeg", "length": "…", "medium": "…"}]}}
                                    # enclosures, media:content and media:thumbnail (may be absent)

Parsing the document (not the feed) into a message keeps that step replayable after a fix.

A feed in a legacy charset that declares none (neither in its XML declaration nor in Content-Type) and is
not valid UTF-8 is decoded with what charset-normalizer detects (EUC-JP, GB2312, KOI8-R, TIS-620…), not
read as windows-1252. An entry with nothing but an enclosure (a podcast episode, a photo) is stored with
its media. A feed the tolerant parser reads with errors reports them (`FeedDocuments.problem`).
"""

from __future__ import annotations

import calendar
import hashlib
import io
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import feedparser
from django.utils import timezone

from apps.core.links import external_url

from ..base import InboundAuthor, InboundMessage, PayloadRejected
from ..normalized import MAX_TEXT_CHARS, clean_text, decode_json, parse_time

DOCUMENT_VERSION = 1
MAX_ENTRIES_PER_FEED = 500
MAX_ID_CHARS = 400  # longer ids and thread keys are hashed (the columns hold 500)
MAX_IDENTITY_ID_CHARS = 255
# Titles of the comment feeds blog engines publish: "Comments on: <post>" (one post), "Comments for <blog>".
COMMENTS_FEED_TITLE = re.compile(r"^\s*comments?\s+(on|for)\b", re.IGNORECASE)
EMAIL = re.compile(r"^[^@\s<>()]+@[^@\s<>()]+\.[^@\s<>()]+$")


# --- feed bytes → entry documents -----------------------------------------------------------------------

_DOCTYPE = re.compile(rb"<!DOCTYPE", re.IGNORECASE)
_FIRST_ELEMENT = re.compile(rb"<[A-Za-z_]")
_DOCTYPE_TOKENS = re.compile(rb"\"[^\"]*\"|'[^']*'|<!--.*?-->|[\[\]>]", re.DOTALL)


def strip_doctype(data: bytes) -> bytes:
    """Drop the document type declaration and its internal subset before the root element.

    Feeds need no DTD, and the internal subset is where entity-expansion attacks ("billion laughs",
    quadratic blow-up) and external entities live. References to entities it declared are then merely
    undefined: feedparser's tolerant parser keeps them as text.
    """
    first_element = _FIRST_ELEMENT.search(data)
    head_end = first_element.start() if first_element else len(data)
    start = _DOCTYPE.search(data, 0, head_end)
    if start is None:
        return data
    in_subset = False
    for token in _DOCTYPE_TOKENS.finditer(data, start.end()):
        value = token.group()
        if value == b"[":
            in_subset = True
        elif value == b"]":
            in_subset = False
        elif value == b">" and not in_subset:
            return data[: start.start()] + data[token.end() :]
    return data[: start.start()]  # never closed: nothing after it is a document


class _AlternateFeedLinks(HTMLParser):
    """<link rel="alternate" type="application/rss+xml" href="…"> of an HTML page (feed autodiscovery)."""

    FEED_TYPES = {"application/rss+xml", "application/atom+xml", "application/rdf+xml"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.hrefs: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = {name: (value or "") for name, value in attrs}
        rel = attributes.get("rel", "").lower().split()
        if tag == "link" and "alternate" in rel and attributes.get("type", "").lower() in self.FEED_TYPES:
            self.hrefs.append(attributes.get("href", ""))


def _why_not_a_feed(parsed, body: bytes, content_type: str, base_url: str) -> str:
    error = parsed.get("bozo_exception")
    head = body[:262_144].decode("utf-8", "replace")
    if "html" in content_type.lower() or re.search(r"<html[\s>]", head, re.IGNORECASE):
        finder = _AlternateFeedLinks()
        try:
            finder.feed(head)
        except Exception:  # noqa: BLE001 - a hint only; never fail the rejection itself
            finder.hrefs = []
        advertised = [urljoin(base_url, href) for href in finder.hrefs if href]
        hint = f"; the page advertises a feed at {advertised[0]}" if advertised else ""
        return f"it is an HTML page (Content-Type: {content_type or 'none'}){hint}"
    if error is not None:
        return f"{type(error).__name__}: {error}"
    return "no <rss>, <rdf:RDF> or <feed> root element"


def _iso(parsed_time) -> str | None:
    """feedparser's *_parsed values are UTC struct_times."""
    if not parsed_time:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(parsed_time), UTC).isoformat()
    except (OverflowError, OSError, ValueError, TypeError):
        return None


def _person(detail) -> dict | None:
    if not detail:
        return None
    person = {key: str(detail.get(key) or "").strip() for key in ("name", "href", "email")}
    return person if any(person.values()) else None


_RSS_AUTHOR = re.compile(r"^\s*([^\s@()]+@[^\s@()]+)\s*\(([^()]+)\)\s*$")


def _rss_author(value) -> dict | None:
    """RSS 2.0's `<author>email (Name)</author>`, read here: feedparser's own reading cuts addresses whose
    top-level domain is longer than four letters ("editor@blog.exam", name "ple (Editor")."""
    match = _RSS_AUTHOR.match(value) if isinstance(value, str) else None
    return {"name": match.group(2).strip(), "href": "", "email": match.group(1)} if match else None


def _ratings(entry) -> dict:
    """Rating extensions as feedparser exposes them: rating, review_rating, g_rating, media_starrating…"""
    found = {}
    for key, value in entry.items():
        name = key.lower()
        if name == "rating" or name.endswith(("_rating", "starrating")):
            if isinstance(value, dict):
                found[key] = {str(k): str(v) for k, v in value.items() if isinstance(v, str | int | float)}
            elif isinstance(value, str | int | float):
                found[key] = str(value)
    return found


def _entry_document(entry, feed, *, feed_url: str, fetched_url: str, version: str) -> dict:
    reply = entry.get("thr_in-reply-to")
    if isinstance(reply, list):  # several parents: the first one is the conversation
        reply = reply[0] if reply else None
    return {
        "v": DOCUMENT_VERSION,
        "feed": {
            "url": feed_url,
            "fetched_url": fetched_url,
            "title": feed.get("title", ""),
            "link": feed.get("link", ""),
            "format": version,
            "language": feed.get("language", ""),
            "author": _person(feed.get("author_detail")),
        },
        "entry": {
            "id": entry.get("id", ""),
            "link": entry.get("link", ""),
            "title": entry.get("title", ""),
            "title_type": (entry.get("title_detail") or {}).get("type", ""),
            "summary": entry.get("summary", ""),
            "summary_type": (entry.get("summary_detail") or {}).get("type", ""),
            "content": [
                {"type": part.get("type", ""), "value": part.get("value", "")}
                for part in entry.get("content", [])
            ],
            # dict.get: FeedParserDict would answer one date for the other (with a deprecation warning)
            "published": _iso(dict.get(entry, "published_parsed")),
            "updated": _iso(dict.get(entry, "updated_parsed")),
            "author": _rss_author(entry.get("author"))
            or _person(entry.get("author_detail"))
            or ({"name": entry["author"], "href": "", "email": ""} if entry.get("author") else None),
            "tags": [tag.get("term") or tag.get("label") for tag in entry.get("tags", []) if tag],
            "in_reply_to": (
                {"ref": reply.get("ref", ""), "href": reply.get("href", "")}
                if isinstance(reply, dict) and (reply.get("ref") or reply.get("href"))
                else None
            ),
            "ratings": _ratings(entry),
            "media": _media(entry),
        },
    }


def _media(entry) -> list[dict]:
    """Enclosures (RSS <enclosure>, Atom rel="enclosure"), media:content and media:thumbnail, once each."""
    found, seen = [], set()
    candidates = [
        *(entry.get("enclosures") or []),
        *(entry.get("media_content") or []),
        *(entry.get("media_thumbnail") or []),
    ]
    for item in candidates:
        if not isinstance(item, dict):
            continue
        url = str(item.get("href") or item.get("url") or "").strip()
        if not url or url in seen:
            continue
        seen.add(url)
        media = {"url": url}
        for key in ("type", "length", "medium"):
            if item.get(key):
                media[key] = str(item[key])
        found.append(media)
    return found[:20]


_XML_DECLARATION = re.compile(rb"^(\xef\xbb\xbf)?\s*<\?xml\b[^>]*?\?>", re.DOTALL)
_DECLARED_ENCODING = re.compile(rb"\bencoding\s*=\s*[\"']([^\"']+)[\"']")
_BOMS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")


def _charset_of(content_type: str) -> str:
    match = re.search(r"charset\s*=\s*[\"']?([^\s;\"']+)", content_type or "", re.IGNORECASE)
    return match.group(1) if match else ""


def as_utf8(body: bytes, content_type: str) -> tuple[bytes, str]:
    """The feed re-encoded as declared UTF-8 when it declares no charset and is not UTF-8: feedparser
    would otherwise read it as windows-1252. Feeds that declare their charset are left to feedparser."""
    declaration = _XML_DECLARATION.match(body)
    if (
        body.startswith(_BOMS)
        or _charset_of(content_type)
        or (declaration and _DECLARED_ENCODING.search(declaration.group()))
    ):
        return body, content_type
    try:
        body.decode("utf-8")
        return body, content_type
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(body[:1_000_000]).best()
    if best is None:
        return body, content_type
    text = body.decode(best.encoding, errors="replace").encode("utf-8")
    if declaration:
        text = _XML_DECLARATION.sub(b'<?xml version="1.0" encoding="utf-8"?>', text, count=1)
    else:
        text = b'<?xml version="1.0" encoding="utf-8"?>\n' + text
    media_type = (content_type or "application/xml").split(";")[0].strip()
    return text, f"{media_type}; charset=utf-8"


# Parser complaints that do not mean the feed is broken: the encoding was corrected or the media type odd.
_HARMLESS = (feedparser.CharacterEncodingOverride, feedparser.NonXMLContentType)


@dataclass
class FeedDocuments:
    """A feed's entry documents, and what the tolerant parser found wrong with it (for the channel page)."""

    documents: list[dict] = field(default_factory=list)
    problem: str = ""


def feed_documents(body: bytes, *, content_type: str, feed_url: str, fetched_url: str) -> list[dict]:
    """Parse a feed (tolerating broken ones) into entry documents; refuse what is not a feed at all."""
    return read_feed(body, content_type=content_type, feed_url=feed_url, fetched_url=fetched_url).documents


def read_feed(body: bytes, *, content_type: str, feed_url: str, fetched_url: str) -> FeedDocuments:
    """Parse a feed (tolerating broken ones): its entry documents and, when the XML was broken, the parser's
    error. A broken feed with no entry at all is refused with that error, so that it is reported."""
    if not body or body.isspace():
        raise PayloadRejected(f"{feed_url} is not an RSS or Atom feed: the response is empty")
    body, content_type = as_utf8(strip_doctype(body), content_type)
    headers = {"content-location": fetched_url}
    if content_type:
        headers["content-type"] = content_type
    # A stream, never bytes or str: given those, feedparser would open a URL or a local file they name.
    try:
        parsed = feedparser.parse(
            io.BytesIO(body),
            response_headers=headers,
            sanitize_html=True,
            resolve_relative_uris=True,
        )
    except (KeyError, AttributeError, IndexError, TypeError, ValueError) as error:
        # feedparser itself can trip on odd but real markup (6.0.14: a <textInput> inside an <item> raises
        # KeyError 'textinput', as its own test suite shows): the feed's error, not a crash of the poll.
        raise PayloadRejected(
            f"{feed_url} could not be read by the feed parser: {type(error).__name__}: {error}"[:1000]
        ) from None
    version = parsed.get("version") or ""
    if not version and not parsed.entries:
        reason = _why_not_a_feed(parsed, body, content_type, fetched_url)
        raise PayloadRejected(f"{feed_url} is not an RSS or Atom feed: {reason}")
    error = parsed.get("bozo_exception") if parsed.get("bozo") else None
    problem = "" if error is None or isinstance(error, _HARMLESS) else f"{type(error).__name__}: {error}"
    documents = [
        _entry_document(entry, parsed.feed, feed_url=feed_url, fetched_url=fetched_url, version=version)
        for entry in parsed.entries[:MAX_ENTRIES_PER_FEED]
    ]
    # A broken feed whose entries all came out of the tolerant parser empty is the feed's error. Empty
    # entries of a readable feed are still fetched, and ignored with their reason (`says_something`).
    if problem and not any(says_something(document["entry"]) for document in documents):
        raise PayloadRejected(f"{feed_url} is a broken feed with no readable entry: {problem}"[:1000])
    return FeedDocuments(documents, problem)


def says_something(entry: dict) -> bool:
    return any(entry.get(key) for key in ("title", "summary", "content", "link", "media"))


# --- helpers shared by fetch and parse --------------------------------------------------------------------


def bounded_id(value: str, limit: int = MAX_ID_CHARS) -> str:
    """Ids and keys as they are, unless too long for their column: then a stable hash of them."""
    if len(value) <= limit:
        return value
    return "sha256:" + hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()


def _global_id(value: str, feed_url: str) -> str:
    """Entry ids are meant to be URIs; a bare one ("123") is only unique within its feed."""
    return value if ":" in value else f"{feed_url}#{value}"


def entry_external_id(document: dict) -> str:
    """The entry's id / guid, else its link, else a hash of what it says: the message's idempotency key."""
    feed, entry = document["feed"], document["entry"]
    raw = (entry.get("id") or "").strip() or (entry.get("link") or "").strip()
    if raw:
        return bounded_id(_global_id(raw, feed.get("url", "")))
    fingerprint = "\x1f".join(
        str(part)
        for part in (feed.get("url"), entry.get("title"), entry.get("published"), entry.get("summary"))
    )
    return "sha256:" + hashlib.sha256(fingerprint.encode("utf-8", "surrogatepass")).hexdigest()


class _TextExtractor(HTMLParser):
    """Collects text; block boundaries ask for a line break (1) or a blank line (2) before the next text."""

    PARAGRAPHS = {
        "article", "blockquote", "dl", "figure", "footer", "h1", "h2", "h3", "h4", "h5", "h6", "header",
        "hr", "ol", "p", "pre", "section", "table", "ul",
    }  # fmt: skip
    LINES = {"address", "aside", "dd", "div", "dt", "figcaption", "li", "main", "nav", "tr"}
    HIDDEN = {"script", "style", "template", "noscript", "head", "title"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0
        self.preformatted = 0
        self.pending_breaks = 0

    def _boundary(self, tag: str) -> None:
        if tag in self.PARAGRAPHS:
            self.pending_breaks = 2
        elif tag in self.LINES:
            self.pending_breaks = max(self.pending_breaks, 1)

    def handle_starttag(self, tag, attrs):
        if tag in self.HIDDEN:
            self.hidden += 1
        elif tag == "br":
            self.pending_breaks = min(2, self.pending_breaks + 1)
        elif tag in ("td", "th"):
            self.handle_data(" ")
        self._boundary(tag)
        if tag == "pre":
            self.preformatted += 1

    def handle_endtag(self, tag):
        if tag in self.HIDDEN:
            self.hidden = max(0, self.hidden - 1)
        self._boundary(tag)
        if tag == "pre":
            self.preformatted = max(0, self.preformatted - 1)

    def handle_data(self, data):
        if self.hidden:
            return
        # Outside <pre>, line breaks in the source are mere spaces; lines come from the tags.
        text = data if self.preformatted else re.sub(r"\s+", " ", data)
        if self.pending_breaks and not text.strip():
            return
        if self.pending_breaks:
            if self.parts:
                self.parts.append("\n" * self.pending_breaks)
            self.pending_breaks = 0
        self.parts.append(text)


def html_to_text(html: str) -> str:
    """Readable plain text of an HTML fragment: tags dropped, entities decoded, paragraphs kept apart."""
    if not html:
        return ""
    if "<" not in html and "&" not in html:
        return html.strip()
    extractor = _TextExtractor()
    extractor.feed(html)
    extractor.close()
    lines = [re.sub(r"[^\S\n]+", " ", line).strip() for line in "".join(extractor.parts).split("\n")]
    return "\n".join(lines).strip()


def _is_html(content_type: str) -> bool:
    return "html" in (content_type or "").lower()


def _as_text(value: str, content_type: str) -> str:
    return html_to_text(value) if _is_html(content_type) else (value or "").strip()


def _main_content(entry: dict) -> tuple[str, str]:
    """(value, type) of the entry's fullest content: an HTML content part, else any, else the summary."""
    parts = [part for part in entry.get("content") or [] if isinstance(part, dict) and part.get("value")]
    html_parts = [part for part in parts if _is_html(part.get("type", ""))]
    if html_parts or parts:
        part = (html_parts or parts)[0]
        return part["value"], part.get("type", "")
    return entry.get("summary") or "", entry.get("summary_type") or "text/html"


def document_text(document: dict) -> str:
    """Everything an entry says, as plain text (for keyword filtering)."""
    entry = document["entry"]
    value, content_type = _main_content(entry)
    pieces = [
        _as_text(entry.get("title") or "", entry.get("title_type") or ""),
        _as_text(entry.get("summary") or "", entry.get("summary_type") or "text/html"),
        _as_text(value, content_type),
        " ".join(str(tag) for tag in entry.get("tags") or []),
    ]
    return "\n".join(piece for piece in pieces if piece)


def keyword_pattern(terms: list[str]) -> re.Pattern | None:
    """Whole-word, case-insensitive match of any term ("@nimbus", "Nimbus Mobile"); None when no terms."""
    terms = sorted({term.strip() for term in terms if term and term.strip()}, key=len, reverse=True)
    if not terms:
        return None
    alternatives = "|".join(re.escape(term) for term in terms)
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)


# --- ratings ---------------------------------------------------------------------------------------------

_NUMBER = r"(\d{1,3}(?:[.,]\d+)?)"
_FRACTION = re.compile(rf"{_NUMBER}\s*(?:/|out of|of)\s*{_NUMBER}", re.IGNORECASE)
_BARE = re.compile(rf"^\s*{_NUMBER}\s*(?:stars?|★)?\s*$", re.IGNORECASE)
_STARS = re.compile(r"[★☆]{3,10}")
# In a title only "4/5", "4.5 out of 5", "8/10" or a row of stars is a rating (not "24/7", "1/2 price").
_TITLE_FRACTION = re.compile(
    rf"(?<![\d/])(?<!\d[.,]){_NUMBER}\s*(?:/|out of)\s*(5|10)(?![\d/]|[.,]\d)", re.IGNORECASE
)


def _number(value) -> float | None:
    try:
        return float(str(value).strip().replace(",", "."))
    except (TypeError, ValueError):
        return None


def _rating(value: float | None, best: float | None) -> dict | None:
    if value is None or value < 0 or (best is not None and (best <= 0 or value > best)):
        return None
    return {"value": value, "best": best} if best is not None else {"value": value}


def _rating_from_text(text: str) -> dict | None:
    if match := _FRACTION.search(text):
        return _rating(_number(match.group(1)), _number(match.group(2)))
    if match := _BARE.match(text):
        return _rating(_number(match.group(1)), None)
    if match := _STARS.search(text):
        return _rating(float(match.group().count("★")), float(len(match.group())))
    return None


def rating_of(entry: dict, *, from_title: bool) -> dict | None:
    """{"value": 4.5, "best": 5.0} from a rating extension element, or (reviews) from "4/5" in the title."""
    for value in (entry.get("ratings") or {}).values():
        if isinstance(value, dict):
            rating = _rating(
                _number(value.get("average") or value.get("value") or value.get("rating")),
                _number(value.get("max") or value.get("best")),
            )
        else:
            rating = _rating_from_text(str(value))
        if rating:
            return rating
    if from_title:
        title = entry.get("title") or ""
        if match := _TITLE_FRACTION.search(title):
            return _rating(_number(match.group(1)), _number(match.group(2)))
        if match := _STARS.search(title):
            return _rating(float(match.group().count("★")), float(len(match.group())))
    return None


# --- entry document → InboundMessage ----------------------------------------------------------------------


def _without_fragment(url: str) -> str:
    return url.split("#", 1)[0]


def _thread(document: dict, own_key: str) -> tuple[str, str]:
    """(thread_key, in_reply_to): each post is its own conversation; a comment joins its post's."""
    feed, entry = document["feed"], document["entry"]
    reply = entry.get("in_reply_to") or {}
    if reply.get("ref") or reply.get("href"):
        parent_id = bounded_id(_global_id(reply["ref"], feed.get("url", ""))) if reply.get("ref") else ""
        parent_link = _without_fragment(reply.get("href") or "")
        return bounded_id(parent_link or parent_id), parent_id
    if COMMENTS_FEED_TITLE.match(feed.get("title") or ""):
        link = entry.get("link") or ""
        # WordPress-style comment links are <post URL>#comment-<n>; a one-post comments feed links the post.
        parent = _without_fragment(link) if "#" in link else ""
        if not parent and (feed.get("title") or "").lower().lstrip().startswith(
            ("comments on", "comment on")
        ):
            parent = feed.get("link") or ""
        if parent and parent != link:
            return bounded_id(parent), ""
    return own_key, ""


def _host(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


def _author(document: dict) -> InboundAuthor:
    feed, entry = document["feed"], document["entry"]
    person = entry.get("author") or feed.get("author") or {}
    name = clean_text(str(person.get("name") or ""), "author.name", 255).strip()
    href = str(person.get("href") or "").strip()
    email = str(person.get("email") or "").strip()
    host = _host(feed.get("url") or "") or "feed"
    email = email if len(email) <= 254 and EMAIL.match(email) else ""
    profile_url = external_url(href)
    if href:
        external_id = href
    elif name:
        external_id = f"{name}@{host}"
    elif email:
        external_id = email
    else:  # nobody named: the site itself speaks (a news site, a shop's review feed)
        name = clean_text(str(feed.get("title") or ""), "feed.title", 255).strip() or host
        external_id = host
        feed_link = str(feed.get("link") or "")
        profile_url = external_url(feed_link)
    return InboundAuthor(
        external_id=bounded_id(external_id, MAX_IDENTITY_ID_CHARS),
        display_name=name or email.split("@")[0],
        profile_url=profile_url,
        email=email,
    )


def _language(document: dict) -> str:
    language = str(document["feed"].get("language") or "").strip().lower()
    return re.split(r"[-_]", language)[0][:16] if re.match(r"^[a-z]{2,3}([-_][a-z0-9]+)*$", language) else ""


def _media_placeholder(media: list[dict]) -> str:
    """ "[audio: episode-12.mp3]" for an entry that is nothing but its enclosure."""
    if not media:
        return ""
    first = media[0]
    kind = (first.get("medium") or first.get("type") or "media").split("/")[0]
    name = urlsplit(first["url"]).path.rsplit("/", 1)[-1]
    return f"[{kind}: {name}]" if name else f"[{kind}]"


def message_from_document(body: bytes, *, ratings_from_title: bool = False) -> InboundMessage:
    document = decode_json(body)
    if (
        not isinstance(document, dict)
        or not isinstance(document.get("feed"), dict)
        or not isinstance(document.get("entry"), dict)
    ):
        raise PayloadRejected("not a feed entry document: expected an object with 'feed' and 'entry'")
    if document.get("v") != DOCUMENT_VERSION:
        raise PayloadRejected(f"unknown feed entry document version {document.get('v')!r}")
    feed, entry = document["feed"], document["entry"]
    content, content_type = _main_content(entry)
    html = content if _is_html(content_type) else ""
    title = _as_text(entry.get("title") or "", entry.get("title_type") or "")
    link = str(entry.get("link") or "")
    media = [item for item in entry.get("media") or [] if isinstance(item, dict) and item.get("url")]
    text = _as_text(content, content_type) or title or _media_placeholder(media) or link
    external_id = entry_external_id(document)
    thread_key, in_reply_to = _thread(document, bounded_id(link or external_id))
    sent_at = parse_time(entry.get("published") or entry.get("updated"), "published")
    metadata = {
        "feed_url": feed.get("url", ""),
        "feed_title": feed.get("title", ""),
        "link": link,
        "tags": [str(tag) for tag in entry.get("tags") or []],
    }
    rating = rating_of(entry, from_title=ratings_from_title)
    if rating:
        metadata["rating"] = rating
    if media:
        metadata["media"] = media
    return InboundMessage(
        external_id=external_id,
        thread_key=thread_key,
        in_reply_to=in_reply_to,
        text=clean_text(text, "text", MAX_TEXT_CHARS),
        html=clean_text(html, "html", MAX_TEXT_CHARS),
        subject=clean_text(title, "title", 500),
        # A post dated in the future (a misconfigured clock, a scheduled post) is shown as of now.
        sent_at=min(sent_at, timezone.now()),
        author=_author(document),
        language=_language(document),
        metadata=metadata,
    )
