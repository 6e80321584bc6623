"""Signing in, with a limit on guessing: failed sign-ins are counted per account and per address
(apps.core.throttle), and past the limit the right password is refused too until the window ends.

The same form serves the login page and Django's admin login. The moment an account gets locked is written
to the audit log of every organisation the account belongs to (their admins see that someone guessed), and
logged; guesses at names that are no account are only logged (they belong to no organisation).
"""

from __future__ import annotations

import logging
import math

from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError

from apps.core.audit import audit_record
from apps.core.throttle import FailureLimit, client_address

logger = logging.getLogger(__name__)

LOGIN_PER_ACCOUNT = FailureLimit(
    "login-account", settings.CXM_LOGIN_FAILURES_PER_ACCOUNT, settings.CXM_FAILURE_WINDOW_SECONDS
)
LOGIN_PER_ADDRESS = FailureLimit(
    "login-address", settings.CXM_LOGIN_FAILURES_PER_ADDRESS, settings.CXM_FAILURE_WINDOW_SECONDS
)


def login_retry_after(*, username: str, address: str) -> int | None:
    """Seconds until this account may be tried from this address again, or None."""
    waits = [LOGIN_PER_ACCOUNT.retry_after(username), LOGIN_PER_ADDRESS.retry_after(address)]
    return max((wait for wait in waits if wait), default=None)


def login_failure_record(*, username: str, address: str) -> None:
    """Count a failed sign-in; when it locks the account or the address, say so in the audit log and logs."""
    account_failures = LOGIN_PER_ACCOUNT.failed(username)
    address_failures = LOGIN_PER_ADDRESS.failed(address)
    locked = [
        scope
        for scope, failures, limit in (
            ("account", account_failures, LOGIN_PER_ACCOUNT),
            ("address", address_failures, LOGIN_PER_ADDRESS),
        )
        if failures == limit.limit
    ]
    if not locked:
        return
    logger.warning(
        "sign-in locked after repeated failures",
        extra={"username": username[:150], "address": address, "locked": locked},
    )
    user = get_user_model().objects.filter(username__iexact=username).first()
    if user is None:
        return
    for membership in user.memberships.select_related("organization"):
        audit_record(
            organization=membership.organization,
            actor=None,
            action="login.locked",
            target=user,
            data={"address": address, "locked": locked, "failures": account_failures},
        )


def login_success_record(*, username: str) -> None:
    LOGIN_PER_ACCOUNT.reset(username)


class ThrottledLoginMixin:
    """For an AuthenticationForm: refuse while the account or address is locked, count failures."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": "Your username and password didn't match. Please try again.",
        "throttled": (
            "Too many failed sign-ins for this account or from this address. For your safety, signing in is "
            "paused: try again in %(minutes)s minute(s)."
        ),
    }

    def clean(self):
        username = self.cleaned_data.get("username") or ""
        address = client_address(self.request)
        wait = login_retry_after(username=username, address=address)
        if wait:
            raise ValidationError(
                self.error_messages["throttled"], code="throttled", params={"minutes": math.ceil(wait / 60)}
            )
        try:
            cleaned = super().clean()
        except ValidationError as error:
            if getattr(error, "code", None) == "invalid_login":
                login_failure_record(username=username, address=address)
            raise
        login_success_record(username=username)
        return cleaned


class ThrottledAuthenticationForm(ThrottledLoginMixin, AuthenticationForm):
    pass


class ThrottledAdminAuthenticationForm(ThrottledLoginMixin, AdminAuthenticationForm):
    error_messages = {
        **ThrottledLoginMixin.error_messages,
        "invalid_login": AdminAuthenticationForm.error_messages["invalid_login"],
    }
