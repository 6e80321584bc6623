"""Macros: named lists of actions (insert a saved reply, tag, assign, set status or priority, snooze, add a
note) run on one conversation or many, through the conversations' own services, and undone as one.

An action is a JSON object with a "type" (ACTION_TYPES) and its value; `macro_actions_clean` checks a list
of them before a macro is saved, so that a run only fails for a reason of the moment (an assignee who no
longer works on a brand), and then as a whole: the run is one transaction.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from apps.conversations.models import Conversation, Message

from .models import Macro, MacroRun, SavedReply

ACTION_TYPES = {
    "saved_reply": "Insert a saved reply",
    "tag": "Tag",
    "assign": "Assign",
    "status": "Set status",
    "priority": "Set priority",
    "snooze": "Snooze",
    "note": "Add a note",
}
#: Statuses a macro may set directly (snoozing takes its time: the "snooze" action).
STATUSES = (Conversation.Status.OPEN, Conversation.Status.PENDING, Conversation.Status.CLOSED)
PRIORITIES = {"low": 10.0, "normal": 40.0, "high": 70.0, "urgent": 95.0}
SNOOZE_MAX_HOURS = 24 * 30


class MacroRefused(ValueError):
    """A macro that cannot be saved, run or undone; the message says why, in words for the agent."""


@dataclass
class MacroOutcome:
    run: MacroRun
    text: str = ""  # the saved reply to put in the composer (a run on one conversation)
    notes: list[str] = field(default_factory=list)  # what the agent should know (skipped parts)


# ------------------------------------------------------------------------------------------------ actions


def macro_actions_clean(actions, *, organization_id: int) -> list[dict]:
    """The actions in their stored form; raises MacroRefused naming the first wrong one."""
    from apps.accounts.models import Membership

    if not isinstance(actions, list) or not actions:
        raise MacroRefused("A macro needs at least one action.")
    if len(actions) > 20:
        raise MacroRefused("A macro has at most 20 actions.")
    cleaned = []
    for number, action in enumerate(actions, start=1):
        kind = action.get("type") if isinstance(action, dict) else None
        where = f"Action {number}"
        if kind not in ACTION_TYPES:
            raise MacroRefused(f"{where}: the type is one of {', '.join(ACTION_TYPES)}.")
        if kind == "saved_reply":
            if not SavedReply.objects.filter(
                pk=_int(action.get("saved_reply")), organization_id=organization_id
            ):
                raise MacroRefused(f"{where}: no such saved reply.")
            cleaned.append({"type": kind, "saved_reply": _int(action["saved_reply"])})
        elif kind == "tag":
            name = str(action.get("tag", "")).strip()
            if not 0 < len(name) <= 60:
                raise MacroRefused(f"{where}: a tag is 1 to 60 characters long.")
            cleaned.append({"type": kind, "tag": name})
        elif kind == "assign":
            assignee = action.get("assignee")
            if assignee not in ("me", "nobody"):
                member = Membership.objects.filter(user_id=_int(assignee), organization_id=organization_id)
                if not member.exists():
                    raise MacroRefused(f"{where}: assign to “me”, “nobody” or a member of the organisation.")
                assignee = _int(assignee)
            cleaned.append({"type": kind, "assignee": assignee})
        elif kind == "status":
            if action.get("status") not in STATUSES:
                raise MacroRefused(f"{where}: the status is one of {', '.join(STATUSES)}.")
            cleaned.append({"type": kind, "status": action["status"]})
        elif kind == "priority":
            priority = action.get("priority")
            priority = PRIORITIES.get(priority, priority)
            if not isinstance(priority, int | float) or not 0 <= priority <= 100:
                raise MacroRefused(f"{where}: a priority is from 0 to 100 (or low, normal, high, urgent).")
            cleaned.append({"type": kind, "priority": float(priority)})
        elif kind == "snooze":
            hours = action.get("hours")
            if not isinstance(hours, int | float) or not 0 < hours <= SNOOZE_MAX_HOURS:
                raise MacroRefused(f"{where}: snooze for 1 to {SNOOZE_MAX_HOURS} hours.")
            cleaned.append({"type": kind, "hours": hours})
        elif kind == "note":
            text = str(action.get("text", "")).strip()
            if not text:
                raise MacroRefused(f"{where}: write the note.")
            cleaned.append({"type": kind, "text": text})
    kinds = [action["type"] for action in cleaned]
    if "snooze" in kinds and "status" in kinds:
        raise MacroRefused("Snoozing sets the status: a macro does one or the other.")
    return cleaned


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def macro_describe(macro: Macro) -> list[str]:
    """The actions in words, for lists and the picker."""
    titles = dict(
        SavedReply.objects.filter(
            pk__in=[a["saved_reply"] for a in macro.actions if a["type"] == "saved_reply"]
        ).values_list("pk", "title")
    )
    words = []
    for action in macro.actions:
        kind = action["type"]
        if kind == "saved_reply":
            words.append(f"insert “{titles.get(action['saved_reply'], 'a deleted saved reply')}”")
        elif kind == "tag":
            words.append(f"tag “{action['tag']}”")
        elif kind == "assign":
            who = action["assignee"]
            words.append("assign to me" if who == "me" else "unassign" if who == "nobody" else "assign")
        elif kind == "status":
            words.append(f"set status {Conversation.Status(action['status']).label.lower()}")
        elif kind == "priority":
            words.append(f"set priority {action['priority']:g}")
        elif kind == "snooze":
            words.append(f"snooze {action['hours']:g} h")
        elif kind == "note":
            words.append("add a note")
    return words


# ---------------------------------------------------------------------------------------------- run, undo


def _state(conversation: Conversation) -> dict:
    return {
        "status": conversation.status,
        "snoozed_until": conversation.snoozed_until.isoformat() if conversation.snoozed_until else None,
        "assignee": conversation.assignee_id,
        "priority": conversation.priority,
    }


def _tag_ids(conversation_ids: list[int]) -> dict[int, set[int]]:
    tags = defaultdict(set)
    through = Conversation.tags.through.objects.filter(conversation_id__in=conversation_ids)
    for conversation_id, tag_id in through.values_list("conversation_id", "tag_id"):
        tags[conversation_id].add(tag_id)
    return tags


def _assignee(action: dict, actor):
    from apps.accounts.models import User

    who = action["assignee"]
    if who == "me":
        return actor
    if who == "nobody":
        return None
    return User.objects.filter(pk=who).first()


@transaction.atomic
def macro_run(
    *, macro: Macro, conversations: list[Conversation], actor, seen: Mapping[int, int] | None = None
) -> MacroOutcome:
    """Run the macro's actions in order on the conversations (at most BULK_LIMIT, one organisation) and
    record what each was before, for macro_undo. A saved reply goes into the composer only when the macro
    runs on one conversation (it is never sent by a macro); on many it is left out, and the outcome says so.
    Raises MacroRefused (nothing done) when an action cannot be done on one of them. `seen` maps conversation
    ids to the versions the agent saw (as every conversation action takes them): when one changed since,
    conversations.services.ConversationChanged is raised before anything is done (None: no check). The
    actions themselves go through the domain services without it: once the rows are locked and checked,
    the macro's own earlier actions are the only changes they can meet."""
    from apps.conversations import services as domain
    from apps.conversations.services import ConversationActionError

    from .services import saved_reply_used
    from .variables import variable_values, variables_fill

    if any(c.organization_id != macro.organization_id for c in conversations):
        raise MacroRefused("The macro belongs to another organisation.")
    ids = sorted({c.pk for c in conversations})
    if not ids:
        raise MacroRefused("Select at least one conversation.")
    if len(ids) > domain.BULK_LIMIT:
        raise MacroRefused(f"Select at most {domain.BULK_LIMIT} conversations at once.")
    locked = list(
        Conversation.objects.select_for_update(of=("self",))
        .select_related("customer", "brand", "organization")
        .filter(pk__in=ids)
        .order_by("pk")
    )
    domain.conversations_check_seen(conversations=locked, seen=seen)
    before = {c.pk: _state(c) for c in locked}
    tags_before = _tag_ids(ids)
    notes: dict[int, list[int]] = defaultdict(list)
    outcome_text, skipped = "", []
    try:
        for action in macro.actions:
            kind = action["type"]
            if kind == "saved_reply":
                reply = SavedReply.objects.filter(pk=action["saved_reply"]).first()
                if reply is None:
                    skipped.append("Its saved reply was deleted since: nothing to insert.")
                elif len(locked) > 1:
                    skipped.append(
                        f"The saved reply “{reply.title}” goes into the composer only when the macro runs "
                        "on one conversation: open one to insert it."
                    )
                else:
                    (conversation,) = locked
                    values = variable_values(
                        customer=conversation.customer, brand=conversation.brand, agent=actor
                    )
                    outcome_text = variables_fill(reply.body, values).text
                    saved_reply_used(saved_reply=reply)
            elif kind == "tag":
                domain.conversations_bulk_tag(conversations=locked, name=action["tag"], actor=actor)
            elif kind == "assign":
                domain.conversations_bulk_assign(
                    conversations=locked, assignee=_assignee(action, actor), actor=actor
                )
            elif kind == "status":
                domain.conversations_bulk_set_status(
                    conversations=locked, status=action["status"], actor=actor
                )
            elif kind == "priority":
                for conversation in locked:
                    domain.conversation_set_priority(
                        conversation=conversation, priority=action["priority"], actor=actor
                    )
            elif kind == "snooze":
                until = timezone.now() + timedelta(hours=action["hours"])
                for conversation in locked:
                    domain.conversation_snooze(conversation=conversation, until=until, actor=actor)
            elif kind == "note":
                for conversation in locked:
                    values = variable_values(
                        customer=conversation.customer, brand=conversation.brand, agent=actor
                    )
                    text = variables_fill(action["text"], values).text
                    note = domain.note_add(conversation=conversation, author=actor, text=text)
                    notes[conversation.pk].append(note.pk)
    except ConversationActionError as error:
        raise MacroRefused(_sentence(error)) from error
    after = {c.pk: _state(c) for c in Conversation.objects.filter(pk__in=ids)}
    tags_after = _tag_ids(ids)
    run = MacroRun.objects.create(
        organization_id=macro.organization_id,
        macro=macro,
        name=macro.name,
        actor=actor if getattr(actor, "pk", None) else None,
        changes=[
            {
                "conversation": pk,
                "before": before[pk],
                "after": after[pk],
                "tags": sorted(tags_after[pk] - tags_before[pk]),
                "notes": notes[pk],
            }
            for pk in ids
        ],
        skipped=skipped,
    )
    Macro.objects.filter(pk=macro.pk).update(usage_count=F("usage_count") + 1, last_used_at=timezone.now())
    _audit(run, actor, "macro.run", {"macro": macro.pk, "conversations": ids})
    return MacroOutcome(run=run, text=outcome_text, notes=skipped)


@transaction.atomic
def macro_undo(*, run: MacroRun, actor) -> list[str]:
    """Put each conversation back as it was before the run: what the run changed and nobody changed since
    (a field someone changed since stays as they left it, and the returned notes say so); the tags it added
    are taken off, the notes it added are marked deleted. A run is undone once."""
    from apps.conversations import services as domain
    from apps.conversations.models import Tag

    run = MacroRun.objects.select_for_update().get(pk=run.pk)
    if run.undone_at is not None:
        raise MacroRefused("This macro run was already undone.")
    left: list[str] = []
    ids = [change["conversation"] for change in run.changes]
    current = {
        c.pk: c
        for c in Conversation.objects.select_for_update(of=("self",)).filter(pk__in=ids).order_by("pk")
    }
    for change in run.changes:
        conversation = current.get(change["conversation"])
        if conversation is None:
            continue  # merged or deleted since
        before, after, now = change["before"], change["after"], _state(conversation)
        status = ("status", "snoozed_until")
        if [before[k] for k in status] != [after[k] for k in status]:
            if [now[k] for k in status] == [after[k] for k in status]:
                until = before["snoozed_until"]
                domain.conversation_set_status(
                    conversation=conversation,
                    status=before["status"],
                    actor=actor,
                    snoozed_until=datetime.fromisoformat(until) if until else None,
                )
            else:
                left.append(f"“{conversation}”: its status was changed since the macro; left as it is.")
        if before["assignee"] != after["assignee"]:
            if now["assignee"] == after["assignee"]:
                from apps.accounts.models import User

                assignee = User.objects.filter(pk=before["assignee"]).first() if before["assignee"] else None
                domain.conversation_assign(conversation=conversation, assignee=assignee, actor=actor)
            else:
                left.append(f"“{conversation}”: it was assigned again since the macro; left as it is.")
        if before["priority"] != after["priority"]:
            if now["priority"] == after["priority"]:
                domain.conversation_set_priority(
                    conversation=conversation, priority=before["priority"], actor=actor
                )
            else:
                left.append(f"“{conversation}”: its priority changed since the macro; left as it is.")
        for tag in Tag.objects.filter(pk__in=change["tags"]):
            domain.conversation_untag(conversation=conversation, tag=tag, actor=actor)
        Message.objects.filter(pk__in=change["notes"], deleted_at=None).update(deleted_at=timezone.now())
    domain._announce(current.values())
    run.undone_at = timezone.now()
    run.save(update_fields=["undone_at"])
    _audit(run, actor, "macro.undone", {"conversations": ids, "left": left})
    return left


def _audit(run: MacroRun, actor, action: str, data: dict) -> None:
    from apps.core.audit import audit_record

    audit_record(organization=run.organization, actor=actor, action=action, target=run, data=data)


def _sentence(error: Exception) -> str:
    text = str(error)
    return f"{text[:1].upper()}{text[1:]}".rstrip(".") + "."
