from django.contrib import messages as flash
from django.shortcuts import redirect, render

from apps.accounts.permissions import admin_required, current_membership
from apps.accounts.tenancy import get_visible_or_404, scoped

from .forms import ListeningQueryForm
from .models import ListeningQuery
from .query import QuerySyntaxError
from .services import listening_preview


@admin_required
def query_list(request):
    membership = current_membership(request)
    queries = scoped(ListeningQuery, membership).select_related("brand")
    return render(
        request,
        "listening/queries.html",
        {"section": "org", "queries": queries, "form": ListeningQueryForm(membership=membership)},
    )


@admin_required
def query_edit(request, pk: int | None = None):
    membership = current_membership(request)
    instance = get_visible_or_404(ListeningQuery, membership, pk=pk) if pk else None
    form = ListeningQueryForm(request.POST or None, instance=instance, membership=membership)
    if request.method == "POST" and form.is_valid():
        form.save()
        flash.success(request, f"Saved “{form.instance.name}”.")
        return redirect("listening:list")
    return render(
        request, "listening/query_form.html", {"section": "org", "form": form, "instance": instance}
    )


@admin_required
def query_preview(request):
    """htmx: what the query typed so far would match in stored messages, before it is saved."""
    query = request.POST.get("query", "")
    context = {"query": query}
    try:
        context["preview"] = listening_preview(membership=current_membership(request), query=query)
    except QuerySyntaxError as error:
        context["error"] = error
    return render(request, "listening/query_form.html#preview", context)
