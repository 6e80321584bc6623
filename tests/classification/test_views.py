"""The pages: correcting a label from the inbox, and the classifiers page (train, progress, rollback)."""

import pytest

from apps.accounts.models import Role
from apps.classification.models import ClassifierVersion, Task, TrainingExample
from apps.classification.services import messages_classify
from apps.listening.models import Level

pytestmark = pytest.mark.django_db


@pytest.fixture
def classified(inbound):
    message = inbound(
        "I bought Nimbus and it broke; Orbita never let me down",
        levels=[Level.ABOUT_BRAND, Level.COMPETITOR],
        competitor="Orbita",
    )
    messages_classify(message_ids=[message.pk])
    message.refresh_from_db()
    return message


def test_an_agent_corrects_a_label_in_one_click(classified, org_a, make_membership, login):
    client = login(make_membership(org_a, Role.COMMUNITY_MANAGER))
    page = client.get(f"/inbox/c/{classified.conversation_id}/")
    assert page.status_code == 200 and b"Why, and correct" in page.content
    response = client.post(
        f"/inbox/m/{classified.pk}/correct/", {"task": "intent", "label": "complaint"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200 and b"complaint" in response.content
    example = TrainingExample.objects.get(message=classified)
    assert (example.task, example.label, example.brand) == (
        "intent",
        "complaint",
        classified.conversation.brand,
    )
    rival = classified.mentions.get(level=Level.COMPETITOR)
    response = client.post(
        f"/inbox/m/{classified.pk}/correct/",
        {"task": "sentiment", "label": "positive", "mention": rival.pk},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    rival.refresh_from_db()
    assert rival.sentiment == "positive"
    per_brand = TrainingExample.objects.get(message=classified, about_brand=rival.brand)
    assert per_brand.text == "Orbita never let me down"  # what the message says about that brand


def test_a_wrong_label_is_refused_with_a_reason(classified, org_a, make_membership, login):
    client = login(make_membership(org_a, Role.COMMUNITY_MANAGER))
    response = client.post(
        f"/inbox/m/{classified.pk}/correct/", {"task": "intent", "label": "<b>x</b>"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 400 and b"not one of the intent labels" in response.content
    assert response["Content-Type"].startswith("text/plain")  # the reason is shown as text, never as HTML
    assert not TrainingExample.objects.exists()


def test_another_tenant_cannot_correct_or_see(classified, org_b, make_membership, login):
    client = login(make_membership(org_b, Role.ADMIN))
    assert (
        client.post(f"/inbox/m/{classified.pk}/correct/", {"task": "intent", "label": "other"}).status_code
        == 404
    )
    assert not TrainingExample.objects.exists()
    page = client.get("/org/classifiers/")
    assert page.status_code == 200 and b"Nimbus" not in page.content


def test_marketers_and_agents_cannot_open_the_classifiers_page(org_a, make_membership, login, client):
    login(make_membership(org_a, Role.MARKETER))
    assert client.get("/org/classifiers/").status_code == 403
    login(make_membership(org_a, Role.COMMUNITY_MANAGER))
    assert client.get("/org/classifiers/").status_code == 403


def test_admin_trains_follows_progress_and_rolls_back(
    classified, org_a, classify_brand, make_membership, login
):
    from apps.classification.services import classifier_train

    client = login(make_membership(org_a, Role.ADMIN))
    page = client.get("/org/classifiers/")
    assert (
        page.status_code == 200 and b"Nimbus Telecom" in page.content and b"shipped default" in page.content
    )
    response = client.post(
        "/org/classifiers/train/", {"brand": classify_brand.pk, "task": "sentiment"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200 and b"<progress" in response.content
    version = ClassifierVersion.objects.get(brand=classify_brand, task=Task.SENTIMENT)
    assert client.get(f"/org/classifiers/v/{version.pk}/progress/").status_code == 200
    classifier_train(version=version)  # what the worker's task does (it is covered by test_pipeline)
    version.refresh_from_db()
    assert version.status == ClassifierVersion.Status.FAILED  # one correction: too few, and it says so
    assert b"at least 5 are needed" in client.get(f"/org/classifiers/v/{version.pk}/progress/").content


def test_admin_changes_the_intent_labels(org_a, make_membership, login):
    client = login(make_membership(org_a, Role.ADMIN))
    client.post(
        "/org/classifiers/settings/",
        {
            "intent_labels": "Billing, network outage, other",
            "min_examples_to_train": "3",
            "retrain_automatically": "on",
        },
    )
    from apps.classification.services import classification_settings

    found = classification_settings(org_a.pk)
    assert found.intent_labels == ["billing", "network_outage", "other"] and found.min_examples_to_train == 3
    response = client.post(
        "/org/classifiers/settings/", {"intent_labels": "one", "min_examples_to_train": "3"}, follow=True
    )
    assert b"at least two intent labels" in response.content
