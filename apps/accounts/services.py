from django.contrib.auth.models import Group, Permission
from django.db import transaction

from .hooks import brand_created
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
    "routing",
    "automation",
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
    brand = Brand.objects.create(
        organization=organization,
        name=name,
        handles=handles or [],
        keywords=keywords or [],
        competitors=competitors or [],
        category_terms=category_terms or [],
    )
    # A new brand listens from the first message: listening adds starter queries from its handles, names and
    # rivals.
    brand_created.send(brand)
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
    """Create (or reuse) a user and give them a role in the organisation, with a password: for the demo,
    the tests and platform operators' commands. Organisation admins invite people with member_invite()."""
    user, created = User.objects.get_or_create(
        username=username, defaults={"email": email, "first_name": first_name, "last_name": last_name}
    )
    if password:
        user.set_password(password)
        user.save()
    _staff_for_role(user, role)
    membership, _ = Membership.objects.update_or_create(
        user=user, organization=organization, defaults={"role": role}
    )
    membership.brands.set(brands)
    return membership


class MembershipError(ValueError):
    """An invitation or membership change that cannot be made; the message says why, for the admin."""


def _staff_for_role(user: User, role: str) -> None:
    if role == Role.ADMIN:
        # Organisation admins use Django's admin, which scopes every list to their organisation.
        if not user.is_staff:
            user.is_staff = True
            user.save(update_fields=["is_staff"])
        user.groups.add(org_admin_group())


def password_link_send(*, user: User, subject: str, intro: str) -> None:
    """Email the person a one-time link to choose their password (Django's password reset confirmation):
    the only way a password is set, other than by its owner while logged in."""
    from django.conf import settings
    from django.contrib.auth.tokens import default_token_generator
    from django.core.mail import send_mail
    from django.urls import reverse
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    path = reverse(
        "password_reset_confirm",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )
    link = f"{settings.CXM_BASE_URL}{path}"
    body = f"{intro}\n\nYour username: {user.get_username()}\nChoose your password: {link}\n"
    send_mail(subject, body, None, [user.email])


def _check_brands(brands: list[Brand], organization_id: int, issuer: Membership | None) -> None:
    from .permissions import brands_within

    if any(brand.organization_id != organization_id for brand in brands):
        raise MembershipError("brands must be of this organisation")
    if not brands_within([brand.pk for brand in brands], issuer):
        raise MembershipError("you can give only brands you work on yourself (choose some of them)")


def _check_reach(membership: Membership, issuer: Membership | None) -> None:
    from .permissions import brands_within

    if not brands_within(list(membership.brands.values_list("pk", flat=True)), issuer):
        raise MembershipError(f"{membership.user} works on brands you do not: ask an admin of every brand")


def _sockets_reconsider(membership: Membership) -> None:
    """Once committed, close the person's open live sockets in this organisation: they reconnect and are
    let in (or not) with their new role and brands, instead of hearing what the old ones allowed."""
    from apps.core.live import live_send, user_group

    organization_id, user_id = membership.organization_id, membership.user_id
    transaction.on_commit(lambda: live_send(user_group(organization_id, user_id), "membership.changed", {}))


@transaction.atomic
def member_invite(
    *,
    organization: Organization,
    email: str,
    role: str,
    brands: list[Brand] = (),
    actor=None,
    issuer: Membership | None = None,
) -> Membership:
    """Give the person with this email a role in the organisation; someone new gets an account without a
    password and an email to choose one. An existing account is only given the membership: its password,
    email and names stay its owner's (they may belong to other organisations too)."""
    from apps.core.audit import audit_record

    email = User.objects.normalize_email(email.strip())
    if not email or "@" not in email:
        raise MembershipError("enter the email address of the person to invite")
    _check_brands(brands, organization.pk, issuer)
    accounts = list(User.objects.filter(email__iexact=email)[:2])
    if len(accounts) > 1:
        raise MembershipError("several accounts use this email address; ask the platform operator")
    user = accounts[0] if accounts else None
    if user is not None and Membership.objects.filter(user=user, organization=organization).exists():
        raise MembershipError(f"{email} is a member already")
    if user is None:
        username = email.lower()
        if User.objects.filter(username=username).exists():
            raise MembershipError(f"the username {username} is taken; ask the platform operator")
        user = User(username=username, email=email)
        user.set_unusable_password()
        user.save()
        transaction.on_commit(
            lambda: password_link_send(
                user=user,
                subject=f"You are invited to {organization.name} on CXM",
                intro=f"{getattr(actor, 'username', 'An admin')} invited you to {organization.name} on CXM.",
            )
        )
    membership = Membership.objects.create(user=user, organization=organization, role=role)
    membership.brands.set(brands)
    _staff_for_role(user, role)
    audit_record(
        organization=organization,
        actor=actor,
        action="membership.created",
        target=membership,
        data={"user": user.pk, "email": email, "role": role, "brands": [b.pk for b in brands]},
    )
    return membership


@transaction.atomic
def membership_update(
    *, membership: Membership, role: str, brands: list[Brand], actor=None, issuer: Membership | None = None
) -> Membership:
    """Change a member's role and brands in their organisation (nothing of their account)."""
    from apps.core.audit import audit_record

    _check_reach(membership, issuer)
    _check_brands(brands, membership.organization_id, issuer)
    before = {"role": membership.role, "brands": sorted(membership.brands.values_list("pk", flat=True))}
    after = {"role": role, "brands": sorted(brand.pk for brand in brands)}
    membership.role = role
    membership.save(update_fields=["role"])
    membership.brands.set(brands)
    _staff_for_role(membership.user, role)
    if before != after:
        _sockets_reconsider(membership)
        audit_record(
            organization=membership.organization,
            actor=actor,
            action="membership.updated",
            target=membership,
            data={"user": membership.user_id, "before": before, "after": after},
        )
    return membership


@transaction.atomic
def membership_remove(*, membership: Membership, actor=None, issuer: Membership | None = None) -> None:
    """Take a person out of the organisation; their account, and their other memberships, stay."""
    from apps.core.audit import audit_record

    _check_reach(membership, issuer)
    _sockets_reconsider(membership)
    audit_record(
        organization=membership.organization,
        actor=actor,
        action="membership.removed",
        target=membership,
        data={
            "user": membership.user_id,
            "username": membership.user.get_username(),
            "role": membership.role,
        },
    )
    membership.delete()
