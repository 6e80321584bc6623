"""Property-based requests against the API's own OpenAPI schema (schemathesis), as an admin of a demo
organisation with data: no operation answers with a server error, whatever valid (or, for a second pass,
invalid) input the schema allows.

The schema is read from the running application, and the requests go through its WSGI handler inside the
test's transaction. Each operation is tried with generated ids and with ids of real objects, so that
actions run on rows that exist. Examples per operation are few, so that the suite stays fast.
"""

from collections import Counter

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from apps.accounts.models import Membership, Organization, Role
from apps.api.services import api_token_create
from apps.demo.generate import generate_demo

pytestmark = pytest.mark.django_db

EXAMPLES = 6
EXAMPLES_PER_REAL_ID = 2
# Erasure cannot be undone: it is tested on throwaway data in test_customers.py, not here.
EXCLUDED = {("POST", "/api/v1/customers/{id}/erase/")}


@pytest.fixture
def wsgi_app():
    """The project's WSGI application, sharing the test's database transaction: as Django's test client
    does, the request signals must not close the connection that holds it."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield get_wsgi_application()
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def demo_admin_key(settings):
    # Generated webhook URLs are stored without resolving their hosts: no DNS lookups from tests.
    settings.CXM_ALLOW_PRIVATE_DESTINATIONS = True
    generate_demo(messages=150, seed=5)
    admin = Membership.objects.filter(
        organization=Organization.objects.get(slug="acme"), role=Role.ADMIN
    ).first()
    _, key = api_token_create(membership=admin, name="schemathesis", issuer=admin)
    return admin, key


def real_ids(membership, path: str) -> list[int]:
    """Ids of rows of the organisation (and one of the other one) for the operation's `{id}`."""
    from apps.api.urls import router

    prefix = path.removeprefix("/api/v1/").split("/")[0]
    viewset = next(viewset for registered, viewset, _ in router.registry if registered == prefix)
    model = viewset.model
    own = model.objects.filter(organization=membership.organization).order_by("-pk")
    own = list(own.values_list("pk", flat=True)[:2])
    theirs = list(
        model.objects.exclude(organization=membership.organization).values_list("pk", flat=True)[:1]
    )
    return own + theirs


def test_no_operation_answers_with_a_server_error(demo_admin_key, wsgi_app):
    membership, key = demo_admin_key
    headers = {"Authorization": f"Bearer {key}"}
    schema = schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", wsgi_app, headers=headers)
    failures, tried, statuses = [], 0, Counter()
    for result in schema.get_all_operations():
        operation = result.ok()
        if (operation.method.upper(), operation.path) in EXCLUDED:
            continue
        fixed_ids = [None]
        if "{id}" in operation.path:
            fixed_ids += [{"id": pk} for pk in real_ids(membership, operation.path)]
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            for path_parameters in fixed_ids:
                strategy = operation.as_strategy(generation_mode=mode, path_parameters=path_parameters)

                @given(case=strategy)
                @settings(
                    max_examples=EXAMPLES if path_parameters is None else EXAMPLES_PER_REAL_ID,
                    deadline=None,
                    database=None,
                    phases=[Phase.explicit, Phase.generate],
                    suppress_health_check=list(HealthCheck),
                )
                def call(case):
                    response = case.call_and_validate(headers=headers, checks=[not_a_server_error])
                    statuses[response.status_code // 100] += 1

                tried += 1
                try:
                    call()
                except Exception as error:  # one failing operation must not hide the others
                    failures.append(f"{operation.label} {mode.value} {path_parameters}: {error}")
    assert tried > 50
    # The fixed ids make the actions run on real rows: many calls succeed, not only 400s and 404s.
    assert statuses[2] > 200, statuses
    assert failures == [], "\n\n".join(failures)
