from django.contrib.auth.models import Group, Permission
from django.db import transaction

from .models import Brand, Membership, Organization, Role, Team, User

# Django-admin permissions given to organisation admins: every model of CXM's own apps.
ADMIN_APP_LABELS = [
    "accounts",
    "customers",
    "connectors",
    "conversations",
    "ingestion",
    "core",
    "analytics",
    "listening",
    "classification",
    "replies",
    "inbox",
    "notifications",
    "webhooks",
    "alerts",
]
ORG_ADMIN_GROUP = "Organisation admins"


def organization_create(*, name: str, slug: str = "") -> Organization:
    organization = Organization(name=name, slug=slug)
    organization.full_clean(exclude=["slug"] if not slug else None)
    organization.save()
    return organization


@transaction.atomic
def brand_create(
    *,
    organization: Organization,
    name: str,
    handles: list[str] | None = None,
    keywords: list[str] | None = None,
    competitors: list[str] | None = None,
    category_terms: list[str] | None = None,
) -> Brand:
    from apps.listening.services import listening_queries_create_defaults

    brand = Brand.objects.create(
        organization=organization,
        name=name,
        handles=handles or [],
        keywords=keywords or [],
        competitors=competitors or [],
        category_terms=category_terms or [],
    )
    # A new brand listens from the first message: starter queries from its handles, names and rivals.
    listening_queries_create_defaults(brand=brand)
    return brand


BRAND_EDITABLE = ("name", "handles", "keywords", "competitors", "category_terms")


@transaction.atomic
def brand_update(*, brand: Brand, actor, **changes) -> Brand:
    """Change a brand's name or listening terms (BRAND_EDITABLE); the audit log keeps what changed."""
    from apps.core.audit import audit_record

    unknown = set(changes) - set(BRAND_EDITABLE)
    if unknown:
        raise ValueError(f"a brand's {', '.join(sorted(unknown))} cannot be changed here")
    changed = {field: value for field, value in changes.items() if getattr(brand, field) != value}
    for field, value in changed.items():
        setattr(brand, field, value)
    brand.full_clean(exclude=["slug"])
    brand.save()
    audit_record(
        organization=brand.organization, actor=actor, action="brand.updated", target=brand, data=changed
    )
    return brand


def team_create(*, organization: Organization, name: str, members: list[User] = ()) -> Team:
    team = Team.objects.create(organization=organization, name=name)
    team.members.set(members)
    return team


def org_admin_group() -> Group:
    """The group of organisation admins, with the model permissions of every CXM app (kept in step as
    apps and models are added)."""
    group, _ = Group.objects.get_or_create(name=ORG_ADMIN_GROUP)
    wanted = set(
        Permission.objects.filter(content_type__app_label__in=ADMIN_APP_LABELS).values_list("pk", flat=True)
    )
    if set(group.permissions.values_list("pk", flat=True)) != wanted:
        group.permissions.set(wanted)
    return group


@transaction.atomic
def member_add(
    *,
    organization: Organization,
    username: str,
    role: str,
    password: str | None = None,
    email: str = "",
    first_name: str = "",
    last_name: str = "",
    brands: list[Brand] = (),
) -> Membership:
    """Create (or reuse) a user and give them a role in the organisation."""
    user, created = User.objects.get_or_create(
        username=username, defaults={"email": email, "first_name": first_name, "last_name": last_name}
    )
    if password:
        user.set_password(password)
    if role == Role.ADMIN:
        # Organisation admins use Django's admin, which scopes every list to their organisation.
        user.is_staff = True
    user.save()
    if role == Role.ADMIN:
        user.groups.add(org_admin_group())
    membership, _ = Membership.objects.update_or_create(
        user=user, organization=organization, defaults={"role": role}
    )
    membership.brands.set(brands)
    return membership
