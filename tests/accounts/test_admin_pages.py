"""Every model has a working Django admin, for platform operators and for organisation admins."""

import pytest
from django.contrib import admin
from django.urls import reverse

from apps.accounts.models import Role
from tests.factories import ConversationFactory, IdentityFactory, MessageFactory

pytestmark = pytest.mark.django_db

CXM_APPS = {
    "accounts", "customers", "connectors", "conversations", "ingestion", "core", "listening",
    "classification", "replies", "notifications",
}  # fmt: skip


def _cxm_models():
    return [model for model in admin.site._registry if model._meta.app_label in CXM_APPS]


def test_every_cxm_model_is_registered():
    from django.apps import apps

    registered = set(admin.site._registry)
    missing = [m for m in apps.get_models() if m._meta.app_label in CXM_APPS and m not in registered]
    assert not missing


@pytest.mark.parametrize("as_superuser", [False, True])
def test_changelists_and_add_forms_open(org_a, brand_a, make_membership, login, as_superuser):
    message = MessageFactory(conversation=ConversationFactory(channel__brand=brand_a))
    IdentityFactory(customer=message.conversation.customer)
    membership = make_membership(org_a, Role.ADMIN)
    if as_superuser:
        membership.user.is_superuser = True
        membership.user.save()
    client = login(membership)
    for model in _cxm_models():
        info = model._meta.app_label, model._meta.model_name
        changelist = client.get(reverse("admin:{}_{}_changelist".format(*info)))
        assert changelist.status_code == 200, info
        if admin.site._registry[model].has_add_permission(changelist.wsgi_request):
            assert client.get(reverse("admin:{}_{}_add".format(*info))).status_code == 200, info


def test_org_admin_adds_a_brand_into_their_own_organisation(org_a, make_membership, login):
    client = login(make_membership(org_a, Role.ADMIN))
    response = client.post(
        reverse("admin:accounts_brand_add"),
        {
            "name": "Fresh Brand",
            "slug": "fresh-brand",
            "handles": "@fresh",
            "keywords": "Fresh",
            "competitors": "",
            "category_terms": "",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    from apps.accounts.models import Brand

    assert Brand.objects.get(slug="fresh-brand").organization == org_a
