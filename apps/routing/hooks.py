"""What routing tells the apps above it (apps/core/hooks.py): SLA clocks about to run out, and run out.

Both are sent by the SLA check (beat, `apps.routing.tasks.sla_check_task`) once per deadline, after the
check's transaction commits, with `send(conversation, target)`: `target` is one of SLA_TARGETS.
"""

from apps.core.hooks import Hook

FIRST_RESPONSE = "first_response"
NEXT_RESPONSE = "next_response"
RESOLUTION = "resolution"
SLA_TARGETS = (FIRST_RESPONSE, NEXT_RESPONSE, RESOLUTION)

sla_warning = Hook(
    "routing.sla_warning",
    """`send(conversation, target)`: the conversation's `target` deadline is within its policy's warning
    time and not met yet (sent once per deadline).""",
)

sla_breached = Hook(
    "routing.sla_breached",
    """`send(conversation, target)`: the conversation's `target` deadline passed unmet (sent once per
    deadline, after the policy's escalations ran).""",
)
