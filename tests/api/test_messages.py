"""Messages through the API: the filtered list, one message, and label corrections that the model learns."""

import pytest

from apps.classification.models import TrainingExample
from apps.conversations.models import Message

from .conftest import ids

pytestmark = pytest.mark.django_db


def test_list_and_filters(world, api):
    client = api(world["agent"])
    a = world["a"]
    everything = ids(client.get("/api/v1/messages/"))
    assert a["message"].pk in everything and world["b"]["message"].pk not in everything
    assert ids(client.get("/api/v1/messages/", {"conversation": a["conversation"].pk})) == {
        a["message"].pk,
        a["note"].pk,
    }
    assert ids(client.get("/api/v1/messages/", {"direction": "note", "channel": a["channel"].pk})) == {
        a["note"].pk
    }
    negative = ids(client.get("/api/v1/messages/", {"sentiment": "negative", "intent": "complaint"}))
    assert negative == {a["message"].pk, world["a2"]["message"].pk}
    assert ids(client.get("/api/v1/messages/", {"classified": "false"})) == {
        a["note"].pk,
        world["a2"]["note"].pk,
    }


def test_retrieve_shows_the_classification_read_only(world, api):
    message = world["a"]["message"]
    client = api(world["agent"])
    response = client.get(f"/api/v1/messages/{message.pk}/")
    assert response.json()["sentiment"] == "negative"
    # Not writable: there is no PATCH on messages at all.
    assert client.patch(f"/api/v1/messages/{message.pk}/", {"sentiment": "positive"}).status_code == 405


def test_a_correction_goes_through_label_correct(world, api):
    message = world["a"]["message"]
    client = api(world["agent"])
    response = client.post(
        f"/api/v1/messages/{message.pk}/correct/", {"task": "sentiment", "label": "positive"}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["sentiment"] == "positive"
    assert response.json()["classification"]["sentiment"]["corrected"] is True
    assert TrainingExample.objects.filter(message=message, label="positive", source="correction").exists()
    message.conversation.refresh_from_db()
    assert message.conversation.sentiment == "positive"


def test_a_correction_to_an_unknown_label_is_refused_with_the_reason(world, api):
    message = world["a"]["message"]
    client = api(world["agent"])
    response = client.post(
        f"/api/v1/messages/{message.pk}/correct/", {"task": "sentiment", "label": "furious"}, format="json"
    )
    assert response.status_code == 400
    assert "is not one of the sentiment labels" in response.json()["detail"]
    relevance = client.post(
        f"/api/v1/messages/{message.pk}/correct/", {"task": "relevance", "label": "relevant"}, format="json"
    )
    assert relevance.status_code == 400 and "mention" in relevance.json()["detail"]
    per_brand = client.post(
        f"/api/v1/messages/{message.pk}/correct/",
        {"task": "relevance", "label": "irrelevant", "mention": world["a"]["mention"].pk},
        format="json",
    )
    assert per_brand.status_code == 200
    other_mention = client.post(
        f"/api/v1/messages/{message.pk}/correct/",
        {"task": "relevance", "label": "irrelevant", "mention": world["b"]["mention"].pk},
        format="json",
    )
    assert other_mention.status_code == 404
    assert Message.objects.get(pk=message.pk).sentiment == "negative"
