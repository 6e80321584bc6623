"""A demo host page for trying a live-chat channel's widget.

Shown with DEBUG on, to superusers, and to the agents and admins of the channel's own organisation (and
brand). Not to `is_staff` alone: every organisation's admin is staff (for Django's admin), and one
organisation's admins must not browse another's channels.
"""

from __future__ import annotations

import time

from csp.constants import SELF, UNSAFE_INLINE
from csp.decorators import csp_replace
from django.conf import settings
from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_GET

from apps.accounts.permissions import current_membership
from apps.accounts.tenancy import brand_visible_to
from apps.connectors.kinds import ChannelKind
from apps.connectors.models import Channel

from .visitor import visitor_token_sign

DEMO_TOKEN_SECONDS = 3600


def _may_see_demo(request, channel: Channel) -> bool:
    if settings.DEBUG or (request.user.is_authenticated and request.user.is_superuser):
        return True
    membership = current_membership(request)
    return (
        membership is not None
        and membership.organization_id == channel.organization_id
        and membership.can_work_inbox
        and brand_visible_to(membership, channel.brand_id)
    )


@require_GET
# The demo stands in for a brand's own site: its <style>, and the widget's in its shadow root, are inline.
@csp_replace({"style-src": [SELF, UNSAFE_INLINE]})
def demo(request, token: str):
    channel = (
        Channel.objects.select_related("brand").filter(webhook_token=token, kind=ChannelKind.LIVECHAT).first()
    )
    # Whoever may not see the demo learns nothing, not even that the channel exists.
    if channel is None or not _may_see_demo(request, channel):
        raise Http404("not found")
    visitor_token = ""
    login = request.GET.get("login", "").strip()[:255]
    secret = (channel.credentials or {}).get("identity_secret", "")
    if login and secret:
        # What the brand's own site would do for its logged-in user (see visitor.py for the format).
        visitor_token = visitor_token_sign(
            secret,
            {
                "user_id": login,
                "email": request.GET.get("email", "").strip()[:254],
                "name": request.GET.get("name", "").strip()[:255],
                "exp": int(time.time()) + DEMO_TOKEN_SECONDS,
            },
        )
    return render(
        request,
        "livechat/demo.html",
        {
            "channel": channel,
            "visitor_token": visitor_token,
            "login": login,
            "has_identity_secret": bool(secret),
        },
    )
