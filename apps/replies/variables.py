"""The variables of saved replies and suggested drafts: {{customer.first_name}} {{customer.last_name}}
{{customer.name}} {{agent.name}} {{agent.first_name}} {{brand.name}}, and the short forms of the first
replies ({first_name} {last_name} {brand} {agent}), which resolution examples are still written in.

Filling leaves any variable it cannot fill as typed, and says which, so the agent sees what is left to do;
templating turns one customer's reply back into a reusable one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# {{ name }} (dotted, spaces allowed) or the short {name}.
PLACEHOLDER = re.compile(r"\{\{\s*([\w.]+)\s*\}\}|\{(\w+)\}")
VARIABLES = (
    "customer.first_name",
    "customer.last_name",
    "customer.name",
    "agent.name",
    "agent.first_name",
    "brand.name",
)
# The short forms, and the long variable each one stands for.
SHORT = {
    "first_name": "customer.first_name",
    "last_name": "customer.last_name",
    "brand": "brand.name",
    "agent": "agent.first_name",
}
# Shorter values would turn ordinary words into variables ("Al" in "Also").
_SHORTEST_TEMPLATED = 3


@dataclass(frozen=True)
class FilledText:
    text: str
    unknown: tuple[str, ...] = ()  # variables CXM does not know, left as typed
    missing: tuple[str, ...] = ()  # known variables without a value for this customer, left as typed


def variable_values(*, customer, brand, agent) -> dict[str, str]:
    """The values of the variables for a reply to `customer` as `brand` by `agent` ("" when unknown):
    first and last names from the profile's CRM attributes, else from its display name."""
    attributes = customer.attributes or {}
    names = (customer.display_name or "").split()
    first_name = str(attributes.get("first_name") or "") or (names[0] if names else "")
    last_name = str(attributes.get("last_name") or "") or " ".join(names[1:])
    agent_first = (agent.first_name or agent.get_full_name() or agent.username) if agent is not None else ""
    agent_full = (agent.get_full_name() or agent.username) if agent is not None else ""
    values = {
        "customer.first_name": first_name,
        "customer.last_name": last_name,
        "customer.name": customer.display_name or " ".join(filter(None, (first_name, last_name))),
        "agent.name": agent_full,
        "agent.first_name": agent_first,
        "brand.name": brand.name,
    }
    return values | {short: values[long] for short, long in SHORT.items()}


def variables_fill(text: str, values: dict[str, str]) -> FilledText:
    unknown: dict[str, None] = {}
    missing: dict[str, None] = {}

    def fill(match: re.Match) -> str:
        name = match.group(1) or match.group(2)
        if name not in values:
            unknown[name] = None
        elif not values[name]:
            missing[name] = None
        else:
            return values[name]
        return match.group(0)

    return FilledText(PLACEHOLDER.sub(fill, text), tuple(unknown), tuple(missing))


def variables_template(text: str, values: dict[str, str]) -> str:
    """The reverse of filling: the values (the customer's names, the agent's, the brand's) found as whole
    words in `text` become their variables, longest first, so that a reply written for one customer
    reads right for the next."""
    shorts = {name: value for name, value in values.items() if name in SHORT}
    for name, value in sorted(shorts.items(), key=lambda item: -len(item[1])):
        if len(value) >= _SHORTEST_TEMPLATED:
            text = re.sub(rf"(?<![\w{{]){re.escape(value)}(?![\w}}])", f"{{{name}}}", text)
    return text


def without_variables(text: str) -> str:
    """The text with its variables removed: what a sentence encoder should read of a template."""
    return PLACEHOLDER.sub("", text)
