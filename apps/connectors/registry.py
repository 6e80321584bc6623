"""Which connector serves which channel kind.

Each platform is a package `apps/connectors/<platform>/` whose `connector.py` defines Connector subclasses;
they are found here, so adding a platform touches no other file. A kind without a connector still stores
its payloads and rejects them with a clear reason, so nothing is lost before its connector exists.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from functools import cache
from pathlib import Path

from .base import Connector


@cache
def _connectors() -> dict[str, Connector]:
    found: dict[str, Connector] = {}
    for package in pkgutil.iter_modules([str(Path(__file__).parent)]):
        if not package.ispkg or not (Path(__file__).parent / package.name / "connector.py").exists():
            continue
        module = importlib.import_module(f"{__package__}.{package.name}.connector")
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if (
                issubclass(cls, Connector)
                and cls is not Connector
                and cls.__module__ == module.__name__
                and cls.kind
            ):
                found[str(cls.kind)] = cls()
    return found


def connector_for(kind: str) -> Connector:
    connector = _connectors().get(kind)
    if connector is None:
        unsupported = Connector()
        unsupported.kind = kind
        return unsupported
    return connector


def all_connectors() -> dict[str, Connector]:
    return dict(_connectors())
