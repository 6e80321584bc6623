"""The fixtures every social platform's tests (X, Reddit, Mastodon, Bluesky) have alike, made by one factory:
a platform's conftest says only what differs.

    nimbus, fake_x, x_channel, offline_channel = platform_fixtures(
        ChannelKind.X,
        FakeX,
        handles=["@nimbusmobile"],
        connect=lambda fake: {"credentials": {...}, "settings": {"api_base": fake.url}},
        offline={"settings": {"user_id": "2244994945"}},
    )

gives `nimbus` (the brand the tests listen for, with its handles on the platform), `fake_x` (the platform's
fake, started for one test), `x_channel` ("Nimbus on X": a channel of the brand that talks to the fake) and
`offline_channel` (one for parsing only: no fake to start).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from apps.connectors.kinds import ChannelKind
from tests.factories import BrandFactory, ChannelFactory


def platform_fixtures(
    kind: ChannelKind,
    fake_class: type,
    *,
    handles: list[str],
    connect: Callable[[object], dict],
    offline: dict | None = None,
    forget: dict | None = None,
):
    """`connect(fake)` → the ChannelFactory fields (credentials, settings) that point a channel at the fake;
    `offline` → those of the offline channel; `forget` → a cache of the connector's (tokens, sessions) that
    is emptied around each test, since what one fake issued means nothing to the next."""
    fake_name = f"fake_{kind.value}"

    @pytest.fixture(name="nimbus")
    def nimbus(org_a):
        return BrandFactory(organization=org_a, name="Nimbus Mobile", keywords=["Nimbus"], handles=handles)

    @pytest.fixture(name=fake_name)
    def fake():
        if forget is not None:
            forget.clear()
        with fake_class() as started:
            yield started
        if forget is not None:
            forget.clear()

    @pytest.fixture(name=f"{kind.value}_channel")
    def channel(nimbus, request):
        fields = connect(request.getfixturevalue(fake_name))
        return ChannelFactory(brand=nimbus, kind=kind, name=f"Nimbus on {kind.label}", **fields)

    @pytest.fixture(name="offline_channel")
    def offline_channel(nimbus):
        return ChannelFactory(brand=nimbus, kind=kind, **(offline or {}))

    return nimbus, fake, channel, offline_channel
