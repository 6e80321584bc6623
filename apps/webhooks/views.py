"""The organisation admin's webhook pages (/org/webhooks/): endpoints, their delivery log, test events."""

from django.contrib import messages as flash
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from apps.accounts.permissions import admin_required, current_membership
from apps.accounts.tenancy import get_visible_or_404
from apps.core.crypto import mask_secret

from . import selectors, services
from .models import Event, WebhookDelivery, WebhookEndpoint

SUBSCRIBABLE = [(value, label) for value, label in Event.choices if value != Event.PING]


def _form(request, endpoint=None, *, error: str = "", status: int = 200):
    return render(
        request,
        "webhooks/endpoint_form.html",
        {
            "section": "org",
            "endpoint": endpoint,
            "events": SUBSCRIBABLE,
            "values": request.POST if request.method == "POST" else None,
            "error": error,
        },
        status=status,
    )


def _detail(request, endpoint: WebhookEndpoint, *, new_secret: str = ""):
    status = request.GET.get("status", "")
    return render(
        request,
        "webhooks/endpoint_detail.html",
        {
            "section": "org",
            "endpoint": endpoint,
            "masked_secret": mask_secret(endpoint.secret),
            "new_secret": new_secret,
            "status": status,
            "statuses": WebhookDelivery.Status.choices,
            "deliveries": selectors.delivery_log(endpoint=endpoint, status=status)[: selectors.LOG_LIMIT],
        },
    )


@admin_required
def endpoint_list(request):
    endpoints = selectors.endpoint_list(membership=current_membership(request))
    return render(request, "webhooks/endpoint_list.html", {"section": "org", "endpoints": endpoints})


@admin_required
def endpoint_new(request):
    if request.method != "POST":
        return _form(request)
    try:
        endpoint, secret = services.endpoint_create(
            organization=current_membership(request).organization,
            url=request.POST.get("url", ""),
            events=request.POST.getlist("events"),
            description=request.POST.get("description", ""),
            actor=request.user,
        )
    except services.EndpointRefused as error:
        return _form(request, error=str(error), status=400)
    # The secret is shown in full on this response only; the page never shows it again.
    return _detail(request, endpoint, new_secret=secret)


@admin_required
def endpoint_detail(request, pk: int):
    return _detail(request, get_visible_or_404(WebhookEndpoint, current_membership(request), pk=pk))


@admin_required
def endpoint_edit(request, pk: int):
    endpoint = get_visible_or_404(WebhookEndpoint, current_membership(request), pk=pk)
    if request.method != "POST":
        return _form(request, endpoint)
    try:
        services.endpoint_update(
            endpoint=endpoint,
            url=request.POST.get("url", ""),
            events=request.POST.getlist("events"),
            description=request.POST.get("description", ""),
            active=request.POST.get("active") == "on",
            actor=request.user,
        )
    except services.EndpointRefused as error:
        return _form(request, endpoint, error=str(error), status=400)
    flash.success(request, "Endpoint saved.")
    return redirect("webhooks:detail", pk=endpoint.pk)


@admin_required
@require_POST
def endpoint_active(request, pk: int):
    endpoint = get_visible_or_404(WebhookEndpoint, current_membership(request), pk=pk)
    active = request.POST.get("active") == "1"
    services.endpoint_set_active(endpoint=endpoint, active=active, actor=request.user)
    flash.success(
        request, "Endpoint resumed." if active else "Endpoint paused: it receives nothing until resumed."
    )
    return redirect("webhooks:detail", pk=endpoint.pk)


@admin_required
@require_POST
def endpoint_rotate(request, pk: int):
    endpoint = get_visible_or_404(WebhookEndpoint, current_membership(request), pk=pk)
    secret = services.endpoint_rotate_secret(endpoint=endpoint, actor=request.user)
    return _detail(request, endpoint, new_secret=secret)


@admin_required
@require_POST
def endpoint_test(request, pk: int):
    endpoint = get_visible_or_404(WebhookEndpoint, current_membership(request), pk=pk)
    services.test_event_send(endpoint=endpoint, actor=request.user)
    flash.success(request, "Test event queued: its delivery shows below in a moment.")
    return redirect("webhooks:detail", pk=endpoint.pk)


@admin_required
def delivery_detail(request, pk: int):
    delivery = get_visible_or_404(
        WebhookDelivery.objects.select_related("endpoint"), current_membership(request), pk=pk
    )
    return render(
        request,
        "webhooks/delivery_detail.html",
        {"section": "org", "delivery": delivery, "body": services.request_body(delivery).decode()},
    )


@admin_required
@require_POST
def delivery_redeliver(request, pk: int):
    delivery = get_visible_or_404(
        WebhookDelivery.objects.select_related("endpoint__organization"), current_membership(request), pk=pk
    )
    again = services.delivery_redeliver(delivery=delivery, actor=request.user)
    flash.success(request, f"Queued again as delivery #{again.pk}.")
    return redirect("webhooks:detail", pk=delivery.endpoint_id)
