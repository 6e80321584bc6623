from django.contrib import messages as flash
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from apps.accounts.permissions import current_membership, inbox_required
from apps.accounts.tenancy import get_visible_or_404
from apps.classification.selectors import label_choices
from apps.classification.services import label_correct
from apps.conversations.models import Conversation, Message
from apps.conversations.selectors import INBOX_VIEWS, conversation_thread, inbox_conversations, inbox_counts
from apps.conversations.services import conversation_assign, conversation_set_status
from apps.customers.selectors import customer_identities


@inbox_required
def index(request):
    membership = current_membership(request)
    view = request.GET.get("view", "all")
    if view not in INBOX_VIEWS:
        view = "all"
    context = {
        "section": "inbox",
        "view": view,
        "views": INBOX_VIEWS,
        "counts": inbox_counts(membership=membership),
        "conversations": inbox_conversations(membership=membership, view=view),
    }
    template = "inbox/index.html#conversation-list" if request.htmx else "inbox/index.html"
    return render(request, template, context)


@inbox_required
def conversation_detail(request, pk: int):
    membership = current_membership(request)
    conversation = get_visible_or_404(
        Conversation.objects.select_related("brand", "channel", "customer", "assignee"), membership, pk=pk
    )
    return render(
        request,
        "inbox/conversation.html",
        {
            "section": "inbox",
            "conversation": conversation,
            "thread": conversation_thread(conversation=conversation),
            "identities": customer_identities(customer=conversation.customer),
            "other_conversations": conversation.customer.conversations.exclude(pk=conversation.pk)
            .select_related("channel", "brand")
            .order_by("-last_message_at")[:10],
            "statuses": Conversation.Status.choices,
            "labels": label_choices(organization_id=membership.organization_id),
        },
    )


@inbox_required
@require_POST
def message_correct(request, pk: int):
    """One click corrects a label: the message shows it now, and the brand's model learns it."""
    membership = current_membership(request)
    message = get_visible_or_404(Message.objects.select_related("conversation"), membership, pk=pk)
    mention = None
    if request.POST.get("mention"):
        mention = get_visible_or_404(message.mentions.all(), membership, pk=request.POST["mention"])
    try:
        label_correct(
            message=message,
            task=request.POST.get("task", ""),
            label=request.POST.get("label", ""),
            mention=mention,
            user=request.user,
        )
    except ValueError as error:
        if not request.htmx:
            flash.error(request, str(error))
            return redirect("inbox:conversation", pk=message.conversation_id)
        return HttpResponse(str(error), status=400, content_type="text/plain; charset=utf-8")
    if not request.htmx:
        flash.success(request, "Label corrected: the brand's model will learn from it.")
        return redirect("inbox:conversation", pk=message.conversation_id)
    message.refresh_from_db()
    return render(
        request,
        "inbox/conversation.html#classification",
        {"m": message, "labels": label_choices(organization_id=membership.organization_id)},
    )


@inbox_required
@require_POST
def conversation_action(request, pk: int):
    membership = current_membership(request)
    conversation = get_visible_or_404(Conversation, membership, pk=pk)
    action = request.POST.get("action")
    if action == "assign_me":
        conversation_assign(conversation=conversation, assignee=request.user, actor=request.user)
        flash.success(request, "Assigned to you.")
    elif action == "unassign":
        conversation_assign(conversation=conversation, assignee=None, actor=request.user)
        flash.success(request, "Unassigned.")
    elif action in Conversation.Status.values:
        conversation_set_status(conversation=conversation, status=action, actor=request.user)
        flash.success(request, f"Status: {Conversation.Status(action).label}.")
    return redirect("inbox:conversation", pk=conversation.pk)
