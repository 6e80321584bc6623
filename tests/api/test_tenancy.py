"""No API call crosses a tenant boundary: every list and detail route of the router, and every action on an
object, called with a token of organisation B (and of a member limited to another brand) on organisation A's
objects: lists hold none of them, details and writes are 404 and change nothing."""

import pytest
from django.db import models

from apps.accounts.models import Role
from apps.api.urls import router
from tests.factories import membership_create

pytestmark = pytest.mark.django_db

# Which object of organisation_data() each route serves, and which of them a brand limit hides.
OBJECT_OF_ROUTE = {
    "conversation": "conversation",
    "message": "message",
    "customer": "customer",
    "identity": "identity",
    "channel": "channel",
    "brand": "brand",
    "listening-query": "query",
    "alert-rule": "rule",
    "alert": "alert",
    "webhook-endpoint": "endpoint",
    "webhook-delivery": "delivery",
    "automation-rule": "automation_rule",
    "auto-reply": "auto_reply",
    "satisfaction-survey": "survey",
    "survey-setting": "survey_settings",
    "channel-weights": "channel",  # one setting of the organisation: its list holds no row of another
    "agent": "agent_profile",
    "team-routing": "team",
    "sla-policy": "sla_policy",
    "business-hours": "business_hours",
    "holiday": "holiday",
    "sla-report": "sla_outcome",
    "saved-reply": "saved_reply",
    "macro": "macro",
    "macrorun": "macro_run",
}
# Agents and team routing are the organisation's (every admin sees them; changing them needs every brand the
# agent works on, or every brand: tests/routing/test_brand_scoping.py). SLA policies, business hours and
# their holidays are their brand's, like the routing pages; the SLA report counts only the brands'
# deadlines it may see.
BRAND_SCOPED = {
    "conversation",
    "message",
    "channel",
    "brand",
    "listening-query",
    "alert-rule",
    "alert",
    "automation-rule",
    "auto-reply",
    "satisfaction-survey",
    "survey-setting",
    "sla-report",
    "sla-policy",
    "business-hours",
    "holiday",
    "saved-reply",
    "macro",
}
# How a list row names its object, where it is not by "id": team-routing's rows are teams; the SLA report's
# rows are figures by team (its default `by`), named by the team's name.
ROW_KEY = {"team-routing": lambda row: row["team"], "sla-report": lambda row: row["name"]}
TARGET_KEY = {"sla-report": lambda outcome: outcome.team.name}
WRITE_METHODS = {"post", "put", "patch", "delete"}


def routes():
    """(basename, prefix, detail action name or None, HTTP method) of every route of the router."""
    found = []
    for prefix, viewset, basename in router.registry:
        actions = {"list": "get", "retrieve": "get"}
        for name, method in (("partial_update", "patch"), ("update", "put"), ("destroy", "delete")):
            if hasattr(viewset, name) and method in getattr(viewset, "http_method_names", [method]):
                actions[name] = method
        for name, method in actions.items():
            if hasattr(viewset, name):
                found.append((basename, prefix, name, method))
        for extra in viewset.get_extra_actions():
            for method in extra.mapping:
                found.append(
                    (basename, prefix, f"{'detail' if extra.detail else 'list'}:{extra.url_path}", method)
                )
    return found


def snapshot(obj: models.Model) -> dict:
    return {
        f.attname: getattr(type(obj).objects.get(pk=obj.pk), f.attname) for f in obj._meta.concrete_fields
    }


ROLE_REFUSALS = {
    b'{"detail":"only an organisation admin can do this"}',
    b'{"detail":"your role in this organisation does not allow this"}',
}


def sweep(client, objects: list[dict], route_names: set[str], *, admin: bool) -> list[str]:
    """Call every route on organisation A's objects; returns what leaked or changed. An admin gets a 404
    from every detail route; another role may get the 403 of a route its role never may call, whatever the
    object (it says nothing about the object)."""
    problems = []
    for basename, prefix, action, method in routes():
        if basename not in route_names:
            continue
        targets = [data[OBJECT_OF_ROUTE[basename]] for data in objects]
        target_ids = {TARGET_KEY.get(basename, lambda target: target.pk)(target) for target in targets}
        if action in ("list",) or action.startswith("list:"):
            url = f"/api/v1/{prefix}/" + (f"{action[5:]}/" if action.startswith("list:") else "")
            response = getattr(client, method)(
                url, {"query": "order"} if method == "post" else None, format="json"
            )
            body = response.json() if response.status_code == 200 else {}
            rows = body if isinstance(body, list) else body.get("results", body.get("sample", []))
            leaked = {ROW_KEY.get(basename, lambda row: row["id"])(row) for row in rows} & target_ids
            # A write the body does not fit (agents/me takes a status, not a query) is refused with a reason.
            refused = method == "post" and response.status_code == 400
            if (response.status_code not in (200, 403) and not refused) or leaked:
                problems.append(f"{method.upper()} {url}: {response.status_code}, leaked {leaked}")
            continue
        for target in targets:
            before = snapshot(target)
            suffix = "" if action in ("retrieve", "partial_update", "update", "destroy") else f"{action[7:]}/"
            url = f"/api/v1/{prefix}/{target.pk}/{suffix}"
            response = getattr(client, method)(url, {}, format="json")
            role_refusal = not admin and response.status_code == 403 and response.content in ROLE_REFUSALS
            if response.status_code != 404 and not role_refusal:
                problems.append(f"{method.upper()} {url}: {response.status_code} {response.content[:200]!r}")
            if snapshot(target) != before:
                problems.append(f"{method.upper()} {url} changed the object")
    return problems


def test_the_sweep_covers_every_route_of_the_api():
    basenames = {basename for _, _, basename in router.registry}
    assert basenames == set(OBJECT_OF_ROUTE) | {"dashboard"}  # the dashboard: test_dashboard.py
    assert len(routes()) >= 30


@pytest.mark.parametrize("who", ["admin_b", "agent_b"])
def test_another_organisation_sees_and_touches_nothing(world, api, who):
    problems = sweep(api(world[who]), [world["a"], world["a2"]], set(OBJECT_OF_ROUTE), admin=who == "admin_b")
    assert problems == []


@pytest.mark.parametrize("role", [Role.ADMIN, Role.COMMUNITY_MANAGER])
def test_a_member_limited_to_one_brand_sees_and_touches_nothing_of_the_others(world, api, org_a, role):
    limited = membership_create(org_a, role, brands=[world["a2"]["brand"]])
    problems = sweep(api(limited), [world["a"]], BRAND_SCOPED, admin=role == Role.ADMIN)
    assert problems == []


def test_a_limited_member_sees_only_their_brands_messages_in_a_customers_timeline(world, api, org_a):
    # Customers are the organisation's (the pages show them to every agent); their messages are the brands'.
    customer = world["a"]["customer"]
    timeline = api(world["limited"]).get(f"/api/v1/customers/{customer.pk}/timeline/").json()
    assert [entry for entry in timeline if entry["kind"] == "message"] == []


def test_a_user_in_two_organisations_acts_in_the_one_the_token_pins(world, api, org_b):
    from apps.accounts.services import member_add

    agent = world["agent"]
    in_b = member_add(organization=org_b, username=agent.user.username, role=Role.COMMUNITY_MANAGER)
    assert in_b.user_id == agent.user_id
    as_b = api(in_b).get("/api/v1/conversations/").json()["results"]
    assert {row["id"] for row in as_b} == {world["b"]["conversation"].pk}
    assert api(in_b).get(f"/api/v1/conversations/{world['a']['conversation'].pk}/").status_code == 404
