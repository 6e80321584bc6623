"""The pure parts of the classifier: heads, clauses per brand, relevance rules, priority, evaluation."""

import numpy as np
import pytest
import scipy.sparse as sp

from apps.classification.evaluation import format_report, scores
from apps.classification.heads import Head, softmax
from apps.classification.priority import customer_value, priority_score, waiting_bonus
from apps.classification.relevance import THRESHOLD, default_relevance
from apps.classification.targets import clauses, segment_for


def _toy(n=60, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 8)).astype(np.float32)
    y = ["a" if row[0] > 0 else "b" for row in X]
    return sp.csr_matrix(X), y


def test_head_learns_and_survives_storage():
    X, y = _toy()
    head = Head.train(task="t", labels=["a", "b"], feature_spec="x", X=X, y=y, C=10.0)
    predicted = [head.labels[i] for i in head.logits(X).argmax(1)]
    assert np.mean([p == t for p, t in zip(predicted, y, strict=True)]) > 0.9
    again = Head.from_bytes(head.to_bytes())
    assert again.labels == ["a", "b"] and again.feature_spec == "x"
    assert np.allclose(again.logits(X), head.logits(X), atol=0.05)  # stored as float16


def test_adapter_corrects_its_base_near_the_corrections_only():
    X, y = _toy()
    base = Head.train(task="t", labels=["a", "b"], feature_spec="x", X=X, y=y, C=10.0)
    point = sp.csr_matrix(np.array([[3.0, 0, 0, 0, 0, 0, 0, 5.0]], dtype=np.float32))
    assert base.labels[int(base.logits(point).argmax())] == "a"
    corrections = sp.vstack([point] * 5)
    adapter = Head.train(
        task="t", labels=["a", "b"], feature_spec="x", X=corrections, y=["b"] * 5, C=10.0,
        base=base, base_logits=base.logits(corrections),
    )  # fmt: skip
    assert adapter.base == base.name
    assert base.labels[int(adapter.logits(point, base.logits(point)).argmax())] == "b"
    far = sp.csr_matrix(np.array([[3.0, 0, 0, 0, 0, 0, 0, -5.0]], dtype=np.float32))
    assert base.labels[int(adapter.logits(far, base.logits(far)).argmax())] == "a"


def test_unknown_label_is_refused():
    X, _ = _toy(4)
    with pytest.raises(ValueError, match="not in this head's label set"):
        Head.train(task="t", labels=["a", "b"], feature_spec="x", X=X, y=["a", "b", "c", "a"])


def test_softmax_rows_sum_to_one():
    assert np.allclose(softmax(np.array([[1000.0, 0.0], [1.0, 1.0]])).sum(1), 1.0)


@pytest.mark.parametrize(
    ("text", "terms", "expected"),
    [
        (
            "I bought Nimbus and it broke; Orbita never let me down",
            ["Nimbus"],
            "I bought Nimbus and it broke",
        ),
        ("I bought Nimbus and it broke; Orbita never let me down", ["orbita"], "Orbita never let me down"),
        ("Nimbus es caro pero Orbita es genial", ["Orbita"], "Orbita es genial"),
        ("我买了Nimbus但是Orbita很好", ["Orbita"], "Orbita很好"),
        ("Nimbus is great", ["Orbita"], "Nimbus is great"),  # not named: the whole text
        ("Nimbus and Orbita both failed me", ["Nimbus"], "Nimbus and Orbita both failed me"),
    ],
)
def test_segment_for_a_brand(text, terms, expected):
    assert segment_for(text, terms) == expected


def test_clauses_split_on_contrast_in_several_languages():
    assert len(clauses("Das Netz ist schlecht, aber der Service ist gut")) == 2
    assert len(clauses("الخدمة سيئة لكن السعر جيد")) == 2
    assert len(clauses("Связь плохая, но цена хорошая")) == 2


@pytest.mark.parametrize(
    ("text", "relevant"),
    [
        ("I need to clean the windows in my office", False),
        ("How do I clean Office off my Windows laptop?", True),
        ("Windows update broke my laptop", True),  # start of a sentence: no evidence against
        ("Loving the new #windows start menu", True),
        ("Microsoft support never answers", True),  # the brand's own name
    ],
)
def test_default_relevance_reads_how_words_are_written(text, relevant):
    score = default_relevance(text, to_brand=False, names=["Microsoft"], keywords=["Windows", "Office"])
    assert (score >= THRESHOLD) is relevant


def test_messages_to_the_brand_are_relevant():
    assert default_relevance("hi", to_brand=True, names=[], keywords=[]) >= THRESHOLD


def test_priority_weighs_each_part_and_stays_in_bounds():
    calm, _ = priority_score(sentiment="positive", sentiment_score=0.9, intent="praise")
    angry, parts = priority_score(
        sentiment="negative", sentiment_score=0.9, intent="churn_risk", followers=100_000, value=8
    )
    assert angry > calm
    assert set(parts) == {"base", "sentiment", "intent", "influence", "customer_value"}
    assert 0 <= priority_score(intent="spam")[0] <= 100
    assert (
        priority_score(
            sentiment="negative", sentiment_score=1, intent="churn_risk", followers=10**9, value=10
        )[0]
        <= 100
    )
    assert customer_value({"lifetime_value": "25000"}) > customer_value({"lifetime_value": 50}) >= 0
    assert customer_value({"tier": "Gold"}) == 7.0 and customer_value({}) == 0.0
    assert waiting_bonus(100) == 20 and waiting_bonus(1) == 2


def test_evaluation_figures():
    result = scores(["a", "a", "b", "b"], ["a", "b", "b", "b"], ["en", "en", "fr", "fr"])
    assert result["accuracy"] == 0.75
    assert result["per_label"]["a"]["recall"] == 0.5 and result["per_label"]["b"]["precision"] == 2 / 3
    assert result["per_language"]["fr"]["accuracy"] == 1.0
    assert "macro-F1" in format_report(result)


@pytest.mark.parametrize(
    ("text", "marked"),
    [
        ("Orbita never let me down, great service", "orbita never NOT_let NOT_me NOT_down , great service"),
        ("this isn't worth it", "this isn't NOT_worth NOT_it"),
        ("no funciona. Pero barato", "no NOT_funciona . pero barato"),
        ("这个不好用，但是便宜", "这 个 不 NOT_好 NOT_用 ， 但 是 便 宜"),
    ],
)
def test_negation_scope_is_marked_up_to_punctuation(text, marked):
    from apps.classification.features import negation_marked

    assert negation_marked(text) == marked


def test_unknown_feature_extras_are_refused():
    from apps.classification.features import TextFeatures

    with pytest.raises(ValueError, match="unknown feature extras"):
        TextFeatures("x|emoji", encoder=type("E", (), {"dim": 4})())


@pytest.mark.parametrize(
    ("text", "hindi"),
    [
        ("bhai ye match toh kamaal ka tha yaar", True),
        ("Kya baat hai, aaj mera din bahut acha tha", True),
        ("kal se koi reply nahi aa raha, kya ho raha hai?", True),
        ("The match was great, see you at the stadium tomorrow", False),
        ("no me gusta nada este servicio", False),
        ("saya tidak suka pelayanan ini", False),
        ("यह बहुत अच्छा है", False),  # Devanagari: the detector names it already
    ],
)
def test_romanised_hindi_is_recognised(text, hindi):
    from apps.classification.features import romanised_hindi

    assert romanised_hindi(text) is hindi


def test_language_blocks_and_intercepts_follow_the_language_with_hinglish_sent_to_hindi():
    from apps.classification.features import TextFeatures

    encoder = type("E", (), {"dim": 2})()
    features = TextFeatures("x|by-language:en,hi|language-bias|hinglish", encoder=encoder)
    assert features.dim == 2 * 3 + 2
    texts = ["great service", "bhai ye match toh kamaal ka tha yaar", "très bien"]
    X = features.transform(texts, ["en", "en", "fr"], np.ones((3, 2), dtype=np.float32)).toarray()
    assert features.block_languages(texts, ["en", "en", "fr"]) == ["en", "hi", "fr"]
    assert X[0].tolist() == [1, 1, 1, 1, 0, 0, 1, 0]
    assert X[1].tolist() == [1, 1, 0, 0, 1, 1, 0, 1]
    assert X[2].tolist() == [1, 1, 0, 0, 0, 0, 0, 0]  # a language without a block: the shared part alone


def test_calibration_moves_the_threshold_of_one_language_only():
    from apps.classification import calibration

    labels = ["negative", "neutral", "positive"]
    # Language "it": the head leans to neutral (every text's neutral logit 1 too high); "en" is right.
    truth = ["negative", "neutral", "positive"] * 60
    base = np.array([[2.0, 0, 0], [0, 2.0, 0], [0, 0, 2.0]] * 60)
    leaning = base + np.array([0, 2.5, 0])
    logits = np.vstack([leaning, base])
    languages = ["it"] * 180 + ["en"] * 180
    offsets = calibration.fit(labels, truth * 2, logits, languages)
    assert offsets["it"][1] < -0.5 and offsets["it"][0] == 0
    assert not offsets["en"].any()
    fixed = calibration.apply(logits, languages, offsets)
    assert [labels[i] for i in fixed.argmax(1)] == truth * 2
    honest = calibration.cross_fitted(labels, truth * 2, logits, languages)
    assert scores(truth * 2, [labels[i] for i in honest.argmax(1)])["accuracy"] > 0.95


def test_banking77_intents_map_to_ours():
    from apps.classification.datasets import banking77_intent

    assert banking77_intent("terminate_account") == "churn_risk"
    assert banking77_intent("transaction_charged_twice") == "complaint"
    assert banking77_intent("declined_card_payment") == "complaint"
    assert banking77_intent("card_arrival") == "question"
    assert banking77_intent("edit_personal_details") == "question"


def test_the_shipped_models_load_and_run_with_the_network_cut_off():
    """In a fresh interpreter whose sockets refuse every connection: nothing is downloaded."""
    import subprocess
    import sys
    from pathlib import Path

    script = """
import socket
def refuse(*args, **kwargs):
    raise OSError("network access attempted")
socket.socket.connect = refuse
socket.create_connection = refuse
import django, os
os.environ["DJANGO_SETTINGS_MODULE"] = "cxm.settings"
django.setup()
from apps.classification.predict import predict_texts
texts = ["Merci, tout est parfait !", "Заказ так и не пришёл, поддержка не отвечает. Худший сервис."]
labels, languages = predict_texts(texts, task="sentiment")
print(labels, languages)
"""
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=root, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "['positive', 'negative'] ['fr', 'ru']" in result.stdout
