from functools import cached_property

from django.contrib.auth.models import AbstractUser
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils.text import slugify

from apps.core.models import TenantModel

from .tenancy import TenantManager


class User(AbstractUser):
    """A person who logs in. What they may do depends on their Membership in each organisation."""

    signature = models.TextField(blank=True, help_text="Appended to this agent's email replies.")

    def membership_in(self, organization_id):
        return self.memberships.select_related("organization").filter(organization_id=organization_id).first()


class Organization(models.Model):
    """The tenant: a company using CXM. Everything else belongs to exactly one organisation."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80, unique=True)
    settings = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        if not self.slug:
            self.slug = slugify(self.name)[:80]
        super().save(*args, **kwargs)


def _terms():
    return ArrayField(models.CharField(max_length=200), default=list, blank=True)


class Brand(TenantModel):
    """A brand the organisation listens for and answers as."""

    TENANT_BRAND_PATH = "id"

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80)
    handles = _terms()  # the brand's own accounts: "@nimbus", "nimbus@support.example"
    keywords = _terms()  # how people name the brand and its products
    competitors = _terms()  # competitor brand names
    category_terms = _terms()  # words of the brand's category: "phone plan", "5G"
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["organization", "slug"], name="brand_slug_per_org")]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        if not self.slug:
            self.slug = slugify(self.name)[:80]
        super().save(*args, **kwargs)


class Team(TenantModel):
    name = models.CharField(max_length=120)
    members = models.ManyToManyField(User, related_name="teams", blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["organization", "name"], name="team_name_per_org")]

    def __str__(self):
        return self.name


class Role(models.TextChoices):
    ADMIN = "admin", "Admin"
    COMMUNITY_MANAGER = "community_manager", "Community manager"
    MARKETER = "marketer", "Marketer"


class Membership(models.Model):
    """A user's role in one organisation, optionally limited to some of its brands."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=32, choices=Role.choices)
    brands = models.ManyToManyField(
        Brand, blank=True, related_name="+", help_text="Leave empty for every brand of the organisation."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TenantManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "organization"], name="one_membership_per_org")
        ]

    def __str__(self):
        return f"{self.user} — {self.get_role_display()} at {self.organization}"

    @cached_property
    def brand_ids(self) -> list[int]:
        return list(self.brands.values_list("id", flat=True))

    @property
    def limited_to_brands(self) -> bool:
        return bool(self.brand_ids)

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def can_work_inbox(self) -> bool:
        return self.role in {Role.ADMIN, Role.COMMUNITY_MANAGER}

    @property
    def can_view_dashboards(self) -> bool:
        return True

    @property
    def can_handle_personal_data(self) -> bool:
        """Export everything held about a customer (right of access) or erase them: admins only, on the
        pages (apps.accounts.permissions.personal_data_required) and the API alike."""
        return self.is_admin
