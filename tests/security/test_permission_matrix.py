"""Every URL pattern of the resolver, asked by every role, through Django's full stack (middleware, views,
the real database): the outcome must be the one permission_matrix.py gives. A pattern without a row fails.

Each request runs in a savepoint that is rolled back, so that one URL's POST (an erasure, a revocation)
does not change what the next one finds. Pages shown to someone outside organisation A must not contain A's
words; pages shown to the brand-limited agent must not contain the other brand's conversation.
"""

from __future__ import annotations

import fnmatch
import socket
from http.cookies import SimpleCookie

import pytest
from django.contrib import admin
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.factories import PASSWORD

from .permission_matrix import PUBLIC, URLS
from .world import ADMIN_OBJECTS, MARK_A, MARK_OTHER_BRAND, build_world

pytestmark = pytest.mark.django_db

ROLES = ["admin", "agent", "limited_agent", "marketer", "other_admin", "anonymous"]
LOGIN_PAGES = ("/login/", "/admin/login/")
# Words of organisation A's other brand that only its conversation's pages carry.
OTHER_BRAND_WORDS = (f"{MARK_OTHER_BRAND} my order never arrived", f"{MARK_OTHER_BRAND} conversation")


def url_patterns(patterns=None, prefix="", namespace=""):
    """(key, route, pattern) of every URL pattern, walking includes: key is `namespace:name`, or the
    route for a pattern without a name."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            inner = namespace + (f"{pattern.namespace}:" if pattern.namespace else "")
            yield from url_patterns(pattern.url_patterns, prefix + str(pattern.pattern), inner)
        elif isinstance(pattern, URLPattern):
            route = prefix + str(pattern.pattern)
            yield (f"{namespace}{pattern.name}" if pattern.name else route), route, pattern


def _admin_model_key(key: str) -> str | None:
    """`admin:<app>_<model>_<page>` or `admin/<app>/<model>/...` → "app.model" of a registered model."""
    for model in admin.site._registry:
        app, name = model._meta.app_label, model._meta.model_name
        if key.startswith((f"admin:{app}_{name}_", f"admin/{app}/{name}/")):
            return f"{app}.{name}"
    if key == "admin:auth_user_password_change":
        return "accounts.user"
    return None


def row_for(key: str):
    if key in URLS:
        return URLS[key]
    wildcard = [pattern for pattern in URLS if "*" in pattern and fnmatch.fnmatchcase(key, pattern)]
    return URLS[max(wildcard, key=len)] if wildcard else None


def _value(spec: str, objects: dict, key: str):
    if spec.startswith("="):
        return spec[1:]
    if spec == "@admin":
        return objects[ADMIN_OBJECTS[_admin_model_key(key)]].pk
    name, _, attribute = spec.partition(".")
    value = objects[name]
    return getattr(value, attribute) if attribute else value.pk


def build_url(key: str, route: str, pattern: URLPattern, row, objects: dict) -> str:
    wanted = set(pattern.pattern.regex.groupindex)
    kwargs = {name: _value(spec, objects, key) for name, spec in row.kwargs.items() if name in wanted}
    if "format" in wanted:
        kwargs["format"] = "json"
    missing = wanted - set(kwargs)
    assert not missing, f"{key}: the table gives no value for {sorted(missing)}"
    if pattern.name:
        return reverse(key, kwargs=kwargs)
    url = "/" + route
    for name, value in kwargs.items():
        url = url.replace(f"<path:{name}>", str(value)).replace(f"(?P<{name}>.*)$", str(value))
    return url


def outcome(response) -> str:
    """ "allowed", "denied" or "error: ..." for one response."""
    status = response.status_code
    location = response.get("Location", "")
    if status >= 500:
        return f"error: {status}"
    if status in (401, 403, 404):
        return "denied"
    if 300 <= status < 400 and location.split("?")[0].endswith(LOGIN_PAGES):
        return "denied"
    if 300 <= status < 400 and location == reverse("admin:index"):
        return "denied"  # Django admin's answer to an object it does not show: "does not exist"
    if status == 405:
        return "error: 405 (the table's method is wrong)"
    if status < 400 or status in (400, 409, 422):
        return "allowed"  # a 4xx about the empty form comes only once the view let the caller in
    return f"error: {status}"


@pytest.fixture
def world(org_a, org_b):
    built = build_world(org_a, org_b)
    # Connection tests of the world's email channels go to a closed port of this machine, nowhere else.
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    for objects in (built["objects"], built["own_brand_objects"]):
        channel = objects["channel"]
        channel.settings = {
            "imap_host": "127.0.0.1",
            "imap_port": port,
            "smtp_host": "127.0.0.1",
            "smtp_port": port,
        }
        channel.save()
    return built


def test_every_url_pattern_has_a_row():
    missing = [key for key, _, _ in url_patterns() if row_for(key) is None]
    assert not missing, f"add these URL patterns to tests/security/permission_matrix.py: {missing}"


@pytest.mark.parametrize("role", ROLES)
def test_every_url_answers_each_role_as_the_table_says(world, role):
    wrong = _ask_every_url(world, role, world["objects"], answered_as=role)
    assert not wrong, f"{len(wrong)} outcomes differ from the table:\n" + "\n".join(wrong)


def test_the_brand_limited_agent_is_answered_as_the_agent_on_their_own_brand(world):
    """Refusing the limited agent everything would pass the test above: on their own brand's objects, they
    get what the agent (of every brand) gets."""
    wrong = _ask_every_url(world, "limited_agent", world["own_brand_objects"], answered_as="agent")
    assert not wrong, f"{len(wrong)} outcomes differ from the table:\n" + "\n".join(wrong)


def _ask_every_url(world, role: str, objects: dict, *, answered_as: str) -> list[str]:
    """Every URL asked by `role`, about `objects`; what differs from the table's answer for `answered_as`."""
    client = Client(raise_request_exception=False)  # a 500 is an outcome to report, with the others
    if role != "anonymous":
        assert client.login(username=world["members"][role].user.username, password=PASSWORD)
    wrong = []
    for key, route, pattern in url_patterns():
        row = row_for(key)
        if row is None:
            continue  # test_every_url_pattern_has_a_row names it
        url = build_url(key, route, pattern, row, objects)
        # A logout (or a login page) must not change who asks next.
        cookies = {name: morsel.value for name, morsel in client.cookies.items()}
        with transaction.atomic():
            response = client.generic(row.method, url)
            if row.follow and 300 <= response.status_code < 400 and outcome(response) == "allowed":
                response = client.get(response["Location"])
            # A streamed export reads the database as it is consumed: inside the savepoint.
            content = b"".join(response.streaming_content) if response.streaming else response.content
            transaction.set_rollback(True)
        client.cookies = SimpleCookie(cookies)
        got = outcome(response)
        if row.allowed == PUBLIC:
            # Anyone may ask; only a crash is wrong (health answers 503 while a component is down).
            expected = got if response.status_code != 500 else "any answer but a 500"
        else:
            expected = "allowed" if answered_as in row.allowed else "denied"
        if got != expected:
            wrong.append(
                f"{row.method} {url} ({key}): {got} (HTTP {response.status_code}), expected {expected}"
            )
            continue
        body = content.decode(errors="replace") if got == "allowed" else ""
        if role in ("other_admin", "anonymous") and MARK_A in body:
            wrong.append(f"{row.method} {url} ({key}): shows organisation A's data")
        if role == "limited_agent" and any(words in body for words in OTHER_BRAND_WORDS):
            wrong.append(f"{row.method} {url} ({key}): shows another brand's conversation")
    return wrong


def test_every_admin_of_a_tenant_model_is_scoped_to_the_organisation():
    """Django's admin shows an organisation admin only their organisation through TenantAdmin: a tenant
    model registered with a plain ModelAdmin would show them every organisation's rows; and every CXM
    model's admin asks for an admin membership where the user works now (OrganisationAdminOnly), since
    Django's model permissions are global."""
    from apps.accounts.admin_base import OrganisationAdminOnly, TenantAdmin
    from apps.core.models import TenantModel

    registry = admin.site._registry.items()
    unscoped = [
        m._meta.label for m, a in registry if issubclass(m, TenantModel) and not isinstance(a, TenantAdmin)
    ]
    ungated = [
        m._meta.label
        for m, a in registry
        if m._meta.app_label != "auth" and not isinstance(a, OrganisationAdminOnly)
    ]
    assert not unscoped and not ungated
