"""State changes of API tokens: made (the key shown once), used, revoked."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from apps.accounts.models import Membership
from apps.core.audit import audit_record

from .models import ApiToken

KEY_PREFIX = "cxm_"
PREFIX_SHOWN = 12
# A token's `last_used_at` is written at most this often: not one UPDATE per API call.
LAST_USED_PRECISION = timedelta(minutes=1)


class TokenError(ValueError):
    pass


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _reaches_beyond(membership: Membership, issuer: Membership) -> bool:
    """Whether a token of `membership` would see brands that `issuer` does not: an admin limited to some
    brands cannot give themselves the rest through someone else's token."""
    from apps.accounts.permissions import brands_within

    if membership.organization_id != issuer.organization_id:
        return True
    return not brands_within(membership.brand_ids, issuer)


@transaction.atomic
def api_token_create(*, membership: Membership, name: str, issuer: Membership) -> tuple[ApiToken, str]:
    """A new token acting as `membership`, made by `issuer` (an admin, or the member themselves); returns it
    and its key, which is not stored and never shown again."""
    name = name.strip()
    if not name or len(name) > 120:
        raise TokenError("name the token (1 to 120 characters): what it is for")
    if _reaches_beyond(membership, issuer):
        raise TokenError(f"{membership.user.username} sees brands you do not: ask an admin of every brand")
    actor = issuer.user
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        organization_id=membership.organization_id,
        membership=membership,
        name=name,
        prefix=key[:PREFIX_SHOWN],
        key_hash=key_hash(key),
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    audit_record(
        organization=membership.organization,
        actor=actor,
        action="api_token.created",
        target=token,
        data={"name": name, "member": membership.user.username, "role": membership.role},
    )
    return token, key


@transaction.atomic
def api_token_revoke(*, token: ApiToken, actor) -> ApiToken:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit_record(
            organization=token.organization,
            actor=actor,
            action="api_token.revoked",
            target=token,
            data={"name": token.name},
        )
    return token


def api_token_authenticate(key: str) -> ApiToken | None:
    """The active token with this key, its membership (user, organisation) loaded; None for any other key."""
    if not key.startswith(KEY_PREFIX) or len(key) > 200:
        return None
    token = (
        ApiToken.objects.select_related("membership__user", "membership__organization")
        .filter(key_hash=key_hash(key), revoked_at=None)
        .first()
    )
    if token is None or not token.membership.user.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_PRECISION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token
