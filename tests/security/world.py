"""Two organisations with one of everything, for the permission matrix.

Organisation A has `brand` (the limited agent's) and `other_brand`; the objects that URLs name are
`other_brand`'s, so the brand-limited agent must be refused them. Organisation B has `foreign_brand` and its
admin. Org A's words carry MARK_A (and `other_brand`'s words MARK_OTHER_BRAND) so that a page shown to
someone who may not see them can be searched for them.
"""

from apps.accounts.models import Membership, Role
from apps.api.services import api_token_create
from apps.automation.models import AutoReplySent, RuleRun
from apps.classification.models import ClassificationSettings, ClassifierVersion, TrainingExample
from apps.connectors.kinds import ChannelKind
from apps.conversations.models import Message, ThreadAlias
from apps.core.audit import audit_record
from apps.customers.models import MergeSuggestion
from apps.customers.services import customer_merge
from apps.inbox.models import SavedView
from apps.ingestion.models import ImportJob, RawPayload
from apps.notifications.models import Notification
from apps.replies.models import EMBEDDING_DIM, Macro, MacroRun, ResolutionExample, SavedReply, Scope
from apps.routing.models import AgentProfile, ConversationSLA, TeamRouting
from tests.api.conftest import organisation_data
from tests.factories import BrandFactory, ChannelFactory, CustomerFactory, MessageFactory, membership_create

MARK_A = "AlphaOnly"
MARK_OTHER_BRAND = "AlphaOtherBrandOnly"


def build_world(org_a, org_b) -> dict:
    brand = BrandFactory(organization=org_a, name=f"{MARK_A} brand one")
    other_brand = BrandFactory(organization=org_a, name=f"{MARK_A} brand two")
    foreign_brand = BrandFactory(organization=org_b, name="Beta brand")
    organisation_data(org_b, foreign_brand, prefix="BetaOnly")
    members = {
        "admin": membership_create(org_a, Role.ADMIN, username="matrix.admin"),
        "agent": membership_create(org_a, Role.COMMUNITY_MANAGER, username="matrix.agent"),
        "limited_agent": membership_create(
            org_a, Role.COMMUNITY_MANAGER, brands=[brand], username="matrix.limited"
        ),
        "marketer": membership_create(org_a, Role.MARKETER, username="matrix.marketer"),
        "other_admin": membership_create(org_b, Role.ADMIN, username="matrix.other.admin"),
    }
    return {
        "members": members,
        # What the URLs name: the other brand's, owned by the agent.
        "objects": _brand_objects(org_a, other_brand, MARK_OTHER_BRAND, members["agent"], members["admin"]),
        # The same on the limited agent's own brand, owned by them: they are let in as the agent is.
        "own_brand_objects": _brand_objects(
            org_a, brand, f"{MARK_A}Own", members["limited_agent"], members["admin"]
        ),
    }


def _brand_objects(org_a, brand, prefix: str, owner, admin) -> dict:
    """One of everything on `brand` (organisation_data()'s automation and routing objects among them); the
    saved view, notification, token and agent profile are `owner`'s."""
    data = organisation_data(org_a, brand, prefix=prefix)
    conversation, customer, channel = data["conversation"], data["customer"], data["channel"]
    candidate = CustomerFactory(organization=org_a, display_name=f"{prefix} candidate")
    merged = CustomerFactory(organization=org_a, display_name=f"{prefix} merged")
    objects = {
        **data,
        "organization": org_a,
        "user": owner.user,
        "membership": Membership.objects.get(pk=owner.pk),
        "suggestion": MergeSuggestion.objects.create(
            organization=org_a, customer=customer, candidate=candidate, reason="same name"
        ),
        "merge": customer_merge(source=merged, target=customer, actor=None, reason="same person"),
        "payload": RawPayload.objects.create(
            organization=org_a, channel=channel, source=RawPayload.Source.WEBHOOK, body=b"{}"
        ),
        "import_job": ImportJob.objects.create(
            organization=org_a, channel=channel, filename="rows.csv", format="csv"
        ),
        "thread_alias": ThreadAlias.objects.create(
            organization=org_a,
            channel=channel,
            external_thread_id=f"{prefix}-thread",
            conversation=conversation,
        ),
        "classifier_version": ClassifierVersion.objects.create(
            organization=org_a, brand=brand, task="sentiment", version=1
        ),
        "classification_settings": ClassificationSettings.objects.get_or_create(organization=org_a)[0],
        "training_example": TrainingExample.objects.create(
            organization=org_a, brand=brand, task="sentiment", text=f"{prefix} text", label="negative"
        ),
        "saved_reply": SavedReply.objects.create(
            organization=org_a, brand=brand, title=f"{prefix} reply", body="Thanks"
        ),
        "personal_reply": SavedReply.objects.create(
            organization=org_a,
            brand=brand,
            scope=Scope.PERSONAL,
            owner=owner.user,
            title=f"{prefix} personal reply",
            body="Thanks",
        ),
        "macro": Macro.objects.create(
            organization=org_a,
            brand=brand,
            scope=Scope.PERSONAL,
            owner=owner.user,
            name=f"{prefix} macro",
            actions=[{"type": "tag", "tag": "matrix"}],
        ),
        "macro_run": MacroRun.objects.create(organization=org_a, actor=owner.user, name=f"{prefix} run"),
        "resolution_example": ResolutionExample.objects.create(
            organization=org_a,
            brand=brand,
            conversation=conversation,
            question_text="where is my order",
            reply_text="on its way",
            embedding=[0.1] * EMBEDDING_DIM,
        ),
        "saved_view": SavedView.objects.create(organization=org_a, user=owner.user, name=f"{prefix} view"),
        "notification": Notification.objects.create(
            organization=org_a,
            recipient=owner.user,
            kind=Notification.Kind.ASSIGNED,
            brand=conversation.brand,
            conversation=conversation,
        ),
        "api_token": api_token_create(membership=owner, name=f"{prefix} token", issuer=admin)[0],
        "failed_reply": MessageFactory(
            conversation=conversation,
            direction=Message.Direction.OUTBOUND,
            delivery_status=Message.Delivery.FAILED,
            author_user=owner.user,
            text="Sorry about that",
        ),
        "webhook_channel": ChannelFactory(
            brand=brand, kind=ChannelKind.WEBHOOK, credentials={"signing_secret": "s"}
        ),
        "livechat_channel": ChannelFactory(brand=brand, kind=ChannelKind.LIVECHAT, settings={}),
    }
    objects["agent_profile"] = AgentProfile.objects.create(
        organization=org_a, membership=owner, user=owner.user
    )
    objects["rule_run"] = RuleRun.objects.create(
        organization=org_a, rule=data["automation_rule"], conversation=conversation, event="message.received"
    )
    objects["auto_reply_sent"] = AutoReplySent.objects.create(
        organization=org_a, auto_reply=data["auto_reply"], conversation=conversation
    )
    objects["team_routing"] = TeamRouting.objects.get(team=data["team"])
    objects["conversation_sla"] = ConversationSLA.objects.create(
        organization=org_a, conversation=conversation
    )
    objects["auditevent"] = audit_record(
        organization=org_a, actor=None, action="matrix.test", target=customer
    )
    return objects


# Django admin: the world's object for each registered model (by model label).
ADMIN_OBJECTS = {
    "auth.group": None,  # platform operators' only; no object needed: refused before any lookup
    "core.auditevent": "auditevent",
    "accounts.organization": "organization",
    "accounts.brand": "brand",
    "accounts.team": "team",
    "accounts.membership": "membership",
    "accounts.user": "user",
    "customers.customer": "customer",
    "customers.identity": "identity",
    "customers.mergesuggestion": "suggestion",
    "customers.customermerge": "merge",
    "connectors.channel": "channel",
    "conversations.tag": "tag",
    "conversations.conversation": "conversation",
    "conversations.message": "message",
    "conversations.threadalias": "thread_alias",
    "ingestion.rawpayload": "payload",
    "ingestion.importjob": "import_job",
    "listening.listeningquery": "query",
    "listening.mention": "mention",
    "classification.classificationsettings": "classification_settings",
    "classification.trainingexample": "training_example",
    "classification.classifierversion": "classifier_version",
    "replies.savedreply": "saved_reply",
    "replies.resolutionexample": "resolution_example",
    "replies.macro": "macro",
    "replies.macrorun": "macro_run",
    "notifications.notification": "notification",
    "webhooks.webhookendpoint": "endpoint",
    "webhooks.webhookdelivery": "delivery",
    "alerts.alertrule": "rule",
    "alerts.alert": "alert",
    "automation.rule": "automation_rule",
    "automation.rulerun": "rule_run",
    "automation.autoreply": "auto_reply",
    "automation.autoreplysent": "auto_reply_sent",
    "automation.surveysettings": "survey_settings",
    "automation.survey": "survey",
    "routing.agentprofile": "agent_profile",
    "routing.teamrouting": "team_routing",
    "routing.slapolicy": "sla_policy",
    "routing.businesshours": "business_hours",
    "routing.holiday": "holiday",
    "routing.conversationsla": "conversation_sla",
    "routing.slaoutcome": "sla_outcome",
}
