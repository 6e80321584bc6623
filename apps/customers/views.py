from django.contrib import messages as flash
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from apps.accounts.models import Brand
from apps.accounts.permissions import current_membership, inbox_required, personal_data_required
from apps.accounts.tenancy import get_visible_or_404, scoped
from apps.core.parsing import ascii_int

from . import selectors, services
from .models import Customer, CustomerMerge, MergeSuggestion

PAGE_SIZE = 100


@inbox_required
def customer_list(request):
    membership = current_membership(request)
    query = request.GET.get("q", "").strip()[:200]
    filters = selectors.CustomerFilters.parse(request.GET)
    page = max(ascii_int(request.GET.get("page", "")) or 1, 1)
    found = list(
        selectors.customer_list(membership=membership, query=query, filters=filters)[
            (page - 1) * PAGE_SIZE : page * PAGE_SIZE + 1
        ]
    )
    params = request.GET.copy()
    params.pop("page", None)
    # The filter's channels are read through the member's brands: connectors sit above customers.
    brands = list(scoped(Brand, membership).prefetch_related("channels").order_by("name"))
    channels = sorted(
        (channel for brand in brands for channel in brand.channels.all()), key=lambda channel: channel.name
    )
    return render(
        request,
        "customers/list.html",
        {
            "section": "customers",
            "customers": found[:PAGE_SIZE],
            "q": query,
            "filters": filters,
            "page": page,
            "has_next": len(found) > PAGE_SIZE,
            "querystring": params.urlencode(),
            "brands": brands,
            "channels": channels,
        },
    )


@inbox_required
def customer_detail(request, pk: int):
    membership = current_membership(request)
    customer = get_visible_or_404(Customer, membership, pk=pk)
    if customer.merged_into_id:
        return redirect("customers:detail", pk=selectors.active_customer(customer).pk)
    return render(
        request,
        "customers/detail.html",
        {
            "section": "customers",
            "customer": customer,
            "identities": selectors.customer_identities(customer=customer),
            "suggestions": selectors.customer_pending_suggestions(customer=customer),
            "merges": selectors.customer_merges(customer=customer),
            "timeline": selectors.customer_timeline(customer=customer, membership=membership),
        },
    )


@inbox_required
@require_POST
def suggestion_decide(request, pk: int):
    suggestion = get_visible_or_404(MergeSuggestion, current_membership(request), pk=pk)
    accept = request.POST.get("decision") == "accept"
    try:
        merge = services.merge_suggestion_decide(suggestion=suggestion, actor=request.user, accept=accept)
    except services.MergeError as error:
        flash.error(request, str(error))
        return redirect("customers:detail", pk=suggestion.customer_id)
    flash.success(request, "Profiles merged." if accept else "Suggestion dismissed.")
    return redirect("customers:detail", pk=merge.target_id if merge else suggestion.customer_id)


@inbox_required
@require_POST
def unmerge(request, pk: int):
    merge = get_visible_or_404(CustomerMerge, current_membership(request), pk=pk)
    try:
        source = services.customer_unmerge(merge=merge, actor=request.user)
    except services.MergeError as error:
        flash.error(request, str(error))
        return redirect("customers:detail", pk=merge.target_id)
    flash.success(request, f"Unmerged: {source} is a separate profile again.")
    return redirect("customers:detail", pk=merge.target_id)


@personal_data_required
def export(request, pk: int):
    membership = current_membership(request)
    customer = get_visible_or_404(Customer, membership, pk=pk)
    response = JsonResponse(
        selectors.customer_export(customer=customer, membership=membership),
        json_dumps_params={"ensure_ascii": False, "indent": 2},
    )
    response["Content-Disposition"] = f'attachment; filename="customer-{customer.pk}.json"'
    return response


@personal_data_required
@require_POST
def erase(request, pk: int):
    membership = current_membership(request)
    customer = get_visible_or_404(Customer, membership, pk=pk)
    summary = services.customer_erase(customer=customer, actor=request.user)
    flash.success(
        request,
        f"Erased: {summary['messages_redacted']} messages redacted, "
        f"{summary['identities_removed']} identities removed.",
    )
    return redirect("customers:list")
