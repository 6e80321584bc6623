# Channel kinds are the domain's vocabulary (identities are per kind): apps/customers/kinds.py.
from apps.customers.kinds import PRIVATE_KINDS, ChannelKind

__all__ = ["PRIVATE_KINDS", "ChannelKind"]
