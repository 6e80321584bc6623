"""Read-only pages for members who follow the figures but do not work the inbox (marketers): the
conversations behind a dashboard's figure (the inbox's querystring, so every drill-down works), one
conversation's messages, an author's messages. No composer, no action, no internal note, no contact detail.
"""

from django.http import Http404
from django.shortcuts import render

from apps.accounts.permissions import current_membership, dashboards_required
from apps.accounts.tenancy import get_visible_or_404
from apps.classification.models import Task
from apps.classification.selectors import label_choices
from apps.conversations.models import Conversation
from apps.conversations.selectors import InboxQuery, inbox_conversations
from apps.core.parsing import ascii_int
from apps.customers.kinds import PRIVATE_KINDS
from apps.customers.models import Customer

from .selectors import reader_author_messages, reader_author_name, reader_thread


@dashboards_required
def conversation_list(request):
    """The conversations a dashboard's figure counts, read-only: the inbox's filters and order."""
    membership = current_membership(request)
    intent_labels = label_choices(organization_id=membership.organization_id)[Task.INTENT]
    query = InboxQuery.parse(request.GET, intent_labels=intent_labels)
    page = inbox_conversations(
        membership=membership, view="all", filters=query.filters, sort=query.sort, page=query.page
    )
    for conversation in page.conversations:
        # The customer's name only where the platform shows it publicly (not an email or phone chat).
        conversation.public = conversation.channel.kind not in PRIVATE_KINDS
    context = {
        "section": "dashboards",
        "query": query,
        "page": page,
        "previous": query.querystring(page=page.number - 1) if page.number > 1 else None,
        "next": query.querystring(page=page.number + 1) if page.has_next else None,
    }
    return render(request, "reader/conversations.html", context)


@dashboards_required
def conversation_detail(request, pk: int):
    membership = current_membership(request)
    conversation = get_visible_or_404(
        Conversation.objects.select_related("brand", "channel"), membership, pk=pk
    )
    context = {
        "section": "dashboards",
        "conversation": conversation,
        "messages_read": reader_thread(membership=membership, conversation=conversation),
    }
    return render(request, "reader/conversation.html", context)


@dashboards_required
def author_messages(request, pk: int):
    """What one author wrote on the membership's brands; an author with nothing there is not found."""
    membership = current_membership(request)
    customer = get_visible_or_404(Customer, membership, pk=pk)
    page = max(ascii_int(request.GET.get("page", "")) or 1, 1)
    found, has_next = reader_author_messages(membership=membership, customer=customer, page=page)
    if not found and page == 1:
        raise Http404("no message of this author on your brands")
    context = {
        "section": "dashboards",
        "author": reader_author_name(membership=membership, customer=customer),
        "messages_read": found,
        "page": page,
        "has_next": has_next,
    }
    return render(request, "reader/author.html", context)
