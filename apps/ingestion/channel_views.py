"""The channel pages (Organisation → Channels): a channel's set-up, health, rejected and ignored payloads,
replays and imports. They show what ingestion keeps of each channel, so they live here, above connectors;
their URL names stay in the "connectors" namespace (channel_urls.py) and their templates in
apps/connectors/templates/connectors/."""

from django.contrib import messages as flash
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from apps.accounts.permissions import admin_required, current_membership
from apps.accounts.tenancy import get_visible_or_404
from apps.connectors import services
from apps.connectors.forms import ChannelSetupForm
from apps.connectors.kinds import ChannelKind
from apps.connectors.models import Channel
from apps.connectors.registry import all_connectors, connector_for
from apps.core.crypto import mask_secret

from . import selectors
from .imports import ImportRefused, import_job_create
from .models import ImportJob, RawPayload
from .services import payload_replay


@admin_required
def channel_list(request):
    channels = selectors.channel_health(membership=current_membership(request))
    return render(request, "connectors/channel_list.html", {"section": "org", "channels": channels})


def _webhook_url(request, channel: Channel) -> str:
    return request.build_absolute_uri(reverse("ingestion:webhook", args=[channel.webhook_token]))


@admin_required
def channel_new(request):
    """Which kind of channel to add: every kind a connector can set up."""
    connectors = all_connectors()
    kinds = [(kind, label, connectors[kind]) for kind, label in ChannelKind.choices if kind in connectors]
    return render(request, "connectors/channel_new.html", {"section": "org", "kinds": kinds})


@admin_required
def channel_create(request, kind: str):
    if kind not in all_connectors():
        raise Http404("no such channel kind")
    connector, membership = connector_for(kind), current_membership(request)
    form = ChannelSetupForm(request.POST or None, connector=connector, membership=membership)
    if request.method == "POST" and form.is_valid():
        channel = services.channel_create(
            brand=form.cleaned_data["brand"],
            kind=kind,
            name=form.cleaned_data["name"],
            values=form.cleaned_values(),
            actor=request.user,
        )
        flash.success(request, f"{channel.name} is set up. Test its connection below.")
        return redirect("connectors:detail", pk=channel.pk)
    return render(
        request,
        "connectors/channel_form.html",
        {"section": "org", "form": form, "kind_label": ChannelKind(kind).label, "channel": None},
        status=400 if form.errors else 200,
    )


@admin_required
def channel_settings(request, pk: int):
    channel = get_visible_or_404(Channel.objects.select_related("brand"), current_membership(request), pk=pk)
    connector = connector_for(channel.kind)
    form = ChannelSetupForm(
        request.POST or None, connector=connector, membership=current_membership(request), channel=channel
    )
    if request.method == "POST" and form.is_valid():
        changed = services.channel_configure(
            channel=channel, name=form.cleaned_data["name"], values=form.cleaned_values(), actor=request.user
        )
        flash.success(request, f"Saved: {', '.join(changed)}." if changed else "Nothing changed.")
        return redirect("connectors:detail", pk=channel.pk)
    return render(
        request,
        "connectors/channel_form.html",
        {"section": "org", "form": form, "kind_label": channel.get_kind_display(), "channel": channel},
        status=400 if form.errors else 200,
    )


@admin_required
@require_POST
def channel_webhook_register(request, pk: int):
    channel = get_visible_or_404(Channel, current_membership(request), pk=pk)
    ok, detail = services.channel_register_webhook(
        channel=channel, url=_webhook_url(request, channel), actor=request.user
    )
    (flash.success if ok else flash.error)(request, f"Webhook of {channel.name}: {detail}")
    return redirect(f"{reverse('connectors:detail', args=[channel.pk])}#webhook")


@admin_required
def channel_detail(request, pk: int):
    channel = get_visible_or_404(Channel.objects.select_related("brand"), current_membership(request), pk=pk)
    connector = connector_for(channel.kind)
    guide = connector.webhook_guide
    return render(
        request,
        "connectors/channel_detail.html",
        {
            "section": "org",
            "channel": channel,
            "connector": connector,
            "webhook_url": _webhook_url(request, channel),
            "guide": guide,
            # What the admin copies into the platform's console (Meta's verify token): not a secret.
            "guide_values": [
                (setting.label, setting.read(channel))
                for setting in connector.setup_fields
                if guide and setting.key in guide.shown_credentials
            ],
            "credentials": {
                key: mask_secret(value)
                for key, value in channel.credentials.items()
                if not guide or key not in guide.shown_credentials
            },
            "rejected": selectors.channel_rejected_payloads(channel=channel),
            "ignored": selectors.channel_ignored_events(channel=channel),
            "health_details": connector.health_details(channel),
            "imports": channel.import_jobs.defer("source")[:10],
        },
    )


@admin_required
@require_POST
def channel_status(request, pk: int):
    channel = get_visible_or_404(Channel, current_membership(request), pk=pk)
    status = request.POST.get("status")
    if status in (Channel.Status.ACTIVE, Channel.Status.PAUSED):
        services.channel_set_status(channel=channel, status=status, actor=request.user)
        flash.success(request, f"{channel.name}: {Channel.Status(status).label.lower()}.")
    return redirect("connectors:detail", pk=channel.pk)


@admin_required
@require_POST
def channel_test_view(request, pk: int):
    channel = get_visible_or_404(Channel, current_membership(request), pk=pk)
    ok, detail = services.channel_test(channel=channel, actor=request.user)
    (flash.success if ok else flash.error)(request, f"Test of {channel.name}: {detail}")
    return redirect("connectors:detail", pk=channel.pk)


@admin_required
@require_POST
def import_start(request, pk: int):
    channel = get_visible_or_404(Channel, current_membership(request), pk=pk)
    upload = request.FILES.get("file")
    if upload is None:
        flash.error(request, "Choose a CSV or JSON-lines file to import.")
        return redirect("connectors:detail", pk=channel.pk)
    try:
        import_job_create(
            channel=channel,
            filename=upload.name,
            content=upload.read(),
            actor=request.user,
            encoding=request.POST.get("encoding", ""),
        )
    except ImportRefused as error:
        flash.error(request, str(error))
    else:
        flash.success(request, f"Importing {upload.name}: progress below.")
    return redirect(f"{reverse('connectors:detail', args=[channel.pk])}#imports")


@admin_required
def import_progress(request, pk: int):
    """htmx: one import's progress row, polled while it runs."""
    job = get_visible_or_404(ImportJob, current_membership(request), pk=pk)
    return render(request, "connectors/channel_detail.html#import-row", {"job": job})


@admin_required
@require_POST
def payload_replay_view(request, pk: int):
    payload = get_visible_or_404(RawPayload, current_membership(request), pk=pk)
    payload_replay(payload=payload)
    flash.success(request, f"Payload #{payload.pk} sent through the pipeline again.")
    return redirect("connectors:detail", pk=payload.channel_id)
