from collections.abc import Collection

from django.db.models import Q, QuerySet

from apps.accounts.models import Brand, Membership, Team
from apps.accounts.tenancy import scoped
from apps.connectors.models import Channel
from apps.conversations.labels import DEFAULT_LANGUAGES, Sentiment
from apps.conversations.models import Conversation, NeedsReply, Tag
from apps.conversations.selectors import INBOX_SORTS, inbox_agents

from .models import SavedView


def saved_views(*, membership: Membership) -> QuerySet[SavedView]:
    """The membership's own saved views and those shared in its organisation."""
    return (
        scoped(SavedView, membership)
        .filter(Q(user_id=membership.user_id) | Q(shared=True))
        .select_related("user")
        .order_by("name", "pk")
    )


def inbox_filter_choices(*, membership: Membership, intent_labels: Collection[str]) -> dict:
    """The values the filter bar offers: the membership's brands and channels, the organisation's tags,
    agents and teams, and the label sets."""
    return {
        "brands": scoped(Brand, membership).only("name").order_by("name"),
        "channels": scoped(Channel, membership).only("name", "kind").order_by("name"),
        "tags": scoped(Tag, membership).only("name").order_by("name"),
        "agents": inbox_agents(membership=membership),
        "teams": scoped(Team, membership).only("name").order_by("name"),
        "sentiments": Sentiment.values,
        "intents": list(intent_labels),
        "languages": sorted(DEFAULT_LANGUAGES),
        "priorities": [name for name, _ in Conversation.PRIORITY_LEVELS],
        "needs_reply": NeedsReply.choices,
        "statuses": Conversation.Status.choices,
        "sorts": INBOX_SORTS,
    }
