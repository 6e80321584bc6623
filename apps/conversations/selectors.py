from django.db.models import Count, Q, QuerySet

from apps.accounts.tenancy import scoped

from .models import Conversation, Message

INBOX_VIEWS = {
    "mine": "Mine",
    "unassigned": "Unassigned",
    "all": "All open",
}


def _view_filter(view: str, user) -> Q:
    open_statuses = [Conversation.Status.OPEN, Conversation.Status.PENDING]
    if view == "mine":
        return Q(assignee=user, status__in=open_statuses)
    if view == "unassigned":
        return Q(assignee=None, status__in=open_statuses)
    return Q(status__in=open_statuses)


def inbox_conversations(*, membership, view: str = "all", limit: int = 50) -> QuerySet[Conversation]:
    return (
        scoped(Conversation, membership)
        .filter(_view_filter(view, membership.user))
        .select_related("brand", "channel", "customer", "assignee")
        .order_by("-priority", "-last_message_at")[:limit]
    )


def inbox_counts(*, membership) -> dict[str, int]:
    conversations = scoped(Conversation, membership)
    return conversations.aggregate(
        **{name: Count("pk", filter=_view_filter(name, membership.user)) for name in INBOX_VIEWS}
    )


def conversation_thread(*, conversation: Conversation) -> QuerySet[Message]:
    return conversation.messages.select_related("author_identity", "author_user", "channel").order_by(
        "sent_at", "pk"
    )
