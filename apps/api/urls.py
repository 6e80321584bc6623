"""The REST API, version 1, mounted at /api/v1/ (cxm/urls.py); its OpenAPI schema and docs pages beside it."""

from csp.constants import SELF, UNSAFE_INLINE
from csp.decorators import csp_replace
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from .endpoints import (
    alerts,
    automation,
    conversations,
    customers,
    dashboard,
    listening,
    organisation,
    replies,
    routing,
    webhooks,
)

# No ".json" suffix routes: JSON is the only format, and the suffix reached actions that take no `format`
# argument (a 500; found by tests/security/test_permission_matrix.py).
router = DefaultRouter()
router.include_format_suffixes = False
router.register("conversations", conversations.ConversationViewSet, basename="conversation")
router.register("messages", conversations.MessageViewSet, basename="message")
router.register("customers", customers.CustomerViewSet, basename="customer")
router.register("identities", customers.IdentityViewSet, basename="identity")
router.register("channels", organisation.ChannelViewSet, basename="channel")
router.register("brands", organisation.BrandViewSet, basename="brand")
router.register("listening-queries", listening.ListeningQueryViewSet, basename="listening-query")
router.register("alert-rules", alerts.AlertRuleViewSet, basename="alert-rule")
router.register("alerts", alerts.AlertViewSet, basename="alert")
router.register("webhook-endpoints", webhooks.WebhookEndpointViewSet, basename="webhook-endpoint")
router.register("webhook-deliveries", webhooks.WebhookDeliveryViewSet, basename="webhook-delivery")
router.register("dashboard", dashboard.DashboardViewSet, basename="dashboard")
router.register("saved-replies", replies.SavedReplyViewSet, basename="saved-reply")
router.register("macros", replies.MacroViewSet, basename="macro")
router.register("macro-runs", replies.MacroRunViewSet, basename="macrorun")
router.register("automation-rules", automation.RuleViewSet, basename="automation-rule")
router.register("auto-replies", automation.AutoReplyViewSet, basename="auto-reply")
router.register("satisfaction-surveys", automation.SurveyViewSet, basename="satisfaction-survey")
router.register("survey-settings", automation.SurveySettingsViewSet, basename="survey-setting")
router.register("agents", routing.AgentProfileViewSet, basename="agent")
router.register("team-routing", routing.TeamRoutingViewSet, basename="team-routing")
router.register("sla-policies", routing.SLAPolicyViewSet, basename="sla-policy")
router.register("business-hours", routing.BusinessHoursViewSet, basename="business-hours")
router.register("holidays", routing.HolidayViewSet, basename="holiday")
router.register("sla-report", routing.SLAReportViewSet, basename="sla-report")
router.register("channel-weights", routing.ChannelWeightsViewSet, basename="channel-weights")

# Swagger UI and ReDoc are third-party pages that style themselves with inline styles, and ReDoc searches in
# a blob: worker; their scripts still come from files (the split Swagger view) or carry a nonce (ReDoc's
# template, templates/drf_spectacular/redoc.html).
docs_csp = csp_replace({"style-src": [SELF, UNSAFE_INLINE], "worker-src": [SELF, "blob:"]})

app_name = "api"
urlpatterns = [
    path("", include(router.urls)),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", docs_csp(SpectacularSwaggerSplitView.as_view(url_name="api:schema")), name="docs"),
    path("redoc/", docs_csp(SpectacularRedocView.as_view(url_name="api:schema")), name="redoc"),
]
