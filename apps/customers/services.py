"""Identity resolution, merge / unmerge, and the privacy actions on customer profiles.

Identities are joined automatically only on strong evidence: the same verified email or phone, or an
explicit link (a login through the brand's own site, an imported CRM record). Weak evidence (the same
handle on another network, the same name, an unverified email) only produces a MergeSuggestion that
an agent confirms or rejects.
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from apps.core import bulk_sql
from apps.core.audit import audit_record

from .hooks import attributes_changed, customer_erasing
from .models import Customer, CustomerMerge, Identity, MergeSuggestion, StrongLink
from .selectors import active_customer

PROFILE_FIELDS = ("display_name", "attributes", "lifetime_value")


class MergeError(ValueError):
    pass


def normalise_email(email: str) -> str:
    return email.strip().lower()


def normalise_phone(phone: str) -> str:
    if not phone:  # most authors have none: no regex to run
        return ""
    digits = re.sub(r"[^\d]", "", phone)
    return f"+{digits}" if digits else ""


def normalise_handle(handle: str) -> str:
    return handle.strip().lstrip("@").lower()


def _strong_matches(identity: Identity, links: list[StrongLink]) -> list[tuple[Customer, str]]:
    conditions: list[tuple[Q, str]] = []
    if identity.email and identity.email_verified:
        conditions.append((Q(email=identity.email, email_verified=True), "same verified email"))
    if identity.phone and identity.phone_verified:
        conditions.append((Q(phone=identity.phone, phone_verified=True), "same verified phone"))
    for link in links:
        conditions.append((Q(kind=link.kind, external_id=link.external_id), link.reason))
    matches: dict[int, tuple[Customer, str]] = {}
    base = Identity.objects.filter(organization_id=identity.organization_id).exclude(pk=identity.pk)
    for condition, reason in conditions:
        for other in base.filter(condition).select_related("customer"):
            customer = active_customer(other.customer)
            if customer.erased_at is None:
                matches.setdefault(customer.pk, (customer, reason))
    return sorted(matches.values(), key=lambda match: match[0].pk)


def _weak_keys(identity: Identity) -> list[tuple[str, str, str, float]]:
    """(lookup, value, reason, score) for each piece of weak evidence the identity carries."""
    keys = []
    if identity.email:
        keys.append(("email", identity.email.upper(), "same email (not verified)", 0.8))
    handle = normalise_handle(identity.handle)
    if len(handle) >= 4:
        keys.append(("handle", handle.upper(), "same handle on another channel", 0.6))
    name = identity.display_name.strip()
    if len(name) >= 6 and " " in name:
        keys.append(("display_name", name.upper(), "same full name", 0.4))
    return keys


def suggest_weak_matches(identities: list[Identity]) -> list[MergeSuggestion]:
    """Weak evidence only ever suggests a merge, for an agent to confirm. A few queries for any number of
    identities (of one organisation), each answered from a case-insensitive index."""
    if not identities:
        return []
    organization_id = identities[0].organization_id
    wanted: dict[str, set[str]] = {"email": set(), "handle": set(), "display_name": set()}
    keys = [(identity, _weak_keys(identity)) for identity in identities]  # read twice below
    for _, weak in keys:
        for lookup, value, _, _ in weak:
            wanted[lookup].add(value)
    wanted["handle"] |= {f"@{value}" for value in wanted["handle"]}  # stored with or without the @
    own = [identity.pk for identity in identities]
    others: dict[tuple[str, str], set[int]] = {}
    # An import brings hundreds of new identities at once: their values go as arrays, not a parameter each.
    with bulk_sql.binary_cursor() as cursor:
        for lookup, values in wanted.items():
            if not values:
                continue
            cursor.execute(
                f"""
                SELECT upper(identity.{lookup}), identity.customer_id
                FROM {Identity._meta.db_table} AS identity
                JOIN {Customer._meta.db_table} AS customer ON customer.id = identity.customer_id
                WHERE identity.organization_id = %s AND upper(identity.{lookup}) = ANY(%b)
                    AND NOT identity.id = ANY(%b)
                    AND customer.merged_into_id IS NULL AND customer.erased_at IS NULL
                LIMIT 5000
                """,
                [organization_id, list(values), own],
            )
            for key, customer_id in cursor:
                if lookup == "handle":
                    key = key.lstrip("@")
                others.setdefault((lookup, key), set()).add(customer_id)
    proposals: dict[tuple[int, int], MergeSuggestion] = {}
    for identity, weak in keys:
        for lookup, value, reason, score in weak:
            for candidate_id in sorted(others.get((lookup, value), ()))[:20]:
                pair = (identity.customer_id, candidate_id)
                if (
                    candidate_id != identity.customer_id
                    and pair not in proposals
                    and pair[::-1] not in proposals
                ):
                    proposals[pair] = bulk_sql.unsaved(
                        MergeSuggestion,
                        organization_id=organization_id,
                        customer_id=identity.customer_id,
                        candidate_id=candidate_id,
                        reason=reason,
                        score=score,
                        evidence={"identity": identity.pk, "lookup": lookup},
                    )
    if not proposals:
        return []
    customers = list({a for a, _ in proposals} | {b for _, b in proposals})
    with bulk_sql.binary_cursor() as cursor:  # thousands of ids: two arrays, not a parameter each
        cursor.execute(
            f"SELECT customer_id, candidate_id FROM {MergeSuggestion._meta.db_table} "
            "WHERE customer_id = ANY(%b) AND candidate_id = ANY(%b)",
            [customers, customers],
        )
        known = set(cursor.fetchall())
    fresh = [s for pair, s in proposals.items() if pair not in known and pair[::-1] not in known]
    bulk_sql.insert(fresh, ignore_conflicts=True)  # an import may bring thousands: no per-value quoting
    return fresh


@transaction.atomic
def identity_resolve(
    *,
    organization,
    kind: str,
    external_id: str,
    handle: str = "",
    display_name: str = "",
    profile_url: str = "",
    avatar_url: str = "",
    followers: int | None = None,
    verified: bool | None = None,
    email: str = "",
    email_verified: bool = False,
    phone: str = "",
    phone_verified: bool = False,
    links: list[StrongLink] = (),
) -> Identity:
    """Find or create the identity (kind, external_id) and attach it to the right customer profile."""
    email, phone = normalise_email(email), normalise_phone(phone)
    identity = (
        Identity.objects.select_for_update()
        .filter(organization=organization, kind=kind, external_id=external_id)
        .first()
    )
    created = identity is None
    if created:
        identity = Identity(organization=organization, kind=kind, external_id=external_id)
    # Newer facts from the platform win; blanks never erase what we know.
    facts = {
        "handle": handle,
        "display_name": display_name,
        "profile_url": profile_url,
        "avatar_url": avatar_url,
        "email": email,
        "phone": phone,
        "followers": followers,
        "verified": verified,
        "email_verified": identity.email_verified or (bool(email) and email_verified),
        "phone_verified": identity.phone_verified or (bool(phone) and phone_verified),
    }
    changed = False
    for field, value in facts.items():
        if value not in ("", None) and getattr(identity, field) != value:
            setattr(identity, field, value)
            changed = True
    if not created and not changed and not links:
        # The usual case on a busy channel: a known author, nothing new to learn or to match.
        return identity

    matches = _strong_matches(identity, list(links))
    if created:
        if matches:
            identity.customer = matches[0][0]
        else:
            identity.customer = Customer.objects.create(
                organization=organization, display_name=display_name or handle
            )
    identity.save()

    # Strong evidence joins every profile it points at into one (the oldest keeps the history).
    holder = active_customer(identity.customer)
    merged = False
    for customer, reason in matches:
        if customer.pk != holder.pk:
            target, source = (holder, customer) if holder.pk < customer.pk else (customer, holder)
            customer_merge(source=source, target=target, actor=None, reason=reason, automatic=True)
            holder = target
            merged = True
    if merged:
        identity.refresh_from_db()
    suggest_weak_matches([identity])
    return identity


def _profile_snapshot(customer: Customer) -> dict:
    return {
        "display_name": customer.display_name,
        "attributes": customer.attributes,
        "lifetime_value": str(customer.lifetime_value) if customer.lifetime_value is not None else None,
    }


@transaction.atomic
def customer_merge(
    *, source: Customer, target: Customer, actor, reason: str, automatic: bool = False
) -> CustomerMerge:
    """Move everything of `source` into `target`; recorded so that `customer_unmerge` can undo it."""
    from apps.conversations.models import Conversation

    source, target = (
        Customer.objects.select_for_update().get(pk=source.pk),
        Customer.objects.select_for_update().get(pk=target.pk),
    )
    if source.pk == target.pk:
        raise MergeError("a profile cannot be merged into itself")
    if source.organization_id != target.organization_id:
        raise MergeError("profiles of different organisations cannot be merged")
    if not (source.is_active and target.is_active):
        raise MergeError("only active profiles can be merged (neither merged away nor erased)")

    identity_ids = list(source.identities.values_list("pk", flat=True))
    conversation_ids = list(Conversation.objects.filter(customer=source).values_list("pk", flat=True))
    merge = CustomerMerge.objects.create(
        organization_id=source.organization_id,
        source=source,
        target=target,
        actor=actor,
        reason=reason,
        automatic=automatic,
        moved_identity_ids=identity_ids,
        moved_conversation_ids=conversation_ids,
        source_snapshot=_profile_snapshot(source),
        target_snapshot=_profile_snapshot(target),
    )
    Identity.objects.filter(pk__in=identity_ids).update(customer=target)
    Conversation.objects.filter(pk__in=conversation_ids).update(customer=target)
    # The target's own values win; the source fills the gaps.
    target.attributes = {**source.attributes, **target.attributes}
    target.display_name = target.display_name or source.display_name
    if target.lifetime_value is None:
        target.lifetime_value = source.lifetime_value
    target.save()
    source.merged_into = target
    source.save(update_fields=["merged_into", "updated_at"])
    MergeSuggestion.objects.filter(
        Q(customer=source, candidate=target) | Q(customer=target, candidate=source),
        status=MergeSuggestion.Status.PENDING,
    ).update(status=MergeSuggestion.Status.ACCEPTED, decided_by=actor, decided_at=timezone.now())
    audit_record(
        organization=target.organization,
        actor=actor,
        action="customer.merged",
        target=target,
        data={"source": source.pk, "reason": reason, "automatic": automatic, "merge": merge.pk},
    )
    return merge


@transaction.atomic
def customer_unmerge(*, merge: CustomerMerge, actor) -> Customer:
    """Undo one merge: the source profile gets back exactly the identities and conversations it had."""
    from apps.conversations.models import Conversation

    merge = CustomerMerge.objects.select_for_update().get(pk=merge.pk)
    if merge.undone_at:
        raise MergeError("this merge was already undone")
    source = Customer.objects.select_for_update().get(pk=merge.source_id)
    target = Customer.objects.select_for_update().get(pk=merge.target_id)
    if source.erased_at or target.erased_at:
        raise MergeError("an erased profile cannot be unmerged")
    Identity.objects.filter(pk__in=merge.moved_identity_ids).update(customer=source)
    Conversation.objects.filter(pk__in=merge.moved_conversation_ids).update(customer=source)
    # Attributes the merge brought in (and nobody changed since) go back with the source.
    before = merge.target_snapshot.get("attributes", {})
    for key, value in merge.source_snapshot.get("attributes", {}).items():
        if key not in before and target.attributes.get(key) == value:
            target.attributes.pop(key, None)
    if not merge.target_snapshot.get("display_name") and target.display_name == source.display_name:
        target.display_name = ""
    target.save()
    source.merged_into = None
    source.save(update_fields=["merged_into", "updated_at"])
    merge.undone_at = timezone.now()
    merge.undone_by = actor
    merge.save(update_fields=["undone_at", "undone_by"])
    audit_record(
        organization=source.organization,
        actor=actor,
        action="customer.unmerged",
        target=source,
        data={"from": target.pk, "merge": merge.pk},
    )
    return source


@transaction.atomic
def merge_suggestion_decide(*, suggestion: MergeSuggestion, actor, accept: bool) -> CustomerMerge | None:
    suggestion = MergeSuggestion.objects.select_for_update().get(pk=suggestion.pk)
    if suggestion.status != MergeSuggestion.Status.PENDING:
        raise MergeError("this suggestion was already decided")
    merge = None
    if accept:
        # The older profile keeps the history.
        a, b = active_customer(suggestion.customer), active_customer(suggestion.candidate)
        target, source = (a, b) if a.pk < b.pk else (b, a)
        merge = customer_merge(
            source=source, target=target, actor=actor, reason=f"confirmed: {suggestion.reason}"
        )
    suggestion.refresh_from_db()
    suggestion.status = MergeSuggestion.Status.ACCEPTED if accept else MergeSuggestion.Status.REJECTED
    suggestion.decided_by = actor
    suggestion.decided_at = timezone.now()
    suggestion.save()
    return merge


def customer_update(
    *, customer: Customer, actor, display_name: str | None = None, attributes: dict | None = None
) -> Customer:
    if customer.erased_at is not None or customer.merged_into_id is not None:
        raise ValidationError("An erased or merged profile is not changed.")
    changed = {}
    if display_name is not None and display_name != customer.display_name:
        customer.display_name = changed["display_name"] = display_name
    if attributes is not None:
        customer.attributes = {**customer.attributes, **attributes}
        changed["attributes"] = sorted(attributes)
    customer.full_clean()
    customer.save()
    audit_record(
        organization=customer.organization,
        actor=actor,
        action="customer.updated",
        target=customer,
        data=changed,
    )
    if attributes:
        keys = sorted(attributes)
        transaction.on_commit(lambda: attributes_changed.send(customer=customer, keys=keys))
    return customer


@transaction.atomic
def customer_erase(*, customer: Customer, actor) -> dict:
    """Right to erasure: redact what the person wrote, remove their identities, keep an audit record.

    Profiles merged into this one are the same person and are erased with it.
    """
    from apps.conversations.models import Conversation, Message

    profiles = [customer, *Customer.objects.filter(merged_into=customer)]
    profile_ids = [profile.pk for profile in profiles]
    identity_ids = list(Identity.objects.filter(customer_id__in=profile_ids).values_list("pk", flat=True))
    conversation_ids = list(
        Conversation.objects.filter(customer_id__in=profile_ids).values_list("pk", flat=True)
    )
    their_messages = Message.objects.filter(
        Q(author_identity_id__in=identity_ids)
        | Q(conversation_id__in=conversation_ids, direction=Message.Direction.INBOUND)
    )
    payload_ids = list(their_messages.exclude(raw_payload=None).values_list("raw_payload_id", flat=True))
    # What the apps above kept of their words goes too: the raw payloads, the classifier's per-brand
    # segments and corrections, suggested-reply examples built from their conversations.
    customer_erasing.send(
        message_ids=list(their_messages.values_list("pk", flat=True)),
        conversation_ids=conversation_ids,
        payload_ids=payload_ids,
    )
    redacted_messages = their_messages.update(
        text="[erased]", html="", metadata={"erased": True}, classification={}
    )
    Conversation.objects.filter(pk__in=conversation_ids).update(subject="[erased]")
    removed_identities = Identity.objects.filter(pk__in=identity_ids).delete()[0]
    MergeSuggestion.objects.filter(Q(customer_id__in=profile_ids) | Q(candidate_id__in=profile_ids)).delete()
    CustomerMerge.objects.filter(Q(source_id__in=profile_ids) | Q(target_id__in=profile_ids)).update(
        source_snapshot={}, target_snapshot={}
    )
    now = timezone.now()
    Customer.objects.filter(pk__in=profile_ids).update(
        display_name="", attributes={}, lifetime_value=None, erased_at=now
    )
    summary = {
        "profiles": len(profile_ids),
        "identities_removed": removed_identities,
        "messages_redacted": redacted_messages,
        "payloads_redacted": len(payload_ids),
    }
    audit_record(
        organization=customer.organization,
        actor=actor,
        action="customer.erased",
        target=customer,
        data=summary,
    )
    return summary
