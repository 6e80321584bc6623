"""Routing's pages: the agent's availability control (the header), the admin's routing and SLA settings
(/org/routing/), and the SLA report (dashboards)."""

from datetime import UTC, datetime, time, timedelta

from django.contrib import messages as flash
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.views.decorators.http import require_POST

from apps.accounts.models import Team
from apps.accounts.permissions import admin_required, current_membership, dashboards_required, inbox_required
from apps.accounts.tenancy import get_visible_or_404, scoped
from apps.connectors.kinds import ChannelKind
from apps.core.parsing import ascii_int

from . import selectors, services
from .forms import BusinessHoursForm, HolidayForm, SLAPolicyForm
from .models import AgentProfile, Availability, BusinessHours, Holiday, SLAPolicy, TeamRouting

#: How long the browser waits without input before it sets an online agent away (static/js/app.js).
IDLE_MINUTES = 10
REPORT_DAYS = (7, 30, 90)


@inbox_required
def availability(request):
    """The header's control: GET renders it, POST sets the agent's availability (status, and auto=1 when
    the browser saw them idle or active again)."""
    membership = current_membership(request)
    if request.method == "POST":
        status = request.POST.get("status", "")
        if status not in Availability.values:
            return render(
                request,
                "routing/_availability.html",
                _control(membership, error="Unknown status"),
                status=400,
            )
        services.availability_set(
            membership=membership, status=status, actor=request.user, auto=request.POST.get("auto") == "1"
        )
    services.agent_seen(membership)
    return render(request, "routing/_availability.html", _control(membership))


def _control(membership, error=""):
    profile = services.agent_profile_get(membership)
    return {
        "profile": profile,
        "statuses": Availability.choices,
        "idle_minutes": IDLE_MINUTES,
        "error": error,
    }


def _page(request, **extra):
    membership = current_membership(request)
    organization = membership.organization
    teams = scoped(Team, membership).order_by("name")
    routings = {
        r.team_id: r for r in TeamRouting.objects.filter(organization=organization).prefetch_related("brands")
    }
    context = {
        "section": "org",
        "profiles": selectors.agent_profiles(organization=organization).order_by("user__username"),
        "teams": [(team, routings.get(team.pk)) for team in teams],
        "strategies": TeamRouting.Strategy.choices,
        "statuses": Availability.choices,
        "kinds": ChannelKind.choices,
        "brands": _brands(membership),
        "policies": scoped(SLAPolicy, membership).select_related("brand", "business_hours"),
        "calendars": scoped(BusinessHours, membership)
        .select_related("brand", "team")
        .prefetch_related("holidays"),
        "policy_form": SLAPolicyForm(membership=membership),
        "hours_form": BusinessHoursForm(membership=membership),
        # Team routing and channel weights are the organisation's: admins of every brand change them.
        "organisation_wide": not membership.limited_to_brands,
        "holiday_form": HolidayForm(),
        "weights": selectors.channel_weights(organization),
        **extra,
    }
    return context


def _brands(membership):
    from apps.accounts.models import Brand

    return scoped(Brand, membership)


@admin_required
def settings_page(request):
    return render(request, "routing/settings.html", _page(request))


@admin_required
@require_POST
def agent_update(request, pk: int):
    profile = get_visible_or_404(AgentProfile, current_membership(request), pk=pk)
    try:
        services.agent_reach_check(current_membership(request), profile)
    except services.SettingOutOfReach as error:
        flash.error(request, " ".join(error.messages))
        return redirect("routing:settings")
    try:
        capacity = int(request.POST.get("capacity", profile.capacity))
        if capacity < 0 or capacity > 1000:
            raise ValueError
    except ValueError:
        flash.error(request, "Capacity is a whole number from 0 to 1000.")
        return redirect("routing:settings")
    kinds = [kind for kind in request.POST.getlist("channel_kinds") if kind in ChannelKind.values]
    services.agent_profile_update(
        profile=profile,
        actor=request.user,
        capacity=capacity,
        languages=request.POST.get("languages", "").replace(",", " ").split(),
        channel_kinds=kinds,
    )
    status = request.POST.get("status")
    if status in Availability.values and status != profile.status:
        services.availability_set(membership=profile.membership, status=status, actor=request.user)
    flash.success(request, f"Saved {profile.user.username}'s routing.")
    return redirect("routing:settings")


@admin_required
@require_POST
def weights_update(request):
    """The channel weights, as "livechat=2 whatsapp=1.5" (kinds not named weigh 1 or their default)."""
    weights = {}
    for word in request.POST.get("weights", "").replace(",", " ").split():
        kind, _, weight = word.partition("=")
        weights[kind.strip()] = weight.strip()
    membership = current_membership(request)
    try:
        services.setting_reach_check(membership, None)
        services.channel_weights_set(
            organization=membership.organization, weights=weights, actor=request.user
        )
    except services.SettingOutOfReach as error:
        flash.error(request, " ".join(error.messages))
    except ValueError as error:
        flash.error(request, str(error))
    else:
        flash.success(request, "Saved the channel weights.")
    return redirect("routing:settings")


@admin_required
@require_POST
def team_update(request, pk: int):
    membership = current_membership(request)
    team = get_visible_or_404(Team, membership, pk=pk)
    try:
        services.setting_reach_check(membership, None)
    except services.SettingOutOfReach as error:
        flash.error(request, " ".join(error.messages))
        return redirect("routing:settings")
    strategy = request.POST.get("strategy", "")
    if strategy not in TeamRouting.Strategy.values:
        flash.error(request, "Choose a strategy.")
        return redirect("routing:settings")
    try:
        position = int(request.POST.get("position") or 0)
    except ValueError:
        position = 0
    hours_id = request.POST.get("business_hours") or None
    hours = get_visible_or_404(BusinessHours, membership, pk=hours_id) if hours_id else None
    services.team_routing_save(
        team=team,
        actor=request.user,
        strategy=strategy,
        position=max(position, 0),
        brands=list(
            _brands(membership).filter(
                pk__in=[b for b in map(ascii_int, request.POST.getlist("brands")) if b is not None]
            )
        ),
        channel_kinds=[kind for kind in request.POST.getlist("channel_kinds") if kind in ChannelKind.values],
        languages=request.POST.get("languages", "").replace(",", " ").split(),
        business_hours=hours,
    )
    flash.success(request, f"Saved {team.name}'s routing.")
    return redirect("routing:settings")


def _setting_form(request, form_class, instance, template_key: str):
    membership = current_membership(request)
    form = form_class(request.POST or None, instance=instance, membership=membership)
    if request.method == "POST" and form.is_valid():
        try:
            services.routing_setting_save(
                instance=form.save(commit=False), actor=request.user, membership=membership
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            flash.success(request, "Saved.")
            return redirect("routing:settings")
    status = 400 if request.method == "POST" else 200
    return render(
        request, "routing/form.html", {"section": "org", "form": form, "what": template_key}, status=status
    )


@admin_required
def policy_new(request):
    return _setting_form(request, SLAPolicyForm, None, "SLA policy")


@admin_required
def policy_edit(request, pk: int):
    policy = get_visible_or_404(SLAPolicy, current_membership(request), pk=pk)
    return _setting_form(request, SLAPolicyForm, policy, "SLA policy")


@admin_required
def hours_new(request):
    return _setting_form(request, BusinessHoursForm, None, "business hours")


@admin_required
def hours_edit(request, pk: int):
    hours = get_visible_or_404(BusinessHours, current_membership(request), pk=pk)
    return _setting_form(request, BusinessHoursForm, hours, "business hours")


@admin_required
@require_POST
def policy_delete(request, pk: int):
    return _setting_delete(request, SLAPolicy, pk)


def _setting_delete(request, model, pk: int):
    membership = current_membership(request)
    try:
        services.routing_setting_delete(
            instance=get_visible_or_404(model, membership, pk=pk), actor=request.user, membership=membership
        )
    except services.SettingOutOfReach as error:
        flash.error(request, " ".join(error.messages))
    return redirect("routing:settings")


@admin_required
@require_POST
def hours_delete(request, pk: int):
    return _setting_delete(request, BusinessHours, pk)


@admin_required
@require_POST
def holiday_add(request, pk: int):
    membership = current_membership(request)
    calendar = get_visible_or_404(BusinessHours, membership, pk=pk)
    form = HolidayForm(request.POST, instance=Holiday(calendar=calendar, organization=calendar.organization))
    if form.is_valid():
        try:
            services.routing_setting_save(
                instance=form.save(commit=False), actor=request.user, membership=membership
            )
        except ValidationError as error:
            flash.error(request, " ".join(error.messages))
    else:
        flash.error(request, "A holiday needs a date (once per calendar).")
    return redirect("routing:settings")


@admin_required
@require_POST
def holiday_delete(request, pk: int):
    return _setting_delete(request, Holiday, pk)


@dashboards_required
def sla_report(request):
    """SLA met % by team, agent, channel and brand, within the member's brands: over the last `days` days,
    or from `since` to `until` (dates) and for one `brand` as the brand dashboard asks for its card (htmx:
    the tables alone)."""
    membership = current_membership(request)
    try:
        days = int(request.GET.get("days", 30))
    except ValueError:
        days = 30
    days = days if days in REPORT_DAYS else 30
    since_day, until_day = (
        parse_date(request.GET.get("since") or ""),
        parse_date(request.GET.get("until") or ""),
    )
    if since_day and until_day and since_day <= until_day:
        since = datetime.combine(since_day, time.min, tzinfo=UTC)
        until = datetime.combine(until_day + timedelta(days=1), time.min, tzinfo=UTC)
    else:
        since, until = timezone.now() - timedelta(days=days), None
    visible = _brands(membership)
    brand_ids = list(visible.values_list("pk", flat=True)) if membership.limited_to_brands else None
    brand = ascii_int(request.GET.get("brand"))
    if brand is not None:
        brand_ids = list(visible.filter(pk=brand).values_list("pk", flat=True))
    tables = [
        (
            label,
            selectors.sla_met_rates(
                organization=membership.organization, since=since, until=until, by=by, brand_ids=brand_ids
            ),
        )
        for by, label in (("team", "Team"), ("agent", "Agent"), ("channel", "Channel"), ("brand", "Brand"))
    ]
    context = {"section": "dashboards", "tables": tables, "days": days, "choices": REPORT_DAYS}
    template = "routing/sla_report.html#tables" if request.htmx else "routing/sla_report.html"
    return render(request, template, context)
