"""State changes of the inbox's own things: saved views."""

from __future__ import annotations

from django.http import QueryDict

from apps.accounts.models import Membership
from apps.classification.models import Task
from apps.classification.selectors import label_choices
from apps.conversations.selectors import InboxQuery

from .models import SavedView


class SavedViewError(ValueError):
    """A saved view that cannot be made or removed; the message says why."""


def saved_view_save(
    *, membership: Membership, name: str, querystring: str, shared: bool = False
) -> SavedView:
    """Save the inbox list a querystring describes under a name; the same name again replaces it.
    The querystring is parsed and written back, so only valid filters are kept."""
    name = name.strip()
    if not name or len(name) > 80:
        raise SavedViewError("a saved view needs a name of 1 to 80 characters")
    intent_labels = label_choices(organization_id=membership.organization_id)[Task.INTENT]
    query = InboxQuery.parse(QueryDict(querystring), intent_labels=intent_labels)
    saved, _ = SavedView.objects.update_or_create(
        organization_id=membership.organization_id,
        user=membership.user,
        name=name,
        defaults={"query": query.querystring(page=1), "shared": shared},
    )
    return saved


def saved_view_delete(*, membership: Membership, saved_view: SavedView) -> None:
    """Its owner removes a saved view; an admin may remove a shared one too."""
    if saved_view.user_id != membership.user_id and not (saved_view.shared and membership.is_admin):
        raise SavedViewError("only the agent who saved this view can remove it")
    saved_view.delete()
