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
