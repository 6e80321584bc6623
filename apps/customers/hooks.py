"""What happens to customer profiles, for the apps that react to it (apps/core/hooks.py)."""

from apps.core.hooks import Hook

attributes_changed = Hook(
    "customers.attributes_changed",
    """A customer's attributes were changed, committed: `send(customer, keys)` with the names of the
    attributes written. Automation runs its customer rules on their open conversations.""",
)
