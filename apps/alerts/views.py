"""Alert pages: the list, one alert (chart, samples, acknowledge/resolve), and the brands' rules."""

from datetime import timedelta
from urllib.parse import urlencode

from django.contrib import messages as flash
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from apps.accounts.permissions import admin_required, current_membership, dashboards_required, inbox_required
from apps.accounts.tenancy import get_visible_or_404
from apps.core.parsing import ascii_int

from . import selectors, services
from .forms import AlertRuleForm
from .models import Alert, AlertRule

LIST_LIMIT = 100


def _brand_param(request) -> int | None:
    value = request.GET.get("brand", "")
    return ascii_int(value)


@dashboards_required
def alert_list(request):
    membership = current_membership(request)
    status = request.GET.get("status", "")
    alerts = selectors.alert_list(membership=membership, status=status, brand_id=_brand_param(request))
    return render(
        request,
        "alerts/alert_list.html",
        {
            "section": "alerts",
            "alerts": alerts[:LIST_LIMIT],
            "status": status,
            "statuses": Alert.Status.choices,
        },
    )


def inbox_querystring(alert: Alert) -> str:
    """The inbox view of the spike: the brand's conversations active in the window's days, newest first."""
    params = {
        "brand": alert.brand_id,
        "from": alert.window_start.date().isoformat(),
        "to": (alert.window_end - timedelta(microseconds=1)).date().isoformat(),
        "sort": "newest",
    }
    if alert.is_share:
        params["sentiment"] = "negative"
    return urlencode(params)


@dashboards_required
def alert_detail(request, pk: int):
    membership = current_membership(request)
    alert = get_visible_or_404(Alert.objects.select_related("brand", "rule"), membership, pk=pk)
    return render(
        request,
        "alerts/alert_detail.html",
        {
            "section": "alerts",
            "alert": alert,
            "summary": services.alert_summary(alert),
            "chart": selectors.alert_chart(alert=alert, now=timezone.now(), weeks=services.HISTORY_WEEKS),
            "samples": selectors.alert_samples(alert=alert, membership=membership),
            "inbox_url": f"{reverse('inbox:index')}?{inbox_querystring(alert)}",
        },
    )


@inbox_required
@require_POST
def alert_acknowledge(request, pk: int):
    alert = get_visible_or_404(
        Alert.objects.select_related("rule__organization"), current_membership(request), pk=pk
    )
    services.alert_acknowledge(alert=alert, actor=request.user)
    flash.success(request, "Alert acknowledged.")
    return redirect("alerts:detail", pk=alert.pk)


@inbox_required
@require_POST
def alert_resolve(request, pk: int):
    alert = get_visible_or_404(
        Alert.objects.select_related("rule__organization"), current_membership(request), pk=pk
    )
    services.alert_resolve(alert=alert, actor=request.user)
    flash.success(request, "Alert resolved.")
    return redirect("alerts:detail", pk=alert.pk)


@dashboards_required
def rule_list(request):
    membership = current_membership(request)
    rules = selectors.rule_list(membership=membership, brand_id=_brand_param(request))
    return render(request, "alerts/rule_list.html", {"section": "alerts", "rules": rules})


@admin_required
def rule_edit(request, pk: int | None = None):
    membership = current_membership(request)
    rule = (
        get_visible_or_404(AlertRule, membership, pk=pk)
        if pk
        else AlertRule(organization=membership.organization)
    )
    form = AlertRuleForm(request.POST or None, instance=rule, membership=membership)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.alert_rule_save(
                    rule=form.save(commit=False),
                    actor=request.user,
                    notify_members=form.cleaned_data["notify_members"],
                )
            except services.AlertRuleInvalid as error:
                form.add_error(None, str(error))
            else:
                flash.success(request, "Alert rule saved.")
                return redirect("alerts:rules")
        status = 400
    return render(
        request, "alerts/rule_form.html", {"section": "alerts", "form": form, "rule": rule}, status=status
    )
