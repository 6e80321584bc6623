"""Build the shipped default heads (sentiment, intent) from the licensed data; see MODEL_CARD.md.

Pure Python (no Django). Run through ``manage.py build_default_classifiers``; it needs the shared
datasets (``../shared/datasets`` or ``CXM_DATASETS``), which are read in place, never copied.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from . import datasets
from .evaluation import scores
from .features import TextFeatures
from .heads import Head
from .models import DEFAULT_INTENT_LABELS, Sentiment

C = {"sentiment": 0.5, "intent": 1.0}
#: The project's own examples are few but written in the product's domain (customers talking to brands):
#: each counts as this many examples of the large public sets.
SEED_WEIGHT = 1.0


@dataclass
class Built:
    head: Head
    validation: dict[str, dict]


def _fit(task, labels, examples, extractor: TextFeatures, sources: list[str], step: Callable) -> Head:
    texts = [e.text for e in examples]
    vectors = extractor.vectors(texts)
    step(f"{task}: {len(texts)} examples encoded")
    X = extractor.transform(texts, [e.language for e in examples], vectors)
    seed_rows = [i for i, e in enumerate(examples) if e.source == "seed_examples"]
    head = Head.train(
        task=task,
        labels=labels,
        feature_spec=extractor.spec,
        X=X,
        y=[e.label for e in examples],
        C=C[task],
        sample_weight=np.array([SEED_WEIGHT if e.source == "seed_examples" else 1.0 for e in examples]),
        meta={
            "name": f"default {task}",
            "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "trained_on": len(examples),
            "sources": sources,
        },
        # Only the project's own examples are kept as evidence: the shared datasets' texts never ship.
        exemplars=(vectors[seed_rows], [texts[i] for i in seed_rows]),
    )
    head.exemplar_labels = [examples[i].label for i in seed_rows]
    step(f"{task}: head trained")
    return head


def validate(head: Head, extractor: TextFeatures, examples: list[datasets.Example]) -> dict:
    texts = [e.text for e in examples]
    languages = [e.language for e in examples]
    X = extractor.transform(texts, languages)
    predicted = [head.labels[i] for i in head.logits(X).argmax(axis=1)]
    return scores([e.label for e in examples], predicted, languages)


def build(out_dir: Path, feature_spec: str, step: Callable = print) -> dict[str, Built]:
    extractor = TextFeatures(feature_spec)
    out_dir.mkdir(parents=True, exist_ok=True)
    built = {}
    sentiment = _fit(
        "sentiment",
        list(Sentiment.values),
        datasets.sentiment_training(),
        extractor,
        ["xlm_t_umsab (train)", "tweeteval/sentiment (train)", "indonlu_smsa (train)", "seed_examples"],
        step,
    )
    built["sentiment"] = Built(
        sentiment,
        {
            "xlm_t_umsab (val)": validate(sentiment, extractor, datasets.xlmt("val")),
            "indonlu_smsa (val)": validate(sentiment, extractor, datasets.indonlu("val")),
        },
    )
    intent = _fit(
        "intent",
        list(DEFAULT_INTENT_LABELS),
        datasets.intent_training(),
        extractor,
        [
            "bitext_customer_service (train, mapped)",
            "sms_spam_uci + youtube_spam_partial (train)",
            "seed_examples",
        ],
        step,
    )
    built["intent"] = Built(
        intent,
        {
            "bitext_customer_service (val, mapped)": validate(
                intent, extractor, datasets.bitext_intents("val")
            ),
            "sms_spam_uci (val)": validate(intent, extractor, datasets.spam("val")),
        },
    )
    for task, result in built.items():
        result.head.meta["validation"] = {
            name: {k: v for k, v in figures.items() if k != "per_label"}
            for name, figures in result.validation.items()
        }
        (out_dir / f"{task}.npz").write_bytes(result.head.to_bytes())
        step(f"{task}: written to {out_dir / f'{task}.npz'}")
    return built
