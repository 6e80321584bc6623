from .models import AuditEvent


def audit_record(*, organization, actor, action: str, target, data: dict | None = None) -> AuditEvent:
    """Write one audit row; `target` is a model instance (its type and id are recorded, not a FK)."""
    return AuditEvent.objects.create(
        organization=organization,
        actor=actor if getattr(actor, "pk", None) else None,
        action=action,
        target_type=target._meta.label_lower,
        target_id=str(target.pk),
        data=data or {},
    )


def audit_records(*, organization, actor, action: str, entries: list[tuple]) -> list[AuditEvent]:
    """audit_record for many targets of one action, in one INSERT: `entries` are (target, data) pairs."""
    actor = actor if getattr(actor, "pk", None) else None
    return AuditEvent.objects.bulk_create(
        [
            AuditEvent(
                organization=organization,
                actor=actor,
                action=action,
                target_type=target._meta.label_lower,
                target_id=str(target.pk),
                data=data or {},
            )
            for target, data in entries
        ]
    )
