"""Classification on the real shipped models: every language, per-brand sentiment, relevance, priority,
learning from corrections, rollback, and a missing model that leaves messages waiting."""

from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from apps.classification import engine
from apps.classification.models import ClassifierVersion, Task, TrainingExample
from apps.classification.services import (
    classification_settings_update,
    classifier_activate,
    classifier_train,
    classifier_version_start,
    label_correct,
    messages_awaiting_classification,
    messages_classify,
)
from apps.conversations.models import Conversation, Message
from apps.listening.models import Level, Mention

pytestmark = pytest.mark.django_db

# An unmistakably negative and positive message in each language the product covers.
PAIRS = {
    "en": (
        "My order never arrived and support ignores me. Worst service ever.",
        "Thank you so much, the support team was amazing and fixed it in minutes!",
    ),
    "ar": (
        "طلبي لم يصل وخدمة العملاء لا ترد. أسوأ خدمة على الإطلاق",
        "شكرا جزيلا، فريق الدعم رائع وحل المشكلة في دقائق!",
    ),
    "id": (
        "Pesanan saya tidak pernah sampai dan CS tidak membalas. Pelayanan terburuk.",
        "Terima kasih banyak, tim supportnya luar biasa dan cepat sekali!",
    ),
    "ru": (
        "Заказ так и не пришёл, поддержка не отвечает. Худший сервис.",
        "Огромное спасибо, поддержка просто супер, всё решили за минуту!",
    ),
    "zh": ("我的订单一直没到，客服也不回复，最差的服务。", "太感谢了，客服团队超棒，几分钟就解决了！"),
    "es": (
        "Mi pedido nunca llegó y el soporte me ignora. El peor servicio.",
        "¡Muchísimas gracias, el equipo de soporte es increíble y lo resolvió en minutos!",
    ),
    "fr": (
        "Ma commande n'est jamais arrivée et le support m'ignore. Le pire service.",
        "Merci beaucoup, l'équipe support est géniale et a tout réglé en quelques minutes !",
    ),
    "de": (
        "Meine Bestellung kam nie an und der Support ignoriert mich. Schlechtester Service.",
        "Vielen Dank, das Support-Team war großartig und hat alles in Minuten gelöst!",
    ),
    "pt": (
        "Meu pedido nunca chegou e o suporte me ignora. Pior serviço.",
        "Muito obrigado, a equipe de suporte foi incrível e resolveu em minutos!",
    ),
}


def test_every_language_gets_language_sentiment_intent_and_priority(inbound):
    messages = [inbound(text) for pair in PAIRS.values() for text in pair]
    assert messages_classify(message_ids=[m.pk for m in messages]) == len(messages)
    for code, (negative, positive) in PAIRS.items():
        bad = Message.objects.get(text=negative)
        good = Message.objects.get(text=positive)
        assert bad.language == code and good.language == code
        assert bad.classified_at and bad.intent and bad.priority is not None
        assert bad.sentiment == "negative", (code, bad.classification["sentiment"])
        assert good.sentiment == "positive", (code, good.classification["sentiment"])
        assert bad.priority > good.priority
        assert bad.classification["sentiment"]["evidence"], "agents see the nearest labelled examples"
    assert not messages_awaiting_classification(older_than_seconds=0)


def test_sentiment_per_brand_named(inbound, classify_brand):
    message = inbound(
        "I bought Nimbus and it broke after a week, total waste of money; "
        "Orbita never let me down, great service",
        levels=[Level.ABOUT_BRAND, Level.COMPETITOR],
        competitor="Orbita",
    )
    messages_classify(message_ids=[message.pk])
    about = Mention.objects.get(message=message, level=Level.ABOUT_BRAND)
    rival = Mention.objects.get(message=message, level=Level.COMPETITOR)
    assert about.sentiment == "negative"
    assert rival.sentiment == "positive"
    brands = Message.objects.get(pk=message.pk).classification["brands"]
    assert {b["level"]: b["segment"] for b in brands}[Level.COMPETITOR].startswith("Orbita")


def test_relevance_sets_apart_keyword_hits_not_about_the_brand(inbound, org_a):
    from tests.factories import BrandFactory

    vireo = BrandFactory(
        organization=org_a, name="Vireo Software", keywords=["Windows", "Office"], handles=[]
    )
    window_cleaning = inbound(
        "I need to clean the windows in my office", brand=vireo, levels=[Level.ABOUT_BRAND]
    )
    software = inbound(
        "How do I clean Office off my Windows laptop?", brand=vireo, levels=[Level.ABOUT_BRAND]
    )
    messages_classify(message_ids=[window_cleaning.pk, software.pk])
    assert Mention.objects.get(message=window_cleaning).relevant is False
    assert Mention.objects.get(message=software).relevant is True


def test_conversation_priority_follows_the_latest_message_and_urgency_shortens_the_sla(inbound):
    from datetime import timedelta

    message = inbound("I'm cancelling my contract and moving to another provider, your service is terrible")
    Conversation.objects.filter(pk=message.conversation_id).update(
        sla_due_at=message.sent_at + timedelta(hours=24)
    )
    messages_classify(message_ids=[message.pk])
    message.refresh_from_db()
    assert message.intent == "churn_risk"
    conversation = Conversation.objects.get(pk=message.conversation_id)
    assert conversation.priority == message.priority >= 70
    assert message.classification["priority"]["parts"]["intent"] == 30
    assert conversation.sla_due_at == message.sent_at + timedelta(hours=1)


def _correct_and_train(inbound, brand, texts, label, user=None):
    for text in texts:
        message = inbound(text, brand=brand)
        messages_classify(message_ids=[message.pk])
        label_correct(message=message, task=Task.SENTIMENT, label=label, user=user)
    version = classifier_version_start(organization=brand.organization, brand=brand, task=Task.SENTIMENT)
    return classifier_train(version=version)


SLANG = [
    "this new Zest flavour is sick",
    "Zest lime is sick, had three cans today",
    "that zest ad was sick bro",
    "sick sick sick, Zest never misses",
    "the new Zest can design is sick",
    "Zest at the festival was sick",
]


def test_corrections_change_the_next_prediction_of_that_brand_only(inbound, org_a):
    from tests.factories import BrandFactory

    drink = BrandFactory(organization=org_a, name="Zest Cola", keywords=["Zest"])
    clinic = BrandFactory(organization=org_a, name="Clearview Clinic", keywords=["Clearview"])
    probe = "Zest's mango edition is sick"
    before = inbound(probe, brand=drink)
    messages_classify(message_ids=[before.pk])
    before.refresh_from_db()
    version = _correct_and_train(inbound, drink, SLANG, "positive")
    assert version.status == ClassifierVersion.Status.READY, version.error
    assert version.is_active and version.examples_count == len(SLANG)
    assert "after" in version.metrics and version.metrics["held_out"] >= 1

    after = inbound(probe, brand=drink)
    elsewhere = inbound(probe, brand=clinic)
    messages_classify(message_ids=[after.pk, elsewhere.pk])
    after.refresh_from_db()
    elsewhere.refresh_from_db()
    assert after.sentiment == "positive"
    assert after.sentiment_score > (before.sentiment_score if before.sentiment == "positive" else 0)
    assert "brand v1" in after.classification["sentiment"]["model"]
    assert elsewhere.classification["sentiment"]["model"] == "default"
    assert elsewhere.classification["sentiment"]["scores"] == before.classification["sentiment"]["scores"]
    # Evidence now includes the brand's own corrections.
    assert any(e["text"] in SLANG for e in after.classification["sentiment"]["evidence"])


def test_a_brand_model_trained_on_a_replaced_default_is_left_out_not_a_crash(inbound, org_a):
    """A rebuilt default with other features (its columns changed) leaves the brand's older adapter out
    until it is trained again, rather than failing every message of the brand."""
    from apps.classification.heads import Head
    from tests.factories import BrandFactory

    drink = BrandFactory(organization=org_a, name="Zest Cola", keywords=["Zest"])
    version = _correct_and_train(inbound, drink, SLANG, "positive")
    head = Head.from_bytes(bytes(version.artifact))
    head.feature_spec = "use-multilingual|chars"  # what an older default was built on
    ClassifierVersion.objects.filter(pk=version.pk).update(artifact=head.to_bytes())
    engine.forget_loaded_models()
    message = inbound("Zest's mango edition is sick", brand=drink)
    assert messages_classify(message_ids=[message.pk]) == 1
    message.refresh_from_db()
    assert message.sentiment and message.classification["sentiment"]["model"] == "default"


def test_versions_can_be_rolled_back(inbound, org_a):
    from tests.factories import BrandFactory

    drink = BrandFactory(organization=org_a, name="Zest Cola", keywords=["Zest"])
    first = _correct_and_train(inbound, drink, SLANG, "positive")
    second = _correct_and_train(
        inbound, drink, ["Zest is sick, I threw up all night", "Zest made me sick"], "negative"
    )
    assert second.version == 2 and second.is_active
    first.refresh_from_db()
    assert not first.is_active
    classifier_activate(version=first)
    assert (
        ClassifierVersion.objects.get(organization=org_a, brand=drink, task=Task.SENTIMENT, is_active=True)
        == first
    )


def test_too_few_corrections_fail_with_a_reason(inbound, classify_brand):
    message = inbound("meh")
    messages_classify(message_ids=[message.pk])
    label_correct(message=message, task=Task.SENTIMENT, label="negative")
    version = classifier_version_start(
        organization=classify_brand.organization, brand=classify_brand, task=Task.SENTIMENT
    )
    version = classifier_train(version=version)
    assert version.status == ClassifierVersion.Status.FAILED
    assert "at least 5 are needed" in version.error


def test_an_organisation_sets_its_own_intent_labels(inbound, org_a, classify_brand):
    classification_settings_update(
        organization_id=org_a.pk, intent_labels="billing, network, other", min_examples_to_train="4",
        retrain_automatically=True,
    )  # fmt: skip
    examples = {
        "billing": [
            "I was charged twice this month",
            "why is my invoice so high",
            "refund the double charge",
            "my bill is wrong",
        ],
        "network": [
            "no signal at home since monday",
            "4G keeps dropping in the city",
            "internet is down again",
            "calls drop all the time",
        ],
    }
    for label, texts in examples.items():
        for text in texts:
            message = inbound(text)
            messages_classify(message_ids=[message.pk])
            label_correct(message=message, task=Task.INTENT, label=label)
    with pytest.raises(ValueError, match="not one of the intent labels"):
        label_correct(message=message, task=Task.INTENT, label="complaint")
    version = classifier_train(
        version=classifier_version_start(organization=org_a, brand=None, task=Task.INTENT)
    )
    assert version.status == ClassifierVersion.Status.READY, version.error
    assert version.labels == ["billing", "network"]
    probe = inbound("there is no network coverage in my street")
    messages_classify(message_ids=[probe.pk])
    probe.refresh_from_db()
    assert probe.intent == "network"


def test_a_missing_model_leaves_messages_waiting_with_a_reason(inbound, settings, tmp_path):
    settings.CLASSIFIER_DEFAULTS_DIR = str(tmp_path)
    engine.forget_loaded_models()
    message = inbound("where is my parcel?")
    with pytest.raises(engine.ClassifierUnavailable, match="default sentiment model is missing"):
        messages_classify(message_ids=[message.pk])
    message.refresh_from_db()
    assert message.classified_at is None
    assert "build_default_classifiers" in message.classification_error
    assert message.pk in messages_awaiting_classification(older_than_seconds=0)

    settings.CLASSIFIER_DEFAULTS_DIR = str(
        engine.Path(__file__).resolve().parents[2] / "apps/classification/defaults"
    )
    engine.forget_loaded_models()
    assert messages_classify(message_ids=[message.pk]) == 1
    message.refresh_from_db()
    assert message.classified_at and message.classification_error == ""


def test_evaluate_classifier_prints_the_figures(tmp_path, capsys):
    data = tmp_path / "sentiment.tsv"
    lines = ["text\tlabel"] + [f"{neg}\tnegative\n{pos}\tpositive" for neg, pos in PAIRS.values()]
    data.write_text("\n".join(lines), encoding="utf-8")
    call_command("evaluate_classifier", data=str(data), task="sentiment")
    out = capsys.readouterr().out
    assert "macro-F1" in out and "precision" in out
    for code in PAIRS:
        assert f"\n{code} " in out  # the per-language breakdown


def test_corrections_are_kept_once_per_label(inbound):
    message = inbound("hmm")
    messages_classify(message_ids=[message.pk])
    label_correct(message=message, task=Task.SENTIMENT, label="negative")
    label_correct(message=message, task=Task.SENTIMENT, label="neutral")
    assert TrainingExample.objects.get(message=message).label == "neutral"
    message.refresh_from_db()
    assert message.sentiment == "neutral" and message.classification["sentiment"]["corrected"]
    # The inbox filters conversations on these labels.
    assert Conversation.objects.get(pk=message.conversation_id).sentiment == "neutral"


def test_a_configured_hugging_face_encoder_that_is_not_here_fails_training_with_a_reason(
    inbound, org_a, settings, tmp_path
):
    settings.CLASSIFIER_FEATURES = f"hf:{tmp_path}/no-such-model|chars"
    classification_settings_update(
        organization_id=org_a.pk, intent_labels="billing, network", min_examples_to_train="2",
        retrain_automatically=True,
    )  # fmt: skip
    for text, label in (("charged twice", "billing"), ("no signal", "network")):
        message = inbound(text)
        messages_classify(message_ids=[message.pk])
        label_correct(message=message, task=Task.INTENT, label=label)
    version = classifier_train(
        version=classifier_version_start(organization=org_a, brand=None, task=Task.INTENT)
    )
    assert version.status == ClassifierVersion.Status.FAILED
    assert "no such local directory" in version.error and "nothing is downloaded" in version.error


def test_erasing_a_customer_removes_their_words_from_corrections_and_models(inbound, org_a):
    from apps.classification.heads import Head
    from apps.customers.services import customer_erase
    from tests.factories import BrandFactory

    drink = BrandFactory(organization=org_a, name="Zest Cola", keywords=["Zest"])
    version = _correct_and_train(inbound, drink, SLANG, "positive")
    assert SLANG[0] in Head.from_bytes(bytes(version.artifact)).exemplar_texts
    erased = Message.objects.get(text=SLANG[0])
    customer_erase(customer=erased.conversation.customer, actor=None)
    assert not TrainingExample.objects.filter(text=SLANG[0]).exists()
    version.refresh_from_db()
    kept = Head.from_bytes(bytes(version.artifact)).exemplar_texts
    assert SLANG[0] not in kept and SLANG[1] in kept
    erased.refresh_from_db()
    assert erased.text == "[erased]" and erased.classification == {}


def test_evaluate_classifier_scores_target_sentiment_through_the_clauses_that_name_the_target(capsys):
    # Each text names two brands, one praised and one blamed: a line per (text, target). Read whole, both
    # lines of a text would get one label; through the per-brand clause logic each target gets its own.
    data = Path(__file__).parent / "data" / "target_sentiment.tsv"
    call_command("evaluate_classifier", data=str(data), task="sentiment")
    out = capsys.readouterr().out
    assert "target sentiment on" in out and "macro-F1" in out
    assert "accuracy 1.000" in out, out
    with pytest.raises(CommandError, match="sentiment only"):
        call_command("evaluate_classifier", data=str(data), task="intent")


def test_evaluate_classifier_refuses_a_target_line_without_its_target(tmp_path):
    data = tmp_path / "targets.tsv"
    data.write_text("text\ttarget\tlabel\nNimbus is great\t\tpositive\n", encoding="utf-8")
    with pytest.raises(CommandError, match=r"targets.tsv:2: the target is empty"):
        call_command("evaluate_classifier", data=str(data), task="sentiment")
