"""Hooks: how a lower layer tells the apps above it that something happened, without naming them.

An app imports only from the layers below it (docs/architecture.md). When the pipeline stores messages, or
a conversation changes, the apps that react (live events, search, rollups, webhooks, classification,
automation...) must hear of it, yet the layer that sends cannot import them. So the sending layer declares a
`Hook` in its `hooks.py`, sends it, and each reacting app connects its receiver in its `AppConfig.ready()`.

Receivers run in the sender's process, in the order the apps are installed, each with the arguments the hook
documents. A receiver that raises stops the others and reaches the sender, as a direct call would: a receiver
that must not hold up the sender queues a task instead of working inline.
"""

from __future__ import annotations

from collections.abc import Callable


class Hook:
    def __init__(self, name: str, doc: str = ""):
        self.name = name
        self.__doc__ = doc
        self._receivers: list[Callable] = []

    def __repr__(self) -> str:
        return f"<Hook {self.name}: {len(self._receivers)} receivers>"

    def connect(self, receiver: Callable) -> Callable:
        """Add a receiver (once, however often ready() runs); usable as a decorator."""
        if receiver not in self._receivers:
            self._receivers.append(receiver)
        return receiver

    def disconnect(self, receiver: Callable) -> None:
        if receiver in self._receivers:
            self._receivers.remove(receiver)

    @property
    def receivers(self) -> tuple[Callable, ...]:
        return tuple(self._receivers)

    def send(self, *args, **kwargs) -> None:
        for receiver in tuple(self._receivers):
            receiver(*args, **kwargs)
