"""Guessing is limited: failed sign-ins per account and per address, failed API keys per address. Past a
limit the right password (or key) is refused too, with a clear message (a form error; 429 on the API), and
the lock is written to the audit log of the account's organisations."""

import json
import re
import urllib.error
import urllib.request

import pytest
from django.urls import reverse

from apps.accounts.models import Role
from apps.accounts.signin import LOGIN_PER_ACCOUNT, LOGIN_PER_ADDRESS
from apps.api.services import API_AUTH_PER_ADDRESS, api_token_create, api_token_revoke
from apps.core.models import AuditEvent
from tests.connectors.livechat.test_widget_browser import asgi_server, off_loop  # noqa: F401, F811 (fixture)
from tests.factories import PASSWORD, membership_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def forget(request):
    """Subjects whose failure counts the test leaves behind, reset afterwards."""
    subjects = []
    yield subjects.append
    for limit, subject in subjects:
        limit.reset(subject)


def _log_in(client, username, password, address):
    return client.post(
        reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address, follow=False
    )


def test_sixty_wrong_passwords_then_the_right_one_is_refused(client, org_a, org_b, forget):
    member = membership_create(org_a, Role.COMMUNITY_MANAGER, username="ana")
    membership_create(org_b, Role.MARKETER, username="someone")
    member.user.memberships.create(organization=org_b, role=Role.MARKETER)
    forget((LOGIN_PER_ACCOUNT, "ana"))
    for n in range(60):
        # From many addresses: the account's own limit locks it, whatever the address.
        address = f"127.0.1.{n}"
        forget((LOGIN_PER_ADDRESS, address))
        response = _log_in(client, "ana", f"guess-{n}", address)
        assert response.status_code == 200 and "_auth_user_id" not in client.session

    response = _log_in(client, "ANA", PASSWORD, "127.0.2.1")
    forget((LOGIN_PER_ADDRESS, "127.0.2.1"))
    assert response.status_code == 200 and "_auth_user_id" not in client.session
    page = response.content.decode()
    assert "Too many failed sign-ins for this account or from this address" in page
    assert re.search(r"try again in \d+ minute\(s\)", page)
    # Each of the account's organisations is told, once.
    locked = AuditEvent.objects.filter(action="login.locked", target_id=str(member.user.pk))
    assert sorted(locked.values_list("organization_id", flat=True)) == sorted([org_a.pk, org_b.pk])
    assert locked.first().data["locked"] == ["account"]

    # Another account is not locked by it.
    other = membership_create(org_a, Role.COMMUNITY_MANAGER, username="bruno")
    forget((LOGIN_PER_ACCOUNT, "bruno"))
    assert _log_in(client, "bruno", PASSWORD, "127.0.2.2").status_code == 302
    forget((LOGIN_PER_ADDRESS, "127.0.2.2"))
    assert client.session["_auth_user_id"] == str(other.user.pk)


def test_one_address_guessing_many_accounts_is_locked_out(client, org_a, forget):
    membership_create(org_a, Role.COMMUNITY_MANAGER, username="carla")
    address = "127.0.3.1"
    forget((LOGIN_PER_ADDRESS, address))
    for n in range(LOGIN_PER_ADDRESS.limit):
        forget((LOGIN_PER_ACCOUNT, f"user-{n}"))
        _log_in(client, f"user-{n}", "guess", address)
    response = _log_in(client, "carla", PASSWORD, address)
    assert response.status_code == 200 and "Too many failed sign-ins" in response.content.decode()
    assert _log_in(client, "carla", PASSWORD, "127.0.3.2").status_code == 302  # from elsewhere: fine
    forget((LOGIN_PER_ADDRESS, "127.0.3.2"))


def test_the_admin_login_has_the_same_limit(client, org_a, forget):
    member = membership_create(org_a, Role.ADMIN, username="dora")
    forget((LOGIN_PER_ACCOUNT, "dora"))
    forget((LOGIN_PER_ADDRESS, "127.0.0.1"))
    for n in range(LOGIN_PER_ACCOUNT.limit):
        client.post("/admin/login/", {"username": "dora", "password": f"guess-{n}"})
    response = client.post("/admin/login/", {"username": "dora", "password": PASSWORD})
    assert response.status_code == 200 and "Too many failed sign-ins" in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert member.user.is_staff


def _api_get(url, key):
    request = urllib.request.Request(
        f"{url}/api/v1/conversations/", headers={"Authorization": f"Bearer {key}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, error.headers, json.loads(error.read())


@pytest.mark.django_db(transaction=True)
def test_fifty_wrong_api_keys_get_429_on_the_real_server(asgi_server, org_a):  # noqa: F811
    """Through uvicorn: the address is the server's own view of the caller (127.0.0.1)."""
    member = off_loop(membership_create, org_a, Role.ADMIN, username="integration")
    token, key = off_loop(api_token_create, membership=member, name="CRM sync", issuer=member)
    assert _api_get(asgi_server.url, key)[0] == 200
    off_loop(api_token_revoke, token=token, actor=member.user)  # a leaked, revoked key is being tried
    limit = API_AUTH_PER_ADDRESS.limit
    statuses = [_api_get(asgi_server.url, key if n == limit - 1 else f"cxm_guess{n}")[0] for n in range(50)]
    assert statuses[:limit] == [401] * limit and set(statuses[limit:]) == {429}
    status, headers, body = _api_get(asgi_server.url, "cxm_another-guess")
    assert status == 429 and int(headers["Retry-After"]) > 0
    assert "too many failed API authentications" in body["detail"]
    # The organisation whose revoked key made the lock is told.
    events = off_loop(
        lambda: list(
            AuditEvent.objects.filter(action="api_token.locked").values_list("organization_id", "target_id")
        )
    )
    assert events == [(org_a.pk, str(token.pk))]
