"""What happens to customers, for the apps above the domain that keep something of them (core.hooks)."""

from apps.core.hooks import Hook

customer_erasing = Hook(
    "customers.erasing",
    """A person is being erased on request, inside the erasing transaction, before their messages are
    redacted: `send(message_ids=[...], conversation_ids=[...], payload_ids=[...])`, their messages, the
    conversations they had, the raw payloads their messages came in. Each receiver erases what its app kept
    of them (ingestion: the payloads; classification: training examples; replies: resolution examples).""",
)

attributes_changed = Hook(
    "customers.attributes_changed",
    """A customer's attributes were changed (customer_update), committed: `send(customer=..., keys=[...])`
    with the names of the attributes written. Automation runs its customer rules on their open
    conversations.""",
)
