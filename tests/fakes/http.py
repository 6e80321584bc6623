"""A small real HTTP server on 127.0.0.1 for fakes of third-party platforms.

A fake registers routes that answer what the platform's published API answers; every request is recorded
so a test can check exactly what the connector sent.

    server = FakeHTTPServer()
    server.route("GET", "/2/tweets/search/recent", lambda request: (200, {"data": []}))
    with server:
        ... server.url ...
        assert server.requests[0].query["query"] == ["nimbus"]

A platform's fake subclasses FakePlatform: it routes the platform's methods on its own server, and a test
starts it with `with FakeX() as fake:`, reads `fake.url` and `fake.requests`, and queues in
`fake.next_responses` what the next requests are answered instead (rate limits, outages...).
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self
from urllib.parse import parse_qs, urlsplit


@dataclass
class RecordedRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    match: re.Match | None = None

    def json(self):
        return json.loads(self.body or b"null")

    def form(self) -> dict[str, list[str]]:
        return parse_qs(self.body.decode())


@dataclass
class Response:
    status: int = 200
    body: object = None  # dict/list → JSON; str/bytes as they are
    headers: dict[str, str] = field(default_factory=dict)


Handler = Callable[[RecordedRequest], "Response | tuple"]


class FakeHTTPServer:
    def __init__(self):
        self.routes: list[tuple[str, re.Pattern, Handler]] = []
        self.requests: list[RecordedRequest] = []
        self._server: ThreadingHTTPServer | None = None

    def route(self, method: str, pattern: str, handler: Handler) -> None:
        """`pattern` is a regular expression matched against the whole path (without the query)."""
        self.routes.append((method.upper(), re.compile(f"^{pattern}$"), handler))

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def _dispatch(self, request: RecordedRequest) -> Response:
        for method, pattern, handler in self.routes:
            match = pattern.match(request.path)
            if method == request.method and match:
                request.match = match
                result = handler(request)
                if isinstance(result, tuple):
                    result = Response(*result)
                return result
        return Response(404, {"error": f"no fake route for {request.method} {request.path}"})

    def __enter__(self) -> FakeHTTPServer:
        fake = self

        class RequestHandler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _handle(self):
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                request = RecordedRequest(
                    method=self.command,
                    path=parts.path,
                    query=parse_qs(parts.query),
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=self.rfile.read(length) if length else b"",
                )
                fake.requests.append(request)
                response = fake._dispatch(request)
                body = response.body
                headers = dict(response.headers)
                if isinstance(body, dict | list):
                    body = json.dumps(body).encode()
                    headers.setdefault("Content-Type", "application/json")
                elif isinstance(body, str):
                    body = body.encode()
                body = body or b""
                self.send_response(response.status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _handle

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), RequestHandler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()


class FakePlatform:
    """A platform's fake on its own FakeHTTPServer, started and stopped as a context manager."""

    def __init__(self):
        self.server = FakeHTTPServer()
        self.next_responses: list[Response] = []  # answered instead, in order, by the handlers that look

    def __enter__(self) -> Self:
        self.server.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self.server.__exit__(*exc)

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def requests(self) -> list[RecordedRequest]:
        return self.server.requests
