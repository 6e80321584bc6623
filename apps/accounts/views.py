from django.contrib.auth import forms as auth_forms
from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from apps.core.parsing import ascii_int

from .middleware import SESSION_KEY
from .models import Role, User
from .permissions import admin_required, current_membership
from .selectors import brand_list, member_list, team_list

LANDING_BY_ROLE = {
    Role.ADMIN: "accounts:overview",
    Role.COMMUNITY_MANAGER: "inbox:index",
    Role.MARKETER: "analytics:dashboard",
}


@login_required
def home(request):
    """Each role lands where its day starts: admins on the organisation, agents in the inbox, marketers
    on the dashboards."""
    membership = current_membership(request)
    if membership is None:
        return render(request, "no_membership.html", status=403)
    return redirect(LANDING_BY_ROLE[membership.role])


@login_required
@require_POST
def switch_organization(request):
    organization_id = ascii_int(request.POST.get("organization"))
    if organization_id is None:
        return HttpResponseBadRequest("organization must be the id of one of your organisations")
    if request.user.memberships.filter(organization_id=organization_id).exists():
        request.session[SESSION_KEY] = organization_id
    return redirect("home")


@admin_required
def overview(request):
    membership = current_membership(request)
    brands = brand_list(membership=membership).annotate(channel_count=Count("channels", distinct=True))
    # The channels of the brands the admin sees (connectors sit above accounts: read through the brands),
    # by brand, kind and name.
    brands = brands.prefetch_related("channels")
    channels = [
        channel
        for brand in brands
        for channel in sorted(brand.channels.all(), key=lambda channel: (channel.kind, channel.name))
    ]
    return render(
        request,
        "accounts/overview.html",
        {
            "section": "org",
            "brands": brands,
            "channels": channels,
            "teams": team_list(membership=membership),
            "members": member_list(membership=membership),
        },
    )


class PasswordResetForm(auth_forms.PasswordResetForm):
    """Django's reset by email, also for invited people who have not chosen a password yet (Django's own
    form skips accounts without a usable password)."""

    def get_users(self, email):
        return User._default_manager.filter(email__iexact=email, is_active=True)
