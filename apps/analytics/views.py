from django.shortcuts import render

from apps.accounts.permissions import current_membership, dashboards_required
from apps.connectors.kinds import ChannelKind

from .selectors import brand_overview


@dashboards_required
def dashboard(request):
    overview = brand_overview(membership=current_membership(request))
    kind_labels = dict(ChannelKind.choices)
    for row in overview["channels"]:
        row["label"] = kind_labels.get(row["channel__kind"], row["channel__kind"])
    return render(request, "analytics/dashboard.html", {"section": "dashboards", "overview": overview})
