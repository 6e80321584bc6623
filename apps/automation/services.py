"""State changes of automation: saving rules, running them on an event, acknowledgements, satisfaction
surveys and their answers. Every entry point (pages, API, tasks) goes through here."""

from __future__ import annotations

import contextvars
import functools
import logging
import re
import secrets
import time
from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import transaction
from django.db.models import Count, Max
from django.urls import reverse
from django.utils import timezone

from apps.conversations.models import Conversation, Message
from apps.core.audit import audit_record, audit_records
from apps.routing.services import SettingOutOfReach, setting_reach_check

from .models import AutoReply, AutoReplySent, Rule, RuleRun, Survey, SurveySettings, Trigger
from .registry import ACTIONS, RuleInvalid, Subject, action_clean, condition_clean, conditions_test

logger = logging.getLogger(__name__)

#: How deep one event's rules may set off further rules through their own changes (a rule's action changes
#: the conversation, which is an event for other rules, whose actions…). Past it the chain stops, logged.
MAX_CHAIN = 3
#: A rule acts on one conversation at most this many times an hour, whatever triggers it.
RUNS_PER_HOUR = 10
MAX_CONDITIONS = 20
MAX_ACTIONS = 10

# The rules whose actions are running in this process (a tuple of rule ids): the hooks that those actions
# send are received while it is set, and the events they queue carry it (apps/automation/receivers.py).
_chain: contextvars.ContextVar[tuple[int, ...]] = contextvars.ContextVar("cxm_rule_chain", default=())


def current_chain() -> tuple[int, ...]:
    return _chain.get()


# ------------------------------------------------------------------------------------------------- rules


def rule_clean(*, rule: Rule) -> Rule:
    """Check and normalise the rule's conditions and actions against the registry (RuleInvalid says why)."""
    organization = rule.organization
    if rule.brand_id and rule.brand.organization_id != rule.organization_id:
        raise RuleInvalid("that brand belongs to another organisation")
    if rule.trigger not in Trigger.values:
        raise RuleInvalid(f"unknown trigger “{rule.trigger}”")
    if not isinstance(rule.conditions or [], list) or not isinstance(rule.actions or [], list):
        raise RuleInvalid("conditions and actions are lists")
    conditions = [c for c in (rule.conditions or []) if isinstance(c, dict) and c.get("field")]
    actions = [a for a in (rule.actions or []) if isinstance(a, dict) and a.get("type")]
    if len(conditions) > MAX_CONDITIONS or len(actions) > MAX_ACTIONS:
        raise RuleInvalid(f"a rule has at most {MAX_CONDITIONS} conditions and {MAX_ACTIONS} actions")
    if not actions:
        raise RuleInvalid("a rule needs at least one action")
    rule.conditions = [condition_clean(c, organization) for c in conditions]
    rule.actions = [action_clean(a, organization) for a in actions]
    if not rule.name.strip():
        raise RuleInvalid("name the rule")
    return rule


def _reach_check(membership, brand_id) -> None:
    """The admin saving a rule, an acknowledgement or a survey may (routing's rule for every setting: a
    brand-limited admin changes only their brands' settings, not those of the whole organisation)."""
    try:
        setting_reach_check(membership, brand_id)
    except SettingOutOfReach as error:
        raise RuleInvalid(" ".join(error.messages)) from error


@transaction.atomic
def rule_save(*, rule: Rule, actor, membership=None) -> Rule:
    _reach_check(membership, rule.brand_id)
    rule_clean(rule=rule)
    if rule.pk is None:
        rule.created_by = actor if getattr(actor, "pk", None) else None
    try:
        rule.full_clean()
    except ValidationError as error:
        raise RuleInvalid(" ".join(error.messages)) from error
    rule.save()
    audit_record(
        organization=rule.organization,
        actor=actor,
        action="automation.rule_saved",
        target=rule,
        data={"name": rule.name, "trigger": rule.trigger, "active": rule.active},
    )
    return rule


@transaction.atomic
def rule_delete(*, rule: Rule, actor) -> None:
    audit_record(
        organization=rule.organization,
        actor=actor,
        action="automation.rule_deleted",
        target=rule,
        data={"name": rule.name, "trigger": rule.trigger},
    )
    rule.delete()


# A worker trusts its loaded rules this long before checking for edits (one cheap query per check).
VERSION_CHECK_SECONDS = 5.0
_loaded: dict[int, tuple[float, tuple, dict[str, list[Rule]]]] = {}


def rules_cache_clear() -> None:
    _loaded.clear()


def active_rules(organization_id: int, trigger: str) -> list[Rule]:
    """The organisation's active rules for the trigger, in order, each with its conditions compiled into
    one test (`rule.test`); loaded and compiled once per edit, per process."""
    now = time.monotonic()
    loaded = _loaded.get(organization_id)
    if loaded is None or now - loaded[0] > VERSION_CHECK_SECONDS:
        version = tuple(
            Rule.objects.filter(organization_id=organization_id)
            .aggregate(n=Count("pk"), at=Max("updated_at"))
            .values()
        )
        if loaded is None or loaded[1] != version:
            by_trigger: dict[str, list[Rule]] = {}
            for rule in Rule.objects.filter(organization_id=organization_id, active=True):
                rule.test = conditions_test(rule.conditions)
                by_trigger.setdefault(rule.trigger, []).append(rule)
            loaded = (now, version, by_trigger)
        else:
            loaded = (now, version, loaded[2])
        _loaded[organization_id] = loaded
    return loaded[2].get(trigger, [])


def _conversations(ids: Iterable[int]) -> dict[int, Conversation]:
    return Conversation.objects.select_related(
        "organization", "brand", "channel", "customer", "assignee", "team"
    ).in_bulk(list(ids))


def _reloader(conversation_id: int):
    @functools.cache
    def reload() -> Conversation | None:
        return _conversations([conversation_id]).get(conversation_id)

    return reload


def _first_match(rule: Rule, subjects: list[Subject]) -> Subject | None:
    """The first subject (the conversation with one of its new messages, newest first) the rule matches."""
    for subject in subjects:
        if rule.brand_id and rule.brand_id != subject.conversation.brand_id:
            return None
        if rule.test(subject):
            return subject
    return None


def _runs_last_hour(conversation_ids: Iterable[int]) -> dict[tuple[int, int], int]:
    """How many times each rule acted on each of the conversations in the last hour (RUNS_PER_HOUR), in
    one query for a batch of events."""
    since = timezone.now() - timedelta(hours=1)
    return {
        (row["rule_id"], row["conversation_id"]): row["n"]
        for row in RuleRun.objects.filter(conversation_id__in=list(conversation_ids), created_at__gte=since)
        .values("rule_id", "conversation_id")
        .annotate(n=Count("pk"))
    }


class _Refused(Exception):
    """The only action of a rule was refused: the rule's transaction is rolled back with whatever the action
    wrote, and the refusal recorded in a new one."""

    def __init__(self, outcome: dict):
        super().__init__(outcome["did"])
        self.outcome = outcome


def _actions_take(rule: Rule, conversation: Conversation) -> list[dict]:
    # A savepoint around each action undoes what a refused one wrote while the others go on; a rule of one
    # action needs none (two statements a match saved): its refusal rolls back the rule's transaction.
    alone = len(rule.actions) == 1
    outcomes = []
    for action in rule.actions:
        entry = ACTIONS.get(action.get("type"))
        if entry is None:
            outcomes.append({"type": action.get("type"), "ok": False, "did": "no such action here"})
            continue
        try:
            if alone:
                did = entry.run(conversation, action.get("value"))
            else:
                with transaction.atomic():
                    did = entry.run(conversation, action.get("value"))
            outcomes.append({"type": entry.name, "ok": True, "did": did})
        except (ValueError, ObjectDoesNotExist, ImportError) as error:
            # (ConversationActionError, ReplyRefused and RuleInvalid are ValueErrors.)
            outcome = {"type": entry.name, "ok": False, "did": str(error)[:500]}
            if alone:
                raise _Refused(outcome) from error
            outcomes.append(outcome)
    return outcomes


def _rule_applied(rule: Rule, subjects: list[Subject], outcomes: list[dict]) -> list[RuleRun]:
    """The run records and audit rows of a rule that took the same actions on the subjects' conversations
    (one INSERT each for all of them)."""
    runs = RuleRun.objects.bulk_create(
        [
            RuleRun(
                organization_id=subject.conversation.organization_id,
                rule=rule,
                conversation=subject.conversation,
                event=subject.event,
                outcomes=outcomes,
            )
            for subject in subjects
        ]
    )
    did = "; ".join(o["did"] if o["ok"] else f"{o['type']} refused: {o['did']}" for o in outcomes)
    audit_records(
        organization=subjects[0].conversation.organization,
        actor=None,
        action="automation.rule_applied",
        entries=[
            (
                subject.conversation,
                {
                    "rule": rule.pk,
                    "rule_name": rule.name,
                    "event": subject.event,
                    "outcomes": outcomes,
                    "explanation": f"Rule “{rule.name}” ({Trigger(subject.event).label.lower()}): {did}",
                },
            )
            for subject in subjects
        ],
    )
    return runs


def rule_apply(*, rule: Rule, subject: Subject, chain: tuple[int, ...] = ()) -> RuleRun:
    """Take the rule's actions on the subject's conversation, in order, as CXM. An action that is refused
    (a closed channel window, an agent without access…) is recorded with the reason and the others go on.
    The hooks the actions send carry the rule in the chain, so its own changes cannot trigger it again."""
    token = _chain.set((*chain, rule.pk))
    try:
        try:
            with transaction.atomic():
                return _rule_applied(rule, [subject], _actions_take(rule, subject.conversation))[0]
        except _Refused as refused:
            with transaction.atomic():
                return _rule_applied(rule, [subject], [refused.outcome])[0]
    finally:
        _chain.reset(token)


def _rule_apply_many(*, rule: Rule, subjects: list[Subject], chain: tuple[int, ...]) -> None:
    """rule_apply on each subject (of different conversations). Where every action of the rule has a bulk
    form (Action.run_many), they are taken on all the conversations at once: one transaction, one lock, one
    announcement instead of one each. A refusal undoes that and takes them one conversation at a time, where
    each refusal is recorded."""
    bulk = len(subjects) > 1 and all(
        getattr(ACTIONS.get(action.get("type")), "run_many", None) for action in rule.actions
    )
    if bulk:
        token = _chain.set((*chain, rule.pk))
        try:
            with transaction.atomic():
                conversations = [subject.conversation for subject in subjects]
                outcomes = []
                for action in rule.actions:
                    entry = ACTIONS[action["type"]]
                    did = entry.run_many(conversations, action.get("value"))
                    outcomes.append({"type": entry.name, "ok": True, "did": did})
                _rule_applied(rule, subjects, outcomes)
            return
        except (ValueError, ObjectDoesNotExist, ImportError):
            pass  # (rolled back) one at a time below, where the refusal is recorded for each
        finally:
            _chain.reset(token)
    for subject in subjects:
        rule_apply(rule=rule, subject=subject, chain=chain)


def rules_run(
    *,
    event: str,
    conversation_ids: Iterable[int],
    message_ids: Iterable[int] = (),
    chain: Iterable[int] = (),
    extra: dict | None = None,
    only_rule_id: int | None = None,
    messages: list[Message] | None = None,
) -> int:
    """Run the rules of `event` on the conversations (each with its latest message among `message_ids`),
    in order; returns how many rules matched. `messages`: those messages when the caller loaded them (with
    their channel). A rule already in `chain` (its own changes set this event off) is skipped; a chain
    MAX_CHAIN deep stops."""
    chain = tuple(chain)
    if len(chain) >= MAX_CHAIN:
        logger.warning("automation: rule chain %s stopped at depth %d (%s)", chain, len(chain), event)
        return 0
    conversations = _conversations(conversation_ids)
    # Each conversation's new messages, newest first: a rule is tested against each of them and acts once
    # per conversation and event, on the newest message that matches.
    if messages is None:
        messages = Message.objects.filter(pk__in=list(message_ids)).select_related("channel")
    new: dict[int, list[Message]] = {}
    for message in sorted(messages, key=lambda m: (m.sent_at, m.pk), reverse=True):
        new.setdefault(message.conversation_id, []).append(message)
    extra = extra or {}
    # Each conversation's subjects (its new messages, or None once its rules stopped), by organisation. The
    # rules run one after the other over all the conversations, so that a rule matching several of them acts
    # on them at once (_rule_apply_many); each conversation still sees the rules in order.
    subjects: dict[int, list[Subject] | None] = {}
    by_organization: dict[int, list[int]] = {}
    for conversation in conversations.values():
        subjects[conversation.pk] = [
            Subject(event=event, conversation=conversation, message=m, extra=extra)
            for m in new.get(conversation.pk) or [None]
        ]
        by_organization.setdefault(conversation.organization_id, []).append(conversation.pk)
    runs: dict[tuple[int, int], int] | None = None  # read once the first rule matches
    matched = 0
    for organization_id, ids in by_organization.items():
        rules = active_rules(organization_id, event)
        if only_rule_id is not None:
            rules = [rule for rule in rules if rule.pk == only_rule_id]
        for rule in rules:
            if rule.pk in chain:
                continue
            hits = []
            for pk in ids:
                subject = _first_match(rule, subjects[pk] or [])
                if subject is None:
                    continue
                if subject.current() is None:  # gone since a rule before this one acted on it
                    subjects[pk] = None
                    continue
                if runs is None:
                    runs = _runs_last_hour(conversations)
                if runs.get((rule.pk, pk), 0) >= RUNS_PER_HOUR:
                    logger.warning("automation: rule %s capped on conversation %s", rule.pk, pk)
                    continue
                hits.append(subject)
            if not hits:
                continue
            _rule_apply_many(rule=rule, subjects=hits, chain=chain)
            matched += len(hits)
            for subject in hits:
                pk = subject.conversation.pk
                runs[(rule.pk, pk)] = runs.get((rule.pk, pk), 0) + 1
                # The rules after it see the conversation as its actions left it, read again when needed.
                reload = _reloader(pk)
                subjects[pk] = (
                    None if rule.stop_processing else [s.after_action(reload) for s in subjects[pk]]
                )
    return matched


#: The no-reply sweep looks this far back, and takes this many conversations a rule per run.
NO_REPLY_HORIZON = timedelta(days=7)
NO_REPLY_BATCH = 500


def no_reply_due(*, now=None) -> int:
    """Beat: the conversations whose customer has waited longer than a no-reply rule says, once per wait
    (a rule runs again on a conversation only after a newer message of the customer)."""
    from django.db.models import Exists, OuterRef, Subquery

    now = now or timezone.now()
    applied = 0
    for rule in Rule.objects.filter(trigger=Trigger.NO_REPLY, active=True).order_by(
        "organization_id", "position"
    ):
        last = (
            Message.objects.filter(conversation=OuterRef("pk"))
            .exclude(direction=Message.Direction.NOTE)
            .order_by("-sent_at", "-pk")
        )
        waiting = (
            Conversation.objects.filter(
                organization_id=rule.organization_id,
                status__in=Conversation.ACTIVE_STATUSES,
                last_message_at__lte=now - timedelta(minutes=rule.wait_minutes),
                last_message_at__gte=now - timedelta(minutes=rule.wait_minutes) - NO_REPLY_HORIZON,
            )
            .annotate(last_direction=Subquery(last.values("direction")[:1]))
            .filter(last_direction=Message.Direction.INBOUND)
            .exclude(
                Exists(
                    RuleRun.objects.filter(
                        rule=rule, conversation=OuterRef("pk"), created_at__gte=OuterRef("last_message_at")
                    )
                )
            )
        )
        if rule.brand_id:
            waiting = waiting.filter(brand_id=rule.brand_id)
        ids = list(waiting.order_by("last_message_at").values_list("pk", flat=True)[:NO_REPLY_BATCH])
        if ids:
            applied += rules_run(
                event=Trigger.NO_REPLY,
                conversation_ids=ids,
                extra={"wait_minutes": rule.wait_minutes},
                only_rule_id=rule.pk,
            )
    return applied


# ------------------------------------------------------------------------------------------ auto-replies

_SURVEY_DATA = re.compile(r"^csat:([A-Za-z0-9_-]{8,32}):([1-5])$")


def survey_answer_data(message: Message) -> tuple[str, int] | None:
    """(token, rating) when the inbound message is a press on a survey's rating button: Telegram's
    callback_query data, WhatsApp's interactive reply id or quick-reply payload."""
    metadata = message.metadata or {}
    interactive = metadata.get("interactive") if isinstance(metadata.get("interactive"), dict) else {}
    for value in (metadata.get("callback_data"), interactive.get("id"), metadata.get("button_payload")):
        match = _SURVEY_DATA.match(str(value or ""))
        if match:
            return match.group(1), int(match.group(2))
    return None


@transaction.atomic
def auto_reply_save(*, auto_reply: AutoReply, actor, membership=None) -> AutoReply:
    _reach_check(membership, auto_reply.brand_id)
    auto_reply.texts = {
        str(k).strip().lower(): str(v).strip() for k, v in (auto_reply.texts or {}).items() if str(v).strip()
    }
    if not auto_reply.texts:
        raise RuleInvalid("write the acknowledgement in at least one language")
    if not 1 <= (auto_reply.window_hours or 0) <= 24 * 365:
        raise RuleInvalid("the window is an hour to a year")
    if auto_reply.default_language not in auto_reply.texts:
        raise RuleInvalid(f"write it in the default language ({auto_reply.default_language}) too")
    try:
        auto_reply.full_clean()
    except ValidationError as error:
        raise RuleInvalid(" ".join(error.messages)) from error
    auto_reply.save()
    audit_record(
        organization=auto_reply.organization,
        actor=actor,
        action="automation.auto_reply_saved",
        target=auto_reply,
        data={"brand": auto_reply.brand_id, "kind": auto_reply.kind, "active": auto_reply.active},
    )
    return auto_reply


def _outside_hours(conversation: Conversation, at) -> bool:
    try:
        from apps.routing.selectors import within_business_hours
    except ImportError:  # routing not installed: no business hours, so never outside them
        return False
    return not within_business_hours(conversation.brand, at=at, team=conversation.team)


def _first_contact(conversation: Conversation, first_new: Message, new_ids: set[int]) -> bool:
    return not (
        Message.objects.filter(conversation=conversation, sent_at__lte=first_new.sent_at)
        .exclude(pk__in=new_ids)
        .exclude(direction=Message.Direction.NOTE)
        .exists()
    )


def auto_replies_send(*, message_ids: Iterable[int]) -> int:
    """Acknowledge new inbound messages where the brand asks for it: outside business hours first, else on
    first contact; once per conversation per window, on the customer's channel, in their language, within
    the channel's messaging rules (a refusal is kept with its reason and counts for the window)."""
    from apps.replies.services import ReplyRefused, reply_send

    messages = list(
        Message.objects.filter(pk__in=list(message_ids), direction=Message.Direction.INBOUND)
        .select_related("channel")
        .order_by("sent_at", "pk")
    )
    by_conversation: dict[int, list[Message]] = {}
    for message in messages:
        if survey_answer_data(message) is None:
            by_conversation.setdefault(message.conversation_id, []).append(message)
    conversations = _conversations(by_conversation)
    replies: dict[tuple[int, str], AutoReply] = {
        (r.brand_id, r.kind): r
        for r in AutoReply.objects.filter(
            brand_id__in={c.brand_id for c in conversations.values()}, active=True
        )
    }
    sent = 0
    for conversation in conversations.values():
        new = by_conversation[conversation.pk]
        candidates = []
        if (reply := replies.get((conversation.brand_id, AutoReply.Kind.OUT_OF_HOURS))) and _outside_hours(
            conversation, new[-1].sent_at
        ):
            candidates.append(reply)
        if (reply := replies.get((conversation.brand_id, AutoReply.Kind.FIRST_CONTACT))) and _first_contact(
            conversation, new[0], {m.pk for m in new}
        ):
            candidates.append(reply)
        for reply in candidates:
            with transaction.atomic():
                # One at a time per conversation: two workers with two messages of it send one reply.
                Conversation.objects.select_for_update().filter(pk=conversation.pk).first()
                since = timezone.now() - timedelta(hours=reply.window_hours)
                if AutoReplySent.objects.filter(
                    conversation=conversation, auto_reply=reply, created_at__gte=since
                ).exists():
                    continue
                language = new[-1].language or conversation.language
                text = reply.text_for(language)
                record = AutoReplySent(
                    organization_id=conversation.organization_id, auto_reply=reply, conversation=conversation
                )
                try:
                    with transaction.atomic():
                        record.message = reply_send(conversation=conversation, author=None, text=text)
                except ReplyRefused as error:
                    record.refused = str(error)[:2000]
                record.save()
                audit_record(
                    organization=conversation.organization,
                    actor=None,
                    action="automation.auto_reply",
                    target=conversation,
                    data={
                        "kind": reply.kind,
                        "language": language,
                        "message": record.message_id,
                        "refused": record.refused,
                        "explanation": (
                            f"Sent the {reply.get_kind_display().lower()} acknowledgement"
                            f" ({language or 'default'})"
                            if record.message_id
                            else f"{reply.get_kind_display()} acknowledgement not sent: {record.refused}"
                        ),
                    },
                )
                sent += record.message_id is not None
            break  # one acknowledgement per batch
    return sent


# -------------------------------------------------------------------------------------------- surveys

#: A conversation resolved again within this long of its last survey is not surveyed again.
SURVEY_AGAIN_AFTER = timedelta(days=7)
RATING_LABELS = {1: "1 😞", 2: "2 🙁", 3: "3 😐", 4: "4 🙂", 5: "5 😀"}
#: After a rating given with the channel's buttons, the customer's next text within this time is its comment.
COMMENT_WINDOW = timedelta(hours=24)
#: The question asked for that comment where the brand wrote none (SurveySettings.comment_prompts).
COMMENT_PROMPTS = {
    "en": "Anything you would like to add? Just write it here (optional).",
    "es": "¿Algo que quieras añadir? Escríbelo aquí (opcional).",
    "fr": "Quelque chose à ajouter ? Écrivez-le ici (facultatif).",
    "de": "Möchten Sie etwas hinzufügen? Schreiben Sie es einfach hier (optional).",
    "pt": "Algo que queira acrescentar? Escreva aqui (opcional).",
}
_SIGNER_SALT = "cxm.automation.survey"


def survey_link(survey: Survey) -> str:
    signed = signing.Signer(salt=_SIGNER_SALT).sign(survey.token)
    return settings.CXM_BASE_URL + reverse("automation:survey_public", args=[signed])


def survey_from_signed(signed: str) -> Survey | None:
    try:
        token = signing.Signer(salt=_SIGNER_SALT).unsign(signed)
    except signing.BadSignature:
        return None
    return Survey.objects.select_related("brand", "conversation").filter(token=token).first()


@transaction.atomic
def survey_settings_save(*, survey_settings: SurveySettings, actor, membership=None) -> SurveySettings:
    _reach_check(membership, survey_settings.brand_id)
    survey_settings.questions = {
        str(k).strip().lower(): str(v).strip()
        for k, v in (survey_settings.questions or {}).items()
        if str(v).strip()
    }
    survey_settings.thanks = {
        str(k).strip().lower(): str(v).strip()
        for k, v in (survey_settings.thanks or {}).items()
        if str(v).strip()
    }
    if survey_settings.default_language not in survey_settings.questions:
        raise RuleInvalid(f"write the question in the default language ({survey_settings.default_language})")
    try:
        # No thank-you is a choice (none is sent), not a blank the model would refuse.
        survey_settings.full_clean(exclude=["thanks"])
    except ValidationError as error:
        raise RuleInvalid(" ".join(error.messages)) from error
    survey_settings.save()
    audit_record(
        organization=survey_settings.organization,
        actor=actor,
        action="automation.survey_settings_saved",
        target=survey_settings,
        data={"brand": survey_settings.brand_id, "active": survey_settings.active},
    )
    return survey_settings


def survey_send(*, conversation_id: int) -> Survey | None:
    """The satisfaction survey of a resolved conversation, on its channel: rating buttons where the channel
    has them, else a signed link to the survey's page. None when the brand sends none, the conversation is
    not closed (any more), is spam, or was surveyed lately."""
    from apps.conversations.services import SPAM
    from apps.replies.limits import channel_limits
    from apps.replies.services import ReplyRefused, reply_send

    with transaction.atomic():
        conversation = (
            Conversation.objects.select_for_update(of=("self",))
            .select_related("brand", "channel", "customer", "organization")
            .filter(pk=conversation_id)
            .first()
        )
        if conversation is None or conversation.status != Conversation.Status.CLOSED:
            return None
        config = SurveySettings.objects.filter(brand_id=conversation.brand_id, active=True).first()
        if config is None or conversation.tags.filter(name=SPAM).exists():
            return None
        if Survey.objects.filter(
            conversation=conversation, sent_at__gte=timezone.now() - SURVEY_AGAIN_AFTER
        ).exists():
            return None
        language = conversation.language
        survey = Survey.objects.create(
            organization_id=conversation.organization_id,
            brand_id=conversation.brand_id,
            conversation=conversation,
            customer_id=conversation.customer_id,
            channel_id=conversation.channel_id,
            agent_id=conversation.assignee_id,
            team_id=conversation.team_id,
            token=secrets.token_urlsafe(12),
            language=language,
        )
        text = config.text(config.questions, language)
        limits = channel_limits(conversation.channel)
        metadata = None
        if limits is not None and limits.buttons:
            metadata = {
                "buttons": [
                    {"text": label, "data": f"csat:{survey.token}:{n}"} for n, label in RATING_LABELS.items()
                ],
                "survey": survey.pk,
            }
        else:
            text = f"{text}\n{survey_link(survey)}"
        try:
            with transaction.atomic():
                survey.message = reply_send(
                    conversation=conversation, author=None, text=text, metadata=metadata
                )
        except ReplyRefused as error:
            survey.refused = str(error)[:2000]
        survey.save(update_fields=["message", "refused"])
        audit_record(
            organization=conversation.organization,
            actor=None,
            action="automation.survey_sent",
            target=conversation,
            data={
                "survey": survey.pk,
                "buttons": metadata is not None,
                "refused": survey.refused,
                "explanation": f"Satisfaction survey not sent: {survey.refused}"
                if survey.refused
                else "Satisfaction survey sent" + (" with rating buttons" if metadata else " with a link"),
            },
        )
        return survey


@transaction.atomic
def survey_answer(*, survey: Survey, rating: int, via: str, comment: str | None = None) -> Survey:
    """Record the customer's rating (a later one replaces it) and comment; it shows on the conversation's
    activity, the customer's timeline and the dashboards."""
    if not 1 <= int(rating) <= 5:
        raise RuleInvalid("a rating is from 1 to 5")
    survey = Survey.objects.select_for_update().select_related("conversation", "customer").get(pk=survey.pk)
    survey.rating = int(rating)
    if comment is not None:
        survey.comment = comment.strip()[:2000]
    survey.via = via
    survey.answered_at = timezone.now()
    survey.save(update_fields=["rating", "comment", "via", "answered_at"])
    data = {
        "survey": survey.pk,
        "rating": survey.rating,
        "comment": survey.comment,
        "via": via,
        "conversation": survey.conversation_id,
        "explanation": f"The customer rated the conversation {survey.rating}/5"
        + (f": “{survey.comment}”" if survey.comment else ""),
    }
    for target in (survey.conversation, survey.customer):
        audit_record(
            organization=survey.conversation.organization,
            actor=None,
            action="csat.answered",
            target=target,
            data=data,
        )
    return survey


def survey_answers_record(*, message_ids: Iterable[int]) -> int:
    """The survey answers among new inbound messages (rating buttons pressed on the channel). A press
    stored as a message reopened the resolved conversation: it is closed again, as the customer asked for
    nothing new; a thank-you goes out where the brand wrote one."""
    from apps.conversations.services import conversation_set_status
    from apps.replies.services import ReplyRefused, reply_send

    recorded = 0
    for message in Message.objects.filter(
        pk__in=list(message_ids), direction=Message.Direction.INBOUND
    ).select_related("conversation"):
        answer = survey_answer_data(message)
        if answer is None:
            continue
        survey = Survey.objects.filter(token=answer[0], conversation_id=message.conversation_id).first()
        if survey is None:
            continue
        survey_answer(survey=survey, rating=answer[1], via=Survey.Via.CHANNEL)
        recorded += 1
        conversation = message.conversation
        conversation.refresh_from_db()
        config = SurveySettings.objects.filter(brand_id=conversation.brand_id).first()
        thanks = config.text(config.thanks, survey.language) if config and config.thanks else ""
        if thanks:
            try:
                with transaction.atomic():
                    reply_send(conversation=conversation, author=None, text=thanks)
            except ReplyRefused:
                pass
        _comment_ask(survey, config, conversation)
        if (
            conversation.status == Conversation.Status.OPEN
            and not Message.objects.filter(
                conversation=conversation, direction=Message.Direction.INBOUND, sent_at__gt=survey.sent_at
            )
            .exclude(metadata__callback_data__startswith="csat:")
            .exclude(metadata__interactive__id__startswith="csat:")
            .exists()
        ):
            conversation_set_status(conversation=conversation, status=Conversation.Status.CLOSED, actor=None)
    return recorded


def _comment_ask(survey: Survey, config: SurveySettings | None, conversation: Conversation) -> None:
    """Once per survey, after a rating given with the channel's buttons: ask for an optional comment on the
    channel (its messaging rules apply: a refusal is only logged, the rating stands)."""
    from apps.replies.services import ReplyRefused, reply_send

    if survey.comment or survey.comment_asked_at is not None:
        return
    prompts = (config.comment_prompts if config is not None else None) or COMMENT_PROMPTS
    base = (survey.language or "").split("-")[0].lower()
    text = prompts.get(base) or prompts.get(config.default_language if config else "en") or prompts.get("en")
    if not text:
        return
    Survey.objects.filter(pk=survey.pk).update(comment_asked_at=timezone.now())
    try:
        with transaction.atomic():
            reply_send(conversation=conversation, author=None, text=text)
    except ReplyRefused as error:
        logger.info("survey %s: the comment question was refused: %s", survey.pk, error)


def survey_comments_record(messages: list[Message]) -> set[int]:
    """The customer's first text after they were asked for a comment (within COMMENT_WINDOW): it is the
    survey's comment (on the conversation's activity, the profile and the dashboard), and the conversation,
    which the message reopened, is closed again. Returns the ids of the messages taken as comments."""
    from apps.conversations.services import conversation_set_status

    texts = [m for m in messages if (m.text or "").strip() and survey_answer_data(m) is None]
    if not texts:
        return set()
    waiting = {
        survey.conversation_id: survey
        for survey in Survey.objects.filter(
            conversation_id__in={m.conversation_id for m in texts},
            comment="",
            rating__isnull=False,
            comment_asked_at__gte=timezone.now() - COMMENT_WINDOW,
        )
    }
    taken = set()
    for message in texts:
        survey = waiting.pop(message.conversation_id, None)
        if survey is None or message.sent_at < survey.comment_asked_at - timedelta(minutes=1):
            continue
        survey_answer(survey=survey, rating=survey.rating, via=Survey.Via.CHANNEL, comment=message.text)
        taken.add(message.pk)
        conversation = Conversation.objects.get(pk=message.conversation_id)
        if conversation.status == Conversation.Status.OPEN:
            conversation_set_status(conversation=conversation, status=Conversation.Status.CLOSED, actor=None)
    return taken


# ------------------------------------------------------------------------------------ events of messages


def messages_automate(
    *, message_ids: Iterable[int], chain: tuple[int, ...] = (), wanted: Iterable[str] | None = None
) -> None:
    """New inbound messages (automation_messages_task): survey answers are recorded and nothing else;
    the others are acknowledged where the brand asks for it, then go through the rules of "message
    received" and, in the conversations they opened, of "conversation created"."""
    # What the organisation automates (receivers.interest): the parts it does not are skipped unread.
    wanted = (
        set(wanted)
        if wanted is not None
        else {Trigger.CONVERSATION_CREATED, Trigger.MESSAGE_RECEIVED, "auto_reply"}
    )
    messages = list(
        Message.objects.filter(pk__in=list(message_ids), direction=Message.Direction.INBOUND)
        .select_related("channel")
        .order_by("sent_at", "pk")
    )
    answers = [m.pk for m in messages if survey_answer_data(m) is not None]
    if answers:
        survey_answers_record(message_ids=answers)
    if "survey" in wanted:
        # A survey's comment is recorded and nothing else (no acknowledgement, no rule: nobody waits).
        answers += survey_comments_record([m for m in messages if m.pk not in set(answers)])
    others = [m for m in messages if m.pk not in set(answers)]
    if not others:
        return
    ids = {m.pk for m in others}
    first: dict[int, Message] = {}
    for message in others:
        first.setdefault(message.conversation_id, message)
    if "auto_reply" in wanted:
        auto_replies_send(message_ids=ids)
    if Trigger.CONVERSATION_CREATED in wanted:
        created = {
            conversation_id
            for conversation_id, message in first.items()
            if not Message.objects.filter(conversation_id=conversation_id, sent_at__lte=message.sent_at)
            .exclude(pk__in=ids)
            .exclude(direction=Message.Direction.NOTE)
            .exists()
        }
        if created:
            rules_run(
                event=Trigger.CONVERSATION_CREATED,
                conversation_ids=created,
                message_ids=ids,
                chain=chain,
                messages=others,
            )
    if Trigger.MESSAGE_RECEIVED in wanted:
        rules_run(
            event=Trigger.MESSAGE_RECEIVED,
            conversation_ids=set(first),
            message_ids=ids,
            chain=chain,
            messages=others,
        )


# ------------------------------------------------------------------------------ the webhook action


class WebhookCallFailed(Exception):
    """The endpoint could not be reached or answered 5xx / 429: worth trying again later."""


def _webhook_audit(conversation: Conversation, url: str, rule_id, **data) -> None:
    audit_record(
        organization=conversation.organization,
        actor=None,
        action="automation.webhook_called",
        target=conversation,
        data={"url": url, "rule": rule_id, **data},
    )


def rule_webhook_call(*, conversation_id: int, url: str, rule_id: int | None = None) -> None:
    """POST the conversation to the rule's URL through the guard on tenant-configured destinations (no
    private, loopback or reserved address; apps/core/outbound.py). A refusal or a 4xx is final."""
    import httpx

    from apps.core.outbound import DestinationRefused, guarded_http_client

    conversation = _conversations([conversation_id]).get(conversation_id)
    if conversation is None:
        return
    payload = {
        "event": "automation.rule",
        "rule": rule_id,
        "conversation": {
            "id": conversation.pk,
            "brand": conversation.brand_id,
            "channel": conversation.channel.kind,
            "status": conversation.status,
            "priority": conversation.priority,
            "assignee": conversation.assignee_id,
            "team": conversation.team_id,
            "customer": conversation.customer_id,
            "subject": conversation.subject,
            "sentiment": conversation.sentiment,
            "intent": conversation.intent,
            "language": conversation.language,
            "url": settings.CXM_BASE_URL + f"/inbox/{conversation.pk}/",
        },
    }
    try:
        with guarded_http_client(timeout=10, follow_redirects=False) as client:
            response = client.post(url, json=payload, headers={"User-Agent": "CXM-Automation/1"})
    except DestinationRefused as error:
        _webhook_audit(
            conversation, url, rule_id, ok=False, error=str(error), explanation=f"Webhook refused: {error}"
        )
        return
    except httpx.HTTPError as error:
        raise WebhookCallFailed(str(error) or type(error).__name__) from error
    if response.status_code >= 500 or response.status_code == 429:
        raise WebhookCallFailed(f"HTTP {response.status_code}")
    _webhook_audit(
        conversation,
        url,
        rule_id,
        ok=response.status_code < 400,
        status=response.status_code,
        explanation=f"Webhook {url} answered HTTP {response.status_code}",
    )


def rule_webhook_failed(*, conversation_id: int, url: str, rule_id, error: Exception) -> None:
    conversation = _conversations([conversation_id]).get(conversation_id)
    if conversation is not None:
        reason = f"gave up: {error}"[:500]
        _webhook_audit(
            conversation, url, rule_id, ok=False, error=reason, explanation=f"Webhook {url}: {reason}"
        )
