"""The admin's page of API tokens: make one for a member (its key shown once), revoke one."""

from django.contrib import messages as flash
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from apps.accounts.permissions import admin_required, current_membership
from apps.accounts.selectors import member_list
from apps.accounts.tenancy import get_visible_or_404

from .models import ApiToken
from .selectors import api_tokens
from .services import TokenError, api_token_create, api_token_revoke


@admin_required
def token_list(request):
    """The organisation's tokens; a POST makes one, and this response is the only one that shows its key."""
    membership = current_membership(request)
    members = member_list(membership=membership)
    context = {"section": "api", "members": members, "new_key": None, "new_token": None}
    if request.method == "POST":
        member = get_visible_or_404(members, membership, pk=request.POST.get("membership") or 0)
        try:
            context["new_token"], context["new_key"] = api_token_create(
                membership=member, name=request.POST.get("name", ""), issuer=membership
            )
        except TokenError as error:
            message = str(error)
            flash.error(request, message[:1].upper() + message[1:])
    context["tokens"] = api_tokens(membership=membership)
    response = render(request, "api/tokens.html", context)
    response["Cache-Control"] = "no-store"  # the key must not stay in a cache
    return response


@admin_required
@require_POST
def token_revoke(request, pk: int):
    token = get_visible_or_404(ApiToken, current_membership(request), pk=pk)
    api_token_revoke(token=token, actor=request.user)
    flash.success(request, f"Revoked “{token.name}”: calls with it are refused from now on.")
    return redirect("api_tokens:list")
