# Tenant scoping lives in core (apps/core/tenancy.py), under every tenant model; this path stays.
from apps.core.tenancy import TenantManager, TenantQuerySet, brand_visible_to, get_visible_or_404, scoped

__all__ = ["TenantManager", "TenantQuerySet", "brand_visible_to", "get_visible_or_404", "scoped"]
