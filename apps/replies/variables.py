"""The variables of saved replies and suggested drafts: {first_name} {last_name} {brand} {agent}.

Filling leaves any variable it cannot fill as typed, and says which, so the agent sees what is left to do;
templating turns one customer's reply back into a reusable one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

PLACEHOLDER = re.compile(r"\{(\w+)\}")
VARIABLES = ("first_name", "last_name", "brand", "agent")
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
    agent_name = (agent.first_name or agent.get_full_name() or agent.username) if agent is not None else ""
    return {"first_name": first_name, "last_name": last_name, "brand": brand.name, "agent": agent_name}


def variables_fill(text: str, values: dict[str, str]) -> FilledText:
    unknown: dict[str, None] = {}
    missing: dict[str, None] = {}

    def fill(match: re.Match) -> str:
        name = match.group(1)
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
    for name, value in sorted(values.items(), key=lambda item: -len(item[1])):
        if len(value) >= _SHORTEST_TEMPLATED:
            text = re.sub(rf"(?<![\w{{]){re.escape(value)}(?![\w}}])", f"{{{name}}}", text)
    return text


def without_variables(text: str) -> str:
    """The text with its variables removed: what a sentence encoder should read of a template."""
    return PLACEHOLDER.sub("", text)
