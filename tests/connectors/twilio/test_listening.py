"""Listening queries work on SMS: a text to the brand's number is "to the brand" (a private channel) and
is tagged by the brand's and competitors' queries like any other message."""

import pytest

from apps.accounts.services import brand_create
from apps.connectors.kinds import ChannelKind
from apps.listening.models import Mention
from tests.factories import ChannelFactory
from tests.fakes.twilio import ACCOUNT_SID, AUTH_TOKEN, incoming_sms

pytestmark = pytest.mark.django_db


def test_an_sms_is_tagged_by_the_brands_listening_queries(
    org_a, ingest_twilio, django_capture_on_commit_callbacks
):
    nimbus = brand_create(
        organization=org_a, name="Nimbus", handles=[], keywords=["Nimbus"], competitors=["Stratus Telecom"]
    )
    channel = ChannelFactory(
        brand=nimbus,
        kind=ChannelKind.SMS_TWILIO,
        credentials={"account_sid": ACCOUNT_SID, "auth_token": AUTH_TOKEN},
    )
    with django_capture_on_commit_callbacks(execute=True):
        ingest_twilio(channel, incoming_sms("SMl1", "Moving to Stratus Telecom unless Nimbus fixes my bill"))
    assert set(Mention.objects.values_list("level", "competitor")) == {
        ("to_brand", ""),
        ("about_brand", ""),
        ("competitor", "Stratus Telecom"),
    }
