"""Bad input gets a 4xx with a reason, never a 500: every page a signed-in admin can reach (crawled from the
home page, as a user would find them), every query parameter its links and forms use, and every field of its
forms, sent odd values by hypothesis — Unicode digits, huge numbers, NUL bytes, very long strings, ids that
are no number, impossible dates. Every URL pattern is also called with out-of-range ids and odd slugs.

(The REST API has its own property-based test against its OpenAPI schema: tests/api/test_schemathesis.py.)
"""

import inspect
import re
import time
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.db import transaction
from django.urls import Resolver404, URLPattern, URLResolver, get_resolver, resolve
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.accounts.models import Role
from apps.connectors.kinds import ChannelKind
from apps.connectors.webhook.connector import sign
from tests.api.conftest import organisation_data
from tests.factories import BrandFactory, ChannelFactory, OrganizationFactory, membership_create

pytestmark = pytest.mark.django_db

ODD_VALUES = [
    "²",
    "٣",
    "①",
    "1²",
    "-1",
    "0",
    "1e3",
    "3.5",
    "99999999999999999999999999",
    str(2**63),
    "\x00",
    "a\x00b",
    "x" * 5000,
    "null",
    "[]",
    "{}",
    "../../etc/passwd",
    "2026-02-30",
    "9999-12-31",
    "0000-00-00",
    "2026-13-01T25:61:00",
    "NaN",
    "inf",
    " ",
    "",
    "'\"<>",
    "💥",
    "%00",
]
ODD = st.one_of(
    st.sampled_from(ODD_VALUES),
    st.text(max_size=40),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
)
# Query parameters every page is also tried with, found or not in its links (pages read more than they show).
COMMON_PARAMETERS = ["page", "brand", "channel", "since", "until", "range", "q", "status", "sort", "view"]
SKIPPED = ("/admin/", "/api/", "/static/", "/logout/")
# POSTs that would connect to the configured host of a channel or webhook endpoint (outside 127.0.0.1).
NO_POST = re.compile(r"/test/$")
MAX_PAGES = 120


class _Page(HTMLParser):
    """The internal URLs a page links to (href, hx-get) and its forms with their field names."""

    def __init__(self):
        super().__init__()
        self.links: set[str] = set()
        self.forms: list[dict] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for name in ("href", "hx-get", "hx-post"):
            value = attrs.get(name)
            if value and value.startswith("/") and not value.startswith("//"):
                self.links.add(value)
        if tag == "form":
            posted = attrs.get("hx-post") or (attrs.get("method") or "").lower() == "post"
            method = "post" if posted else "get"
            action = attrs.get("hx-post") or attrs.get("action") or ""
            self.forms.append({"method": method, "action": action, "fields": set()})
        elif tag in {"input", "select", "textarea", "button"} and self.forms and attrs.get("name"):
            self.forms[-1]["fields"].add(attrs["name"])


READS = re.compile(r"""\b(?:GET|POST|params|query_params)(?:\.get(?:list)?\(\s*|\[)["'](\w+)["']""")


def _read_parameters(path: str) -> set[str]:
    """The parameter names the view's module reads from the request (`request.POST.get("organization")`):
    fields a view takes that no page's form shows."""
    try:
        match = resolve(path)
    except Resolver404:
        return set()
    view = getattr(match.func, "view_class", None) or inspect.unwrap(match.func)
    module = inspect.getmodule(view)
    return set(READS.findall(inspect.getsource(module))) if module else set()


def _parse(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    return page


def _request(client, method: str, path: str, data: dict, failures: list):
    """One request in a savepoint of its own (a database error must not poison the next ones); a 500 or an
    exception is recorded with what caused it."""
    try:
        with transaction.atomic():
            response = getattr(client, method)(path, data)
    except Exception as error:  # the test client re-raises the view's exception
        failures.append((method.upper(), path, data, f"{type(error).__name__}: {error}"[:300]))
        return None
    if response.status_code >= 500:
        failures.append((method.upper(), path, data, response.status_code))
    return response


def _crawl(client, start: str) -> dict[str, _Page]:
    seen: dict[str, _Page] = {}
    queue = [start]
    while queue and len(seen) < MAX_PAGES:
        url = queue.pop(0)
        path = urlsplit(url).path
        if url in seen or path.startswith(SKIPPED) or path.endswith(".csv"):
            continue
        response = client.get(url)
        assert response.status_code < 500, (url, response.status_code)
        if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
            seen[url] = _Page()
            if response.status_code in (301, 302) and response["Location"].startswith("/"):
                queue.append(response["Location"])
            continue
        seen[url] = page = _parse(response.content.decode())
        queue.extend(sorted(link for link in page.links if link not in seen))
    return seen


def _fuzz(client, method: str, path: str, names: list[str], failures: list, examples: int):
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(values=st.fixed_dictionaries({name: ODD for name in names}))
    def probe(values):
        _request(client, method, path, values, failures)

    probe()


def _world(org, brand):
    data = organisation_data(org, brand, prefix="Fuzz")
    data["webhook_channel"] = ChannelFactory(
        brand=brand, kind=ChannelKind.WEBHOOK, credentials={"signing_secret": "whsec-fuzz"}
    )
    data["other_brand"] = BrandFactory(organization=org, name="Fuzz B2")
    data["admin"] = membership_create(org, Role.ADMIN, username="fuzz-admin")
    # A member of two organisations: the header's organisation switcher is one of the forms.
    data["admin"].user.memberships.create(organization=OrganizationFactory(name="Fuzz two"), role=Role.ADMIN)
    return data


def test_no_page_answers_odd_input_with_a_server_error(client, org_a, brand_a):
    world = _world(org_a, brand_a)
    client.force_login(world["admin"].user)
    started = time.monotonic()
    pages = _crawl(client, "/")
    assert len(pages) > 30  # the crawl found the product, not just a login page
    failures: list = []

    for url, page in pages.items():
        path = urlsplit(url).path
        names = {name for name, _ in parse_qsl(urlsplit(url).query, keep_blank_values=True)}
        for link in page.links:
            if urlsplit(link).path == path:
                names |= {name for name, _ in parse_qsl(urlsplit(link).query, keep_blank_values=True)}
        for form in page.forms:
            if form["method"] == "get" and urlsplit(form["action"]).path in ("", path):
                names |= form["fields"]
        names |= _read_parameters(path)
        _fuzz(client, "get", path, sorted(names | set(COMMON_PARAMETERS) | {"next"}), failures, examples=6)
        for form in page.forms:
            action = urlsplit(form["action"]).path or path
            if form["method"] != "post" or NO_POST.search(action) or action.startswith(SKIPPED):
                continue
            fields = (form["fields"] - {"csrfmiddlewaretoken"}) | _read_parameters(action)
            _fuzz(client, "post", action, sorted(fields) or ["x"], failures, examples=6)

    # Every URL pattern, reached or not by the crawl (a POST-only action), with ids out of any range or of
    # no object, odd slugs and tokens, and odd values for what its view reads.
    for pattern in _patterns(get_resolver().url_patterns):
        if pattern.startswith(("admin/", "api/", "health/")):  # health answers 503 by design without workers
            continue
        for odd in ("99999999999999999999999", "1"):
            path = "/" + re.sub(r"<int:\w+>", odd, pattern)
            path = re.sub(r"<(slug|str):\w+>", "x²\u202e", path)
            names = sorted(_read_parameters(path) | {"x"})
            for method in ("get", "post"):
                if method == "post" and (NO_POST.search(path) or path == "/logout/"):
                    continue
                _request(client, method, path, {}, failures)
                _fuzz(client, method, path, names, failures, examples=3)

    assert failures == [], "\n".join(map(repr, failures[:30]))
    forms = sum(len(page.forms) for page in pages.values())
    print(f"fuzzed {len(pages)} pages and {forms} forms in {time.monotonic() - started:.0f} s")


def _patterns(patterns, prefix=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _patterns(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern)


@pytest.mark.parametrize("timestamp", ["²", "1²", "٣٣٣", "①", "9" * 40, "-5", " "])
def test_an_odd_webhook_timestamp_is_refused_with_a_reason(client, brand_a, timestamp):
    channel = ChannelFactory(brand=brand_a, kind=ChannelKind.WEBHOOK, credentials={"signing_secret": "s"})
    body = b'{"id": "1", "text": "hi", "author": {"id": "u"}}'
    response = client.post(
        f"/hooks/{channel.webhook_token}/",
        body,
        content_type="application/json",
        HTTP_X_CXM_TIMESTAMP=timestamp,
        HTTP_X_CXM_SIGNATURE=sign("s", timestamp, body),
    )
    assert response.status_code in (401, 403) and "X-CXM-Timestamp" in response.json()["error"]


@pytest.mark.parametrize("organization", ["abc", "²", "", "99999999999999999999999", "1 OR 1=1"])
def test_switching_to_an_odd_organisation_is_a_400(client, org_a, organization):
    member = membership_create(org_a, Role.ADMIN)
    client.force_login(member.user)
    response = client.post("/org/switch/", {"organization": organization})
    assert response.status_code == 400 and b"organization" in response.content
