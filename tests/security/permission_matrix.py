"""Who may use which URL: the table that tests/security/test_permission_matrix.py checks, URL by URL.

Every URL pattern of the resolver needs a row here (a new page without one fails the test). A row is keyed
by the pattern's name (`namespace:name`), or by its route when it has none; rows whose key holds `*` cover
the pages Django's admin makes for every registered model, and an exact row wins over them.

Row(method, kwargs, allowed):
- kwargs name objects of tests/security/world.py (organisation A's, of its `other_brand` where a brand
  applies; a second pass gives the brand-limited agent the same objects on their own brand, where they
  must be answered as the agent is); "obj.attr" reads an attribute; "=value" is the value itself;
  "@admin" is the admin model's own object (world.ADMIN_OBJECTS).
- allowed: the roles that get through (2xx/3xx, or a 4xx about the empty form that only someone let in
  gets); every other role must be refused: 403/404, 401 from the API, or sent to a login page. PUBLIC:
  anyone, logged in or not, gets the same kind of answer.
Roles: admin, agent, limited_agent (organisation A's `brand` only), marketer (A), other_admin (B), anonymous.
"""

from typing import NamedTuple

PUBLIC = "public"

ORG_A = frozenset({"admin", "agent", "limited_agent", "marketer"})
EVERY_MEMBER = ORG_A | {"other_admin"}  # pages of one's own organisation
INBOX_WORKERS = frozenset({"admin", "agent", "limited_agent", "other_admin"})  # their own inbox
ON_OTHER_BRAND = frozenset({"admin", "agent"})  # an object of A's other_brand, for inbox roles
CUSTOMER_OF_A = frozenset({"admin", "agent", "limited_agent"})  # customers are the organisation's
ADMINS = frozenset({"admin", "other_admin"})  # an admin page of one's own organisation
ADMIN_OF_A = frozenset({"admin"})  # an admin page about an object of A
ONLY_THE_AGENT = frozenset({"agent"})  # the agent's own saved view / notification
NOBODY = frozenset()


class Row(NamedTuple):
    method: str
    kwargs: dict
    allowed: frozenset | str
    follow: bool = False  # judge where a redirect ends (redirects that only point elsewhere)


def get(allowed, **kwargs):
    return Row("GET", kwargs, allowed)


def post(allowed, **kwargs):
    return Row("POST", kwargs, allowed)


URLS = {
    # Site
    "home": get(EVERY_MEMBER),
    "health": get(PUBLIC),
    "login": get(PUBLIC),
    "logout": post(PUBLIC),
    "password_reset": get(PUBLIC),
    "password_reset_done": get(PUBLIC),
    "password_reset_confirm": get(PUBLIC, uidb64="=MQ", token="=not-a-token"),
    "password_reset_complete": get(PUBLIC),
    # Organisation
    "accounts:overview": get(ADMINS),
    "accounts:switch": post(EVERY_MEMBER),
    "connectors:list": get(ADMINS),
    "connectors:new": get(ADMINS),
    "connectors:create": get(ADMINS, kind="=telegram"),
    "connectors:settings": get(ADMIN_OF_A, pk="channel"),
    "connectors:webhook_register": post(ADMIN_OF_A, pk="channel"),
    "connectors:detail": get(ADMIN_OF_A, pk="channel"),
    "connectors:status": post(ADMIN_OF_A, pk="channel"),
    "connectors:test": post(ADMIN_OF_A, pk="channel"),
    "connectors:replay": post(ADMIN_OF_A, pk="payload"),
    "connectors:import": post(ADMIN_OF_A, pk="channel"),
    "connectors:import_progress": get(ADMIN_OF_A, pk="import_job"),
    "listening:list": get(ADMINS),
    "listening:new": get(ADMINS),
    "listening:edit": get(ADMIN_OF_A, pk="query"),
    "listening:preview": post(ADMINS),
    "classification:classifiers": get(ADMINS),
    "classification:train": post(ADMINS),
    "classification:settings": post(ADMINS),
    "classification:deactivate": post(ADMINS),
    "classification:progress": get(ADMIN_OF_A, pk="classifier_version"),
    "classification:activate": post(ADMIN_OF_A, pk="classifier_version"),
    "automation:rules": get(ADMINS),
    "automation:rule_new": get(ADMINS),
    "automation:rule_edit": get(ADMIN_OF_A, pk="automation_rule"),
    "automation:rule_preview": get(ADMIN_OF_A, pk="automation_rule"),
    "automation:rule_delete": post(ADMIN_OF_A, pk="automation_rule"),
    "automation:auto_reply_new": get(ADMINS),
    "automation:auto_reply_edit": get(ADMIN_OF_A, pk="auto_reply"),
    "automation:survey_settings": get(ADMIN_OF_A, brand_id="brand"),
    "automation:satisfaction": get(EVERY_MEMBER),
    # The survey's page is reached by its signed link alone: a wrong signature is a 404 for anyone.
    "automation:survey_public": get(PUBLIC, signed="=not-a-signed-token"),
    "routing:settings": get(ADMINS),
    "routing:availability": get(INBOX_WORKERS),
    "routing:agent": post(ADMIN_OF_A, pk="agent_profile"),
    "routing:weights": post(ADMINS),
    "routing:team": post(ADMIN_OF_A, pk="team"),
    "routing:policy_new": get(ADMINS),
    "routing:policy_edit": get(ADMIN_OF_A, pk="sla_policy"),
    "routing:policy_delete": post(ADMIN_OF_A, pk="sla_policy"),
    "routing:hours_new": get(ADMINS),
    "routing:hours_edit": get(ADMIN_OF_A, pk="business_hours"),
    "routing:hours_delete": post(ADMIN_OF_A, pk="business_hours"),
    "routing:holiday_add": post(ADMIN_OF_A, pk="business_hours"),
    "routing:holiday_delete": post(ADMIN_OF_A, pk="holiday"),
    "routing:sla_report": get(EVERY_MEMBER),
    "webhooks:list": get(ADMINS),
    "webhooks:new": get(ADMINS),
    "webhooks:detail": get(ADMIN_OF_A, pk="endpoint"),
    "webhooks:edit": get(ADMIN_OF_A, pk="endpoint"),
    "webhooks:active": post(ADMIN_OF_A, pk="endpoint"),
    "webhooks:test": post(ADMIN_OF_A, pk="endpoint"),
    "webhooks:rotate": post(ADMIN_OF_A, pk="endpoint"),
    "webhooks:delivery": get(ADMIN_OF_A, pk="delivery"),
    "webhooks:redeliver": post(ADMIN_OF_A, pk="delivery"),
    "api_tokens:list": get(ADMINS),
    "api_tokens:revoke": post(ADMIN_OF_A, pk="api_token"),
    # Alerts: read by every role, worked on by the inbox's roles, ruled by admins
    "alerts:list": get(EVERY_MEMBER),
    "alerts:detail": get(frozenset({"admin", "agent", "marketer"}), pk="alert"),
    "alerts:acknowledge": post(ON_OTHER_BRAND, pk="alert"),
    "alerts:resolve": post(ON_OTHER_BRAND, pk="alert"),
    "alerts:rules": get(EVERY_MEMBER),
    "alerts:rule_new": get(ADMINS),
    "alerts:rule_edit": get(ADMIN_OF_A, pk="rule"),
    # Inbox
    "inbox:index": get(INBOX_WORKERS),
    "inbox:bulk": post(INBOX_WORKERS),
    "inbox:saved_view_create": post(INBOX_WORKERS),
    "inbox:saved_view_delete": post(ONLY_THE_AGENT, pk="saved_view"),
    "inbox:conversation": get(ON_OTHER_BRAND, pk="conversation"),
    "inbox:conversation_thread": get(ON_OTHER_BRAND, pk="conversation"),
    "inbox:conversation_action": post(ON_OTHER_BRAND, pk="conversation"),
    "inbox:note_create": post(ON_OTHER_BRAND, pk="conversation"),
    "inbox:profile_suggestion_decide": post(ON_OTHER_BRAND, pk="conversation", suggestion_pk="suggestion"),
    "inbox:profile_unmerge": post(ON_OTHER_BRAND, pk="conversation", merge_pk="merge"),
    "inbox:correct": post(ON_OTHER_BRAND, pk="message"),
    "replies:composer": get(ON_OTHER_BRAND, pk="conversation"),
    "replies:check": post(ON_OTHER_BRAND, pk="conversation"),
    "replies:compose": post(ON_OTHER_BRAND, pk="conversation"),
    "replies:suggestions": get(ON_OTHER_BRAND, pk="conversation"),
    "replies:deliveries": get(ON_OTHER_BRAND, pk="conversation"),
    "replies:retry": post(ON_OTHER_BRAND, pk="failed_reply"),
    "replies:saved_replies": get(INBOX_WORKERS),
    "replies:saved_reply_new": get(INBOX_WORKERS),
    "replies:saved_reply_edit": get(ONLY_THE_AGENT, pk="personal_reply"),
    "replies:saved_reply_delete": post(ONLY_THE_AGENT, pk="personal_reply"),
    "replies:macros": get(INBOX_WORKERS),
    "replies:macro_new": get(INBOX_WORKERS),
    "replies:macro_edit": get(ONLY_THE_AGENT, pk="macro"),
    "replies:macro_delete": post(ONLY_THE_AGENT, pk="macro"),
    "replies:bulk_macros": get(INBOX_WORKERS),
    "replies:macro_run_bulk": post(INBOX_WORKERS),
    "replies:macro_run_undo": post(ON_OTHER_BRAND, pk="macro_run"),
    "replies:picker": get(ON_OTHER_BRAND, pk="conversation"),
    "replies:saved_reply_use": post(ON_OTHER_BRAND, pk="conversation", saved_reply="saved_reply"),
    "replies:macro_run": post(ON_OTHER_BRAND, pk="conversation"),
    "notifications:list": get(INBOX_WORKERS),
    "notifications:menu": get(INBOX_WORKERS),
    "notifications:read_all": post(INBOX_WORKERS),
    "notifications:read": post(ONLY_THE_AGENT, pk="notification"),
    "search:index": get(EVERY_MEMBER),  # marketers' hits open the read-only pages
    # Read-only messages: the conversations behind the dashboards' figures, for every role
    "reader:conversations": get(EVERY_MEMBER),
    "reader:conversation": get(frozenset({"admin", "agent", "marketer"}), pk="conversation"),
    "reader:author": get(frozenset({"admin", "agent", "marketer"}), pk="customer"),
    # Search reindexing is the platform operators' (superusers), not an organisation's.
    "search:reindex": get(NOBODY),
    "search:reindex_start": post(NOBODY),
    "search:reindex_progress": get(NOBODY),
    # Customers: the organisation's; exports and erasure for admins (can_handle_personal_data)
    "customers:list": get(INBOX_WORKERS),
    "customers:detail": get(CUSTOMER_OF_A, pk="customer"),
    "customers:export": get(ADMIN_OF_A, pk="customer"),
    "customers:erase": post(ADMIN_OF_A, pk="customer"),
    "customers:suggestion_decide": post(CUSTOMER_OF_A, pk="suggestion"),
    "customers:unmerge": post(CUSTOMER_OF_A, pk="merge"),
    # Dashboards
    "analytics:dashboard": get(EVERY_MEMBER),
    "analytics:panel": get(EVERY_MEMBER, name="=terms"),
    "analytics:export": get(EVERY_MEMBER, name="=volume"),
    # Platforms and visitors: the channel's token is the credential, checked by the view
    "ingestion:webhook": post(PUBLIC, token="webhook_channel.webhook_token"),
    "livechat:demo": get(ON_OTHER_BRAND, token="livechat_channel.webhook_token"),
    # REST API (session authentication here; tokens pin the same memberships)
    "api_home": get(PUBLIC),  # a redirect to the docs, which need a login
    "api:api-root": get(EVERY_MEMBER),
    "api:schema": get(EVERY_MEMBER),
    "api:docs": get(EVERY_MEMBER),
    "api:redoc": get(EVERY_MEMBER),
    "api:agent-list": get(ADMINS),
    "api:agent-detail": get(ADMIN_OF_A, pk="agent_profile"),
    "api:agent-me": get(INBOX_WORKERS),
    "api:team-routing-list": get(ADMINS),
    "api:team-routing-detail": get(ADMIN_OF_A, pk="team"),
    "api:sla-policy-list": get(ADMINS),
    "api:sla-policy-detail": get(ADMIN_OF_A, pk="sla_policy"),
    "api:business-hours-list": get(ADMINS),
    "api:business-hours-detail": get(ADMIN_OF_A, pk="business_hours"),
    "api:business-hours-holidays": post(ADMIN_OF_A, pk="business_hours"),
    "api:holiday-detail": Row("DELETE", {"pk": "holiday"}, ADMIN_OF_A),
    "api:sla-report-list": get(EVERY_MEMBER),
    "api:conversation-list": get(INBOX_WORKERS),
    "api:conversation-detail": get(ON_OTHER_BRAND, pk="conversation"),
    "api:conversation-messages": get(ON_OTHER_BRAND, pk="conversation"),
    "api:conversation-notes": post(ON_OTHER_BRAND, pk="conversation"),
    "api:conversation-replies": post(ON_OTHER_BRAND, pk="conversation"),
    "api:conversation-assign": post(ON_OTHER_BRAND, pk="conversation"),
    "api:conversation-close": post(ON_OTHER_BRAND, pk="conversation"),
    "api:conversation-snooze": post(ON_OTHER_BRAND, pk="conversation"),
    "api:conversation-status": post(ON_OTHER_BRAND, pk="conversation"),
    "api:conversation-tag": post(ON_OTHER_BRAND, pk="conversation"),
    "api:conversation-untag": post(ON_OTHER_BRAND, pk="conversation"),
    "api:message-list": get(INBOX_WORKERS),
    "api:message-detail": get(ON_OTHER_BRAND, pk="message"),
    "api:message-correct": post(ON_OTHER_BRAND, pk="message"),
    "api:customer-list": get(INBOX_WORKERS),
    "api:customer-detail": get(CUSTOMER_OF_A, pk="customer"),
    "api:customer-timeline": get(CUSTOMER_OF_A, pk="customer"),
    "api:customer-export": get(ADMIN_OF_A, pk="customer"),
    "api:customer-erase": post(ADMIN_OF_A, pk="customer"),
    "api:identity-list": get(INBOX_WORKERS),
    "api:identity-detail": get(CUSTOMER_OF_A, pk="identity"),
    "api:channel-list": get(EVERY_MEMBER),
    "api:channel-detail": get(frozenset({"admin", "agent", "marketer"}), pk="channel"),
    "api:channel-pause": post(ADMIN_OF_A, pk="channel"),
    "api:channel-resume": post(ADMIN_OF_A, pk="channel"),
    "api:brand-list": get(EVERY_MEMBER),
    "api:brand-detail": get(frozenset({"admin", "agent", "marketer"}), pk="brand"),
    "api:listening-query-list": get(EVERY_MEMBER),
    "api:listening-query-preview": post(ADMINS),
    "api:listening-query-detail": get(frozenset({"admin", "agent", "marketer"}), pk="query"),
    "api:alert-rule-list": get(EVERY_MEMBER),
    "api:alert-rule-detail": get(frozenset({"admin", "agent", "marketer"}), pk="rule"),
    "api:alert-list": get(EVERY_MEMBER),
    "api:alert-detail": get(frozenset({"admin", "agent", "marketer"}), pk="alert"),
    "api:alert-acknowledge": post(ON_OTHER_BRAND, pk="alert"),
    "api:alert-resolve": post(ON_OTHER_BRAND, pk="alert"),
    "api:webhook-endpoint-list": get(ADMINS),
    "api:webhook-endpoint-detail": get(ADMIN_OF_A, pk="endpoint"),
    "api:webhook-endpoint-rotate-secret": post(ADMIN_OF_A, pk="endpoint"),
    "api:webhook-endpoint-test": post(ADMIN_OF_A, pk="endpoint"),
    "api:webhook-delivery-list": get(ADMINS),
    "api:webhook-delivery-detail": get(ADMIN_OF_A, pk="delivery"),
    "api:webhook-delivery-redeliver": post(ADMIN_OF_A, pk="delivery"),
    "api:dashboard-list": get(EVERY_MEMBER),
    "api:saved-reply-list": get(INBOX_WORKERS),
    "api:saved-reply-detail": get(ON_OTHER_BRAND, pk="saved_reply"),
    "api:macro-list": get(INBOX_WORKERS),
    "api:macro-detail": get(ONLY_THE_AGENT, pk="macro"),
    "api:macro-run": post(ONLY_THE_AGENT, pk="macro"),
    "api:macrorun-list": get(INBOX_WORKERS),
    "api:macrorun-detail": get(ON_OTHER_BRAND, pk="macro_run"),
    "api:macrorun-undo": post(ON_OTHER_BRAND, pk="macro_run"),
    "api:automation-rule-list": get(ADMINS),
    "api:automation-rule-detail": get(ADMIN_OF_A, pk="automation_rule"),
    "api:automation-rule-preview": get(ADMIN_OF_A, pk="automation_rule"),
    "api:auto-reply-list": get(ADMINS),
    "api:auto-reply-detail": get(ADMIN_OF_A, pk="auto_reply"),
    "api:satisfaction-survey-list": get(EVERY_MEMBER),
    "api:satisfaction-survey-figures": get(EVERY_MEMBER),
    "api:satisfaction-survey-detail": get(frozenset({"admin", "agent", "marketer"}), pk="survey"),
    "api:survey-setting-list": get(ADMINS),
    "api:survey-setting-detail": get(ADMIN_OF_A, pk="survey_settings"),
    "api:channel-weights-list": get(ADMINS),
    # Django admin: organisation admins, scoped to their organisation (TenantAdmin); staff-only pages
    # send everyone else to the admin's login.
    "admin:index": get(ADMINS),
    "admin:login": get(PUBLIC),
    "admin:logout": post(PUBLIC),
    "admin:password_change": get(ADMINS),
    "admin:password_change_done": get(ADMINS),
    "admin:jsi18n": get(ADMINS),
    "admin:app_list": get(ADMINS, app_label="=conversations"),
    # No model declares autocomplete fields, and no CXM model has a page of its own to view on site.
    "admin:autocomplete": get(NOBODY),
    "admin:view_on_site": get(NOBODY, content_type_id="=1", object_id="=1"),
    "admin/(?P<url>.*)$": get(NOBODY, url="=no-such-page/"),
    "admin/*/<path:object_id>/": Row("GET", {"object_id": "@admin"}, ADMIN_OF_A, follow=True),
    "admin:*_changelist": get(ADMINS),
    "admin:*_add": get(ADMINS),
    "admin:*_change": get(ADMIN_OF_A, object_id="@admin"),
    "admin:*_delete": get(ADMIN_OF_A, object_id="@admin"),
    "admin:*_history": get(ADMIN_OF_A, object_id="@admin"),
    # Accounts are not one tenant's: people join by invitation, and set their own password.
    "admin:accounts_user_add": get(NOBODY),
    "admin:auth_user_password_change": get(NOBODY, id="@admin"),
    "admin:accounts_organization_add": get(NOBODY),
    "admin:accounts_organization_delete": get(NOBODY, object_id="@admin"),
    # Groups and permissions are the platform operators'.
    "admin:auth_group_changelist": get(NOBODY),
    "admin:auth_group_add": get(NOBODY),
    "admin:auth_group_change": get(NOBODY, object_id="=1"),
    "admin:auth_group_delete": get(NOBODY, object_id="=1"),
    "admin:auth_group_history": get(NOBODY, object_id="=1"),
    "admin/auth/group/<path:object_id>/": Row("GET", {"object_id": "=1"}, NOBODY, follow=True),
    # The audit log is read-only, and some rows are written by the system only.
    "admin:core_auditevent_add": get(NOBODY),
    "admin:core_auditevent_delete": get(NOBODY, object_id="@admin"),
    "admin:classification_classifierversion_add": get(NOBODY),
    "admin:replies_resolutionexample_add": get(NOBODY),
    "admin:notifications_notification_add": get(NOBODY),
    "admin:replies_macro_add": get(NOBODY),
    "admin:replies_macrorun_add": get(NOBODY),
    # Automation is made on /automation/ and over the API (checked, audited): viewed only in the admin.
    "admin:automation_rule_add": get(NOBODY),
    "admin:automation_rulerun_add": get(NOBODY),
    "admin:automation_autoreply_add": get(NOBODY),
    "admin:automation_autoreplysent_add": get(NOBODY),
    "admin:automation_surveysettings_add": get(NOBODY),
    "admin:automation_survey_add": get(NOBODY),
    # Routing is set on /org/routing/ and over the API (checked, audited, caches reloaded): viewed only.
    "admin:routing_agentprofile_add": get(NOBODY),
    "admin:routing_teamrouting_add": get(NOBODY),
    "admin:routing_slapolicy_add": get(NOBODY),
    "admin:routing_businesshours_add": get(NOBODY),
    "admin:routing_holiday_add": get(NOBODY),
    "admin:routing_conversationsla_add": get(NOBODY),
    "admin:routing_slaoutcome_add": get(NOBODY),
}
