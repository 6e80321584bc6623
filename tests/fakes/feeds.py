"""A fake website that publishes RSS/Atom feeds over a real local HTTP server, and sample feed documents.

    site = FeedSite()
    site.publish("/feed.xml", rss20([rss_item(1)]))
    with site:
        channel.settings = {"feeds": [site.url("/feed.xml")]}
        ...
        assert site.requests_to("/feed.xml")[1].headers["if-none-match"] == site.etag("/feed.xml")

The site answers like a well-behaved web server: ETag and Last-Modified on every feed, 304 to a matching
If-None-Match or If-Modified-Since. Redirects and failures are published per path. The sample documents
follow the specifications: RSS 2.0 (https://www.rssboard.org/rss-specification), Atom 1.0 (RFC 4287) with
threading (RFC 4685), RSS 1.0 (https://web.resource.org/rss/1.0/spec).
"""

from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from xml.sax.saxutils import escape, quoteattr

from tests.fakes.http import FakeHTTPServer, RecordedRequest, Response

RSS = "application/rss+xml; charset=utf-8"
ATOM = "application/atom+xml; charset=utf-8"
RDF = "application/rdf+xml"
LAST_MODIFIED = "Wed, 18 Nov 2026 09:00:00 GMT"


@dataclass
class _Published:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    conditional: bool = True


class FeedSite:
    def __init__(self):
        self.server = FakeHTTPServer()
        self.paths: dict[str, _Published] = {}
        self.server.route("GET", "/.*", self._answer)

    def __enter__(self) -> FeedSite:
        self.server.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self.server.__exit__(*exc)

    def reset(self) -> None:
        """Forget what was published and asked (one running site serves many tests)."""
        self.paths.clear()
        self.server.requests.clear()

    def url(self, path: str) -> str:
        return f"{self.server.url}{path}"

    @property
    def requests(self) -> list[RecordedRequest]:
        return self.server.requests

    def requests_to(self, path: str) -> list[RecordedRequest]:
        return [request for request in self.server.requests if request.path == path]

    @staticmethod
    def etag_of(body: bytes) -> str:
        return '"' + hashlib.sha256(body).hexdigest()[:16] + '"'

    def etag(self, path: str) -> str:
        return self.paths[path].headers["ETag"]

    def publish(
        self,
        path: str,
        body: bytes | str,
        content_type: str = RSS,
        *,
        conditional: bool = True,
        gzipped: bool = False,
        last_modified: str = LAST_MODIFIED,
    ) -> None:
        """Serve a document with validators; `conditional=False` makes a server that ignores them."""
        body = body.encode() if isinstance(body, str) else body
        headers = {"Content-Type": content_type, "ETag": self.etag_of(body), "Last-Modified": last_modified}
        if gzipped:
            body = gzip.compress(body)
            headers["Content-Encoding"] = "gzip"
        self.paths[path] = _Published(200, body, headers, conditional)

    def redirect(self, path: str, to: str, status: int = 301) -> None:
        self.paths[path] = _Published(status, b"", {"Location": self.url(to)}, False)

    def answer(self, path: str, status: int, body: bytes | str = b"", headers: dict | None = None) -> None:
        body = body.encode() if isinstance(body, str) else body
        self.paths[path] = _Published(status, body, dict(headers or {}), False)

    def _answer(self, request: RecordedRequest) -> Response:
        published = self.paths.get(request.path)
        if published is None:
            return Response(404, "<html><body>Not found</body></html>", {"Content-Type": "text/html"})
        if published.conditional and published.status == 200:
            etag, last_modified = published.headers["ETag"], published.headers["Last-Modified"]
            if request.headers.get("if-none-match") == etag or (
                "if-none-match" not in request.headers
                and request.headers.get("if-modified-since") == last_modified
            ):
                return Response(304, b"", {"ETag": etag, "Last-Modified": last_modified})
        return Response(published.status, published.body, dict(published.headers))


# --- sample documents ---------------------------------------------------------------------------------


def _rfc822(day: int, hour: int = 10) -> str:
    return format_datetime(datetime(2026, 11, day, hour, 0, tzinfo=UTC), usegmt=True)


def rss_item(
    n: int,
    *,
    title: str | None = None,
    description: str | None = None,
    content: str | None = None,
    author: str | None = None,
    creator: str | None = None,
    categories: tuple[str, ...] = (),
    guid: str | None = None,
    link: str | None = None,
    pub_date: str | None = None,
    extra: str = "",
) -> str:
    """An RSS 2.0 item; `link=""` or `pub_date=""` leaves the element out."""
    link = link if link is not None else f"https://blog.example/posts/{n}"
    pub_date = pub_date if pub_date is not None else _rfc822(min(n, 28))
    parts = [
        f"<title>{escape(title if title is not None else f'Post number {n}')}</title>",
        f"<link>{escape(link)}</link>" if link else "",
        f"<description>{escape(description if description is not None else f'<p>Summary {n}</p>')}"
        "</description>",
        f"<content:encoded><![CDATA[{content}]]></content:encoded>" if content is not None else "",
        f"<author>{escape(author)}</author>" if author else "",
        f"<dc:creator>{escape(creator)}</dc:creator>" if creator else "",
        *(f"<category>{escape(category)}</category>" for category in categories),
        f'<guid isPermaLink="false">{escape(guid)}</guid>' if guid else "",
        f"<pubDate>{pub_date}</pubDate>" if pub_date else "",
        extra,
    ]
    return "<item>" + "".join(parts) + "</item>"


def rss20(
    items: list[str],
    *,
    title: str = "Nimbus fans blog",
    link: str = "https://blog.example/",
    encoding: str = "utf-8",
    namespaces: str = "",
    language: str = "en-us",
) -> bytes:
    document = (
        f'<?xml version="1.0" encoding="{encoding}"?>\n'
        '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"'
        ' xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:atom="http://www.w3.org/2005/Atom"'
        f" {namespaces}>\n<channel>\n"
        f"<title>{escape(title)}</title><link>{escape(link)}</link>"
        f"<description>Posts about phones</description><language>{language}</language>\n"
        + "\n".join(items)
        + "\n</channel>\n</rss>\n"
    )
    return document.encode(encoding)


def atom_entry(
    n: int,
    *,
    title: str | None = None,
    content: str | None = None,
    summary: str | None = None,
    author: tuple[str, str, str] | None = ("Ana Souza", "https://ana.example/", "ana@example.com"),
    categories: tuple[str, ...] = (),
    in_reply_to: tuple[str, str] | None = None,
    link: str | None = None,
    extra: str = "",
) -> str:
    link = link or f"https://news.example/articles/{n}"
    name, uri, email = author or ("", "", "")
    parts = [
        f"<id>tag:news.example,2026:article-{n}</id>",
        f'<title type="text">{escape(title or f"Article {n}")}</title>',
        f'<link rel="alternate" type="text/html" href={quoteattr(link)}/>',
        f"<published>2026-11-{min(n, 28):02d}T08:30:00+01:00</published>",
        f"<updated>2026-11-{min(n, 28):02d}T09:00:00+01:00</updated>",
        (
            "<author>"
            + (f"<name>{escape(name)}</name>" if name else "")
            + (f"<uri>{escape(uri)}</uri>" if uri else "")
            + (f"<email>{escape(email)}</email>" if email else "")
            + "</author>"
        )
        if author
        else "",
        f'<summary type="text">{escape(summary)}</summary>' if summary is not None else "",
        f'<content type="html">{escape(content if content is not None else f"<p>Body of {n}</p>")}</content>',
        *(f"<category term={quoteattr(category)}/>" for category in categories),
        (
            f"<thr:in-reply-to ref={quoteattr(in_reply_to[0])} href={quoteattr(in_reply_to[1])}"
            ' type="text/html"/>'
        )
        if in_reply_to
        else "",
        extra,
    ]
    return "<entry>" + "".join(parts) + "</entry>"


def atom10(
    entries: list[str],
    *,
    title: str = "Phone news",
    link: str = "https://news.example/",
    namespaces: str = "",
) -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<feed xmlns="http://www.w3.org/2005/Atom" xmlns:thr="http://purl.org/syndication/thread/1.0"'
        f' xml:lang="en" {namespaces}>\n'
        f"<title>{escape(title)}</title><id>urn:uuid:60a76c80-d399-11d9-b93c-0003939e0af6</id>"
        f'<link rel="alternate" href={quoteattr(link)}/><link rel="self" href="{link}atom.xml"/>'
        "<updated>2026-11-20T10:00:00Z</updated>\n" + "\n".join(entries) + "\n</feed>\n"
    ).encode()


def rdf10(items: list[tuple[str, str, str, str, str]], *, title: str = "Phone forum digest") -> bytes:
    """RSS 1.0; each item is (about URL, title, description, dc:creator, dc:date)."""
    sequence = "".join(f"<rdf:li rdf:resource={quoteattr(about)}/>" for about, *_ in items)
    bodies = "\n".join(
        f"<item rdf:about={quoteattr(about)}><title>{escape(item_title)}</title><link>{escape(about)}</link>"
        f"<description>{escape(description)}</description><dc:creator>{escape(creator)}</dc:creator>"
        f"<dc:date>{date}</dc:date></item>"
        for about, item_title, description, creator, date in items
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"'
        ' xmlns:dc="http://purl.org/dc/elements/1.1/">\n'
        f'<channel rdf:about="https://forum.example/rss"><title>{escape(title)}</title>'
        "<link>https://forum.example/</link><description>Latest posts</description>"
        f"<items><rdf:Seq>{sequence}</rdf:Seq></items></channel>\n{bodies}\n</rdf:RDF>\n"
    ).encode()


HTML_PAGE = (
    '<!DOCTYPE html>\n<html lang="en"><head><title>Nimbus blog</title>'
    '<link rel="alternate" type="application/rss+xml" title="Feed" href="/feed.xml">'
    "</head><body><h1>Welcome</h1><p>This is a web page, not a feed.</p></body></html>"
)


def billion_laughs(levels: int = 10) -> bytes:
    """The classic entity-expansion bomb (10 levels of 10 → 10^10 "lol"s) as a one-line RSS 2.0 prolog."""
    declarations = ['<!ENTITY lol0 "lol">'] + [
        f'<!ENTITY lol{level} "{("&lol" + str(level - 1) + ";") * 10}">' for level in range(1, levels)
    ]
    return (
        f'<?xml version="1.0"?><!DOCTYPE rss [{"".join(declarations)}]>'
        '<rss version="2.0"><channel><title>Bomb</title><link>https://bomb.example/</link>'
        f"<item><title>&lol{levels - 1};</title><guid>bomb-1</guid>"
        f"<description>&lol{levels - 1};</description></item></channel></rss>"
    ).encode()
