"""The reply composer of the conversation page. The page loads it with hx-get (it is also a page of its own,
for a browser without JavaScript); its parts are partials of one template, swapped by htmx."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.contrib import messages as flash
from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from apps.accounts.permissions import current_membership, inbox_required
from apps.accounts.tenancy import get_visible_or_404
from apps.classification.encoders import EncoderUnavailable
from apps.conversations.models import Conversation, Message

from .limits import channel_limits, reply_length, reply_limits
from .selectors import macros_for, reply_channels, reply_deliveries, saved_replies_for
from .services import ReplyRefused, reply_retry, reply_send, saved_reply_used
from .suggestions import reply_suggestions
from .variables import variable_values, variables_fill

TEMPLATE = "replies/composer.html"


def _conversation(request, pk: int) -> Conversation:
    return get_visible_or_404(
        Conversation.objects.select_related("brand", "channel", "customer", "organization"),
        current_membership(request),
        pk=pk,
    )


def _channels(request, conversation: Conversation) -> tuple[list, object]:
    """The channels a reply may take, and the one the request chose (the conversation's by default)."""
    channels = reply_channels(conversation=conversation)
    wanted = request.POST.get("channel") or request.GET.get("channel")
    if not wanted:
        return channels, channels[0]
    chosen = next((channel for channel in channels if str(channel.pk) == wanted), None)
    if chosen is None:
        raise Http404("not a channel of this conversation")
    return channels, chosen


def _send_at(request) -> datetime:
    """The posted datetime-local, in the browser's time zone (composer.js fills it in; UTC without it)."""
    try:
        zone = ZoneInfo(request.POST.get("timezone") or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        zone = UTC
    moment = datetime.fromisoformat(request.POST.get("send_at", "").strip())
    return moment if moment.tzinfo else moment.replace(tzinfo=zone)


def _context(request, conversation, *, text: str = "", issues=None, channels=None, **extra) -> dict:
    """What the composer's template shows; `channels` as _channels() returns them, when already read."""
    channels, channel = channels or _channels(request, conversation)
    if issues is None:
        issues = reply_limits(conversation, channel, text=text or None)
    return {
        "section": "inbox",
        "conversation": conversation,
        "channels": channels,
        "channel": channel,
        "limits": channel_limits(channel),
        "text": text,
        "issues": issues,
        "length": reply_length(conversation, channel, text),
        "send_at": request.POST.get("send_at", ""),
        "saved_replies": saved_replies_for(
            conversation=conversation, agent=request.user, membership=current_membership(request)
        ),
        "macros": macros_for(membership=current_membership(request), conversation=conversation),
        "deliveries": reply_deliveries(conversation=conversation),
        **extra,
    }


def _partial_or_page(request, partial: str, context: dict):
    if request.htmx and not request.htmx.boosted:
        return render(request, f"{TEMPLATE}#{partial}", context)
    return render(request, TEMPLATE, context)


@inbox_required
def composer(request, pk: int):
    conversation = _conversation(request, pk)
    return _partial_or_page(request, "composer", _context(request, conversation))


@inbox_required
@require_POST
def check(request, pk: int):
    """The limits of what the agent is typing, live (debounced by the composer)."""
    conversation = _conversation(request, pk)
    channels, channel = _channels(request, conversation)
    send_at = None
    if request.POST.get("send_at"):
        try:
            send_at = _send_at(request)
        except ValueError:
            send_at = None
    text = request.POST.get("text", "")
    issues = reply_limits(conversation, channel, text=text, send_at=send_at)
    context = _context(request, conversation, text=text, issues=issues, channels=(channels, channel))
    return render(request, f"{TEMPLATE}#limits", context)


def _inserted(request, conversation, text: str) -> tuple[str, list[str]]:
    """The text with the chosen saved reply added, its variables filled; and what the agent must fill."""
    chosen = request.POST.get("saved_reply", "")
    if not chosen:
        return text, ["Choose a saved reply to insert."]
    saved = get_visible_or_404(
        saved_replies_for(conversation=conversation, agent=request.user),
        current_membership(request),
        pk=chosen,
    )
    values = variable_values(customer=conversation.customer, brand=conversation.brand, agent=request.user)
    filled = variables_fill(saved.body, values)
    saved_reply_used(saved_reply=saved)
    notes = [f"CXM does not know {{{name}}}: replace it yourself." for name in filled.unknown]
    notes += [
        f"No {name.replace('_', ' ')} is known for this customer: replace {{{name}}}."
        for name in filled.missing
    ]
    return (f"{text.rstrip()}\n\n{filled.text}" if text.strip() else filled.text), notes


@inbox_required
@require_POST
def compose(request, pk: int):
    """The composer's form: insert a saved reply, use a draft, send now or schedule."""
    conversation = _conversation(request, pk)
    channels = _channels(request, conversation)
    text, action = request.POST.get("text", ""), request.POST.get("action", "")
    if action == "insert":
        text, notes = _inserted(request, conversation, text)
        context = _context(request, conversation, text=text, notes=notes, channels=channels)
        return _partial_or_page(request, "form", context)
    if action == "use":
        context = _context(request, conversation, text=text, channels=channels)
        return _partial_or_page(request, "form", context)
    if action not in ("send", "schedule"):
        return HttpResponseBadRequest("unknown action")
    try:
        send_at = _send_at(request) if action == "schedule" else None
    except ValueError:
        notes = ["Choose the date and time to send it at."]
        context = _context(request, conversation, text=text, notes=notes, channels=channels)
        return _partial_or_page(request, "form", context)
    try:
        message = reply_send(
            conversation=conversation, author=request.user, text=text, channel=channels[1], send_at=send_at
        )
    except ReplyRefused as refused:
        notes = ["Not sent: see why below."]
        context = _context(
            request, conversation, text=text, issues=refused.issues, notes=notes, channels=channels
        )
        return _partial_or_page(request, "form", context)
    if message.delivery_status == Message.Delivery.SCHEDULED:
        notice = f"Reply scheduled for {message.sent_at:%Y-%m-%d %H:%M} UTC on {message.channel.name}."
    else:
        notice = f"Reply queued on {message.channel.name}: its delivery shows below."
    if not (request.htmx and not request.htmx.boosted):
        flash.success(request, notice)
        return redirect("inbox:conversation", pk=conversation.pk)
    return render(request, f"{TEMPLATE}#sent", _context(request, conversation, notice=notice))


@inbox_required
def suggestions(request, pk: int):
    """Drafts for the agent to edit: the replies that resolved similar conversations, and saved replies."""
    conversation = _conversation(request, pk)
    membership = current_membership(request)
    found, error = None, ""
    try:
        found = reply_suggestions(conversation=conversation, membership=membership, agent=request.user)
    except EncoderUnavailable as unavailable:
        error = f"Suggestions are unavailable right now: {unavailable.reason}"
    context = _context(request, conversation, suggestions=found, suggestions_error=error)
    return _partial_or_page(request, "suggestions", context)


@inbox_required
def deliveries(request, pk: int):
    conversation = _conversation(request, pk)
    return render(request, f"{TEMPLATE}#delivery-list", _context(request, conversation))


@inbox_required
@require_POST
def retry(request, pk: int):
    """Send a failed reply again."""
    membership = current_membership(request)
    message = get_visible_or_404(
        Message.objects.filter(direction=Message.Direction.OUTBOUND).select_related("conversation"),
        membership,
        pk=pk,
    )
    error = ""
    try:
        reply_retry(message=message, actor=request.user)
    except ReplyRefused as refused:
        error = str(refused)
    if not request.htmx:
        (flash.error if error else flash.success)(request, error or "The reply is queued again.")
        return redirect("inbox:conversation", pk=message.conversation_id)
    context = _context(request, _conversation(request, message.conversation_id), retry_error=error)
    return render(request, f"{TEMPLATE}#delivery-list", context)
