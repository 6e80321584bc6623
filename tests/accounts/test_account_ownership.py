"""Accounts are not owned by one tenant. An organisation admin manages memberships in their organisation
(invite, role, brands, removal) and never the password, email or existence of someone who also belongs to
another organisation; people choose their own password through their own email (a real SMTP server)."""

import re

import pytest
from django.urls import reverse

from apps.accounts.models import Membership, Role, User
from apps.core.models import AuditEvent
from tests.factories import PASSWORD, BrandFactory, membership_create
from tests.fakes.mailserver import SMTPServer

pytestmark = pytest.mark.django_db


@pytest.fixture
def smtp(settings):
    with SMTPServer() as server:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", server.port
        settings.EMAIL_USE_TLS = False
        yield server


@pytest.fixture
def people(org_a, org_b):
    """`shared` belongs to both organisations, `own` only to B; each organisation has its admin."""
    shared = membership_create(org_a, Role.COMMUNITY_MANAGER, username="shared").user
    shared.email = "shared@example.test"
    shared.save()
    membership_create(org_b, Role.COMMUNITY_MANAGER, username="shared")
    return {
        "shared": shared,
        "own": membership_create(org_b, Role.MARKETER, username="own").user,
        "admin_a": membership_create(org_a, Role.ADMIN, username="admin.a"),
        "admin_b": membership_create(org_b, Role.ADMIN, username="admin.b"),
    }


def _logs_in(username: str, password: str) -> bool:
    from django.test import Client

    return Client().login(username=username, password=password)


def test_another_organisations_admin_cannot_take_over_a_shared_account(people, login):
    """The reported attack: B's admin sets the password of someone who is also in A, logs in as them."""
    client = login(people["admin_b"])
    shared = people["shared"]
    password_url = reverse("admin:auth_user_password_change", args=[shared.pk])
    assert client.get(password_url).status_code == 403
    taken = client.post(password_url, {"password1": "taken-over-123", "password2": "taken-over-123"})
    assert taken.status_code == 403
    changed = client.post(
        reverse("admin:accounts_user_change", args=[shared.pk]),
        {"username": "shared", "email": "attacker@evil.test", "first_name": "", "last_name": ""},
    )
    assert changed.status_code == 403
    deleted = client.post(reverse("admin:accounts_user_delete", args=[shared.pk]), {"post": "yes"})
    assert deleted.status_code == 403
    bulk = client.post(
        reverse("admin:accounts_user_changelist"),
        {"action": "delete_selected", "_selected_action": [shared.pk], "post": "yes"},
    )
    assert bulk.status_code in (200, 302)
    shared.refresh_from_db()
    assert shared.email == "shared@example.test"
    assert _logs_in("shared", PASSWORD) and not _logs_in("shared", "taken-over-123")
    # B's admin still sees the person (read-only) among B's members.
    page = client.get(reverse("admin:accounts_user_change", args=[shared.pk]))
    assert page.status_code == 200 and "attacker" not in page.content.decode()


def test_no_admin_sets_a_password_not_even_of_their_own_people(people, login):
    client = login(people["admin_b"])
    own = people["own"]
    url = reverse("admin:auth_user_password_change", args=[own.pk])
    assert (
        client.post(url, {"password1": "chosen-by-admin-1", "password2": "chosen-by-admin-1"}).status_code
        == 403
    )
    assert not _logs_in("own", "chosen-by-admin-1")
    # Someone who belongs only to B is B's to rename or remove.
    changed = client.post(
        reverse("admin:accounts_user_change", args=[own.pk]),
        {
            "username": "own",
            "email": "own@b.test",
            "first_name": "Own",
            "last_name": "Person",
            "signature": "",
        },
    )
    assert changed.status_code == 302, changed.content.decode()[:3000]
    own.refresh_from_db()
    assert own.email == "own@b.test"


def test_admins_manage_memberships_of_their_organisation_with_an_audit_trail(people, org_a, org_b, login):
    client = login(people["admin_b"])
    shared_in_b = Membership.objects.get(user=people["shared"], organization=org_b)
    brand = BrandFactory(organization=org_b)
    response = client.post(
        reverse("admin:accounts_membership_change", args=[shared_in_b.pk]),
        {"role": Role.ADMIN, "brands": [brand.pk]},
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    shared_in_b.refresh_from_db()
    assert shared_in_b.role == Role.ADMIN and shared_in_b.brand_ids == [brand.pk]
    # A's membership is A's business.
    shared_in_a = Membership.objects.get(user=people["shared"], organization=org_a)
    assert client.get(reverse("admin:accounts_membership_change", args=[shared_in_a.pk])).status_code == 302
    assert shared_in_a.role == Role.COMMUNITY_MANAGER

    removed = client.post(reverse("admin:accounts_membership_delete", args=[shared_in_b.pk]), {"post": "yes"})
    assert removed.status_code == 302
    assert not Membership.objects.filter(pk=shared_in_b.pk).exists()
    assert Membership.objects.filter(pk=shared_in_a.pk).exists() and _logs_in("shared", PASSWORD)
    actions = list(AuditEvent.objects.filter(organization=org_b).values_list("action", "actor__username"))
    assert ("membership.updated", "admin.b") in actions and ("membership.removed", "admin.b") in actions


def test_inviting_someone_new_emails_them_a_link_to_choose_their_password(
    people, org_b, login, smtp, django_capture_on_commit_callbacks
):
    client = login(people["admin_b"])
    with django_capture_on_commit_callbacks(execute=True):  # the email leaves once the invitation commits
        response = client.post(
            reverse("admin:accounts_membership_add"),
            {"email": "newcomer@example.test", "role": Role.MARKETER},
        )
    assert response.status_code == 302, response.content.decode()[:3000]
    newcomer = User.objects.get(email="newcomer@example.test")
    assert not newcomer.has_usable_password()
    assert newcomer.memberships.get().organization == org_b
    assert AuditEvent.objects.filter(organization=org_b, action="membership.created").exists()
    [mail] = smtp.messages
    assert mail.rcpt_tos == ["newcomer@example.test"]
    link = re.search(r"https?://[^/\s]+(/password/reset/\S+/)", mail.message.get_content()).group(1)
    _choose_password(link, "the newcomer's own choice")
    assert _logs_in(newcomer.username, "the newcomer's own choice")


def test_inviting_an_existing_account_adds_a_membership_and_nothing_else(people, org_b, login, smtp):
    """Inviting A's person into B gives them a role in B; B's admin gains no power over the account."""
    client = login(people["admin_b"])
    Membership.objects.filter(user=people["shared"], organization=org_b).delete()
    response = client.post(
        reverse("admin:accounts_membership_add"),
        {"email": "SHARED@example.test", "role": Role.COMMUNITY_MANAGER},
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    assert people["shared"].memberships.count() == 2 and not smtp.messages
    assert _logs_in("shared", PASSWORD)


def test_people_reset_their_own_password_through_their_own_email(people, client, smtp):
    assert client.get(reverse("login")).content.decode().count(reverse("password_reset")) == 1
    response = client.post(reverse("password_reset"), {"email": "shared@example.test"})
    assert response.status_code == 302
    [mail] = smtp.messages
    assert mail.rcpt_tos == ["shared@example.test"]
    link = re.search(r"https?://[^/\s]+(/password/reset/\S+/)", mail.message.get_content()).group(1)
    _choose_password(link, "a brand new passphrase")
    assert _logs_in("shared", "a brand new passphrase") and not _logs_in("shared", PASSWORD)


def _choose_password(link: str, password: str) -> None:
    from django.test import Client

    browser = Client()
    form_page = browser.get(link, follow=True)
    assert form_page.status_code == 200
    done = browser.post(
        form_page.redirect_chain[-1][0], {"new_password1": password, "new_password2": password}
    )
    assert done.status_code == 302 and done["Location"] == reverse("password_reset_complete")


def test_an_admin_elsewhere_is_no_admin_here(org_a, org_b, login):
    """Django's model permissions are global (the organisation admins' group): in an organisation where the
    person is an agent, the admin's pages must refuse them all the same."""
    membership_create(org_b, Role.ADMIN, username="double")
    agent_here = membership_create(org_a, Role.COMMUNITY_MANAGER, username="double")
    client = login(agent_here)
    session = client.session
    session["cxm_organization_id"] = org_a.pk
    session.save()
    for url in (
        reverse("admin:accounts_organization_change", args=[org_a.pk]),
        reverse("admin:accounts_organization_changelist"),
        reverse("admin:accounts_user_changelist"),
        reverse("admin:accounts_membership_changelist"),
    ):
        assert client.get(url).status_code in (302, 403), url
    renamed = client.post(
        reverse("admin:accounts_organization_change", args=[org_a.pk]),
        {"name": "Hijacked", "slug": org_a.slug},
    )
    assert renamed.status_code in (302, 403)
    org_a.refresh_from_db()
    assert org_a.name == "Org A"


def test_an_admin_limited_to_some_brands_gives_only_those(org_a, login):
    """As for API tokens: an admin of some brands cannot hand out the others, to a colleague or themself."""
    own, other = BrandFactory(organization=org_a), BrandFactory(organization=org_a)
    limited_admin = membership_create(org_a, Role.ADMIN, brands=[own], username="limited.admin")
    colleague = membership_create(org_a, Role.COMMUNITY_MANAGER, brands=[own])
    everywhere = membership_create(org_a, Role.COMMUNITY_MANAGER)
    client = login(limited_admin)
    # Every brand (an empty list), or brands they lack: refused (the form offers only their own brands).
    for membership, brands in ((limited_admin, []), (colleague, []), (colleague, [own.pk, other.pk])):
        url = reverse("admin:accounts_membership_change", args=[membership.pk])
        response = client.post(url, {"role": Role.COMMUNITY_MANAGER, "brands": brands}, follow=True)
        page = response.content.decode()
        assert "brands you work on yourself" in page or "Select a valid choice" in page
        assert Membership.objects.get(pk=membership.pk).brand_ids == [own.pk]
    assert (
        client.post(
            reverse("admin:accounts_membership_delete", args=[everywhere.pk]), {"post": "yes"}
        ).status_code
        == 302
    )
    bulk = client.post(
        reverse("admin:accounts_membership_changelist"),
        {"action": "delete_selected", "_selected_action": [colleague.pk, everywhere.pk], "post": "yes"},
        follow=True,
    )
    assert bulk.status_code == 200 and "works on brands you do not" in bulk.content.decode()
    assert Membership.objects.filter(pk__in=[everywhere.pk, colleague.pk]).count() == 2
    invited = client.post(
        reverse("admin:accounts_membership_add"),
        {"email": "new@example.test", "role": Role.MARKETER},
        follow=True,
    )
    assert "brands you work on yourself" in invited.content.decode()
    assert not User.objects.filter(email="new@example.test").exists()
    limited_admin.refresh_from_db()
    assert limited_admin.role == Role.ADMIN and limited_admin.brand_ids == [own.pk]
    # Within their brands, they manage their colleagues as any admin.
    url = reverse("admin:accounts_membership_change", args=[colleague.pk])
    assert client.post(url, {"role": Role.MARKETER, "brands": [own.pk]}).status_code == 302
