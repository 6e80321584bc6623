"""The one guard on connections to destinations that tenants configure: feeds, Mastodon instances, webhook
endpoints, IMAP and SMTP servers, any platform API. Such a destination must be on the internet: an address
that is private, loopback, link-local, reserved or multicast would let a tenant make CXM's workers reach
into CXM's own network (or scan its ports through "Test connection").

The check is made on the address a socket actually connects to, at the moment it connects (Python's
`socket.connect` audit event), not on a name resolved beforehand: a host that resolves to a public address
when checked and to 127.0.0.1 when connected (DNS rebinding) is refused, and so is every redirect. It applies
only inside `untrusted_destination()`, so that CXM's own services (PostgreSQL, Redis, Elasticsearch, its own
mail relay), which the operator configures, stay reachable on private addresses.

`settings.CXM_ALLOW_PRIVATE_DESTINATIONS` turns the refusal off: tests (their fakes listen on 127.0.0.1)
and single-tenant installs that read internal feeds or mail servers.
"""

from __future__ import annotations

import contextvars
import ipaddress
import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
from django.conf import settings

# What is being reached, while connections must go to public addresses; None otherwise.
_guarded: contextvars.ContextVar[str | None] = contextvars.ContextVar("cxm_destination", default=None)


class DestinationRefused(Exception):
    """A connection to a destination that is not on the public internet; no socket was connected.

    Not an OSError on purpose: callers must not mistake it for a network failure worth retrying."""


def address_is_public(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address.split("%")[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def _audit(event: str, args: tuple) -> None:
    if event != "socket.connect" or (what := _guarded.get()) is None:
        return
    if settings.CXM_ALLOW_PRIVATE_DESTINATIONS:
        return
    sock, address = args
    if sock.family not in (socket.AF_INET, socket.AF_INET6):  # a Unix socket is this machine
        raise DestinationRefused(f"{what}: only internet addresses may be reached")
    if not address_is_public(str(address[0])):
        raise DestinationRefused(
            f"{what} is on a private, loopback or reserved address ({address[0]}); refused"
        )


_installed = False


def install() -> None:
    """Called once per process (apps.core's AppConfig.ready); audit hooks cannot be removed."""
    global _installed
    if not _installed:
        sys.addaudithook(_audit)
        _installed = True


@contextmanager
def untrusted_destination(what: str) -> Iterator[None]:
    """Every socket connected inside must reach a public address; `what` names the destination in the
    refusal ("the IMAP server mail.example:993")."""
    token = _guarded.set(what)
    try:
        yield
    finally:
        _guarded.reset(token)


def resolve_public(host: str, port: int) -> None:
    """Refuse early, with a clear reason, a host that resolves to any non-public address (a form's check
    before anything is saved). The connection itself is checked again when made."""
    if settings.CXM_ALLOW_PRIVATE_DESTINATIONS:
        return
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)}
    except (OSError, UnicodeError) as error:
        raise DestinationRefused(f"the host {host} cannot be resolved") from error
    for address in sorted(addresses):
        if not address_is_public(address):
            raise DestinationRefused(
                f"the host {host} is on a private, loopback or reserved address ({address})"
            )


class GuardedTransport(httpx.HTTPTransport):
    """httpx's transport with every connection it opens (redirects too) inside `untrusted_destination`."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        with untrusted_destination(f"{request.url.host}:{request.url.port or request.url.scheme}"):
            return super().handle_request(request)


def guarded_http_client(**kwargs) -> httpx.Client:
    """An httpx client for destinations that tenants configure (or that tests point at fakes)."""
    transport_options = {key: kwargs.pop(key) for key in ("verify", "http2", "retries") if key in kwargs}
    return httpx.Client(transport=GuardedTransport(**transport_options), **kwargs)
