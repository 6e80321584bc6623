"""State changes of API tokens: made (the key shown once), used, revoked; failed keys counted (a limit)."""

from __future__ import annotations

import hashlib
import logging
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.accounts.models import Membership
from apps.core.audit import audit_record
from apps.core.throttle import FailureLimit

from .models import ApiToken

KEY_PREFIX = "cxm_"
PREFIX_SHOWN = 12
# A token's `last_used_at` is written at most this often: not one UPDATE per API call.
LAST_USED_PRECISION = timedelta(minutes=1)


logger = logging.getLogger(__name__)


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


API_AUTH_PER_ADDRESS = FailureLimit(
    "api-address", settings.CXM_API_AUTH_FAILURES_PER_ADDRESS, settings.CXM_FAILURE_WINDOW_SECONDS
)


def api_auth_retry_after(*, address: str) -> int | None:
    """Seconds until API keys from this address are looked at again, or None."""
    return API_AUTH_PER_ADDRESS.retry_after(address)


def api_auth_failure_record(*, address: str, key: str) -> None:
    """Count a failed API authentication. When it locks the address: logged, and, if the key was a real one
    (revoked, or its user deactivated), written to the audit log of the key's organisation."""
    if API_AUTH_PER_ADDRESS.failed(address) != API_AUTH_PER_ADDRESS.limit:
        return
    logger.warning("API authentication locked after repeated failures", extra={"address": address})
    token = ApiToken.objects.select_related("organization").filter(key_hash=key_hash(key)).first()
    if key and token is not None:
        audit_record(
            organization=token.organization,
            actor=None,
            action="api_token.locked",
            target=token,
            data={"address": address, "failures": API_AUTH_PER_ADDRESS.limit},
        )
