"""What happens to organisations and brands, for the apps above accounts (apps/core/hooks.py)."""

from apps.core.hooks import Hook

brand_created = Hook(
    "accounts.brand_created",
    """A brand was just created, in the creating transaction: `send(brand)`. Receivers may write rows that
    belong with it (listening: the brand's starter queries from its handles, names and rivals).""",
)
