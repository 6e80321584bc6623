from django.contrib import messages as flash
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from apps.accounts.permissions import current_membership, inbox_required
from apps.accounts.tenancy import get_visible_or_404

from . import selectors, services

# The page lists the latest ones; older notifications stay in the database and in the admin.
LIST_LIMIT = 100
# What the header's link listens for (HX-Trigger) to load its unread count again.
CHANGED_TRIGGER = "notifications-changed"


@inbox_required
def notification_list(request):
    membership = current_membership(request)
    return render(
        request,
        "notifications/list.html",
        {
            "section": "notifications",
            "notifications": selectors.notification_list(membership=membership)[:LIST_LIMIT],
            "unread": selectors.notification_unread_count(membership=membership),
        },
    )


@inbox_required
def menu_count(request):
    """The header link's label and unread count (templates/base.html loads it with hx-get)."""
    unread = selectors.notification_unread_count(membership=current_membership(request))
    return render(request, "notifications/list.html#menu-count", {"unread": unread})


@inbox_required
@require_POST
def mark_read(request, pk: int):
    membership = current_membership(request)
    notification = get_visible_or_404(selectors.notification_list(membership=membership), membership, pk=pk)
    services.notifications_mark_read(
        notifications=selectors.notification_list(membership=membership).filter(pk=notification.pk)
    )
    if not request.htmx:
        return redirect("notifications:list")
    notification.refresh_from_db(fields=["read_at"])
    response = render(request, "notifications/list.html#item", {"notification": notification, "acted": True})
    response["HX-Trigger"] = CHANGED_TRIGGER
    return response


@inbox_required
@require_POST
def mark_all_read(request):
    count = services.notifications_mark_read(
        notifications=selectors.notification_list(membership=current_membership(request))
    )
    flash.success(request, f"Marked {count} as read." if count else "Nothing was unread.")
    return redirect("notifications:list")
