"""Build the shipped default heads (sentiment, intent) from the licensed data; see MODEL_CARD.md.

Pure Python (no Django). Run through ``manage.py build_default_classifiers``; it needs the shared
datasets (``../shared/datasets`` or ``CXM_DATASETS``), which are read in place, never copied.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from . import calibration, datasets
from .evaluation import scores
from .features import TextFeatures
from .heads import Head
from .models import DEFAULT_INTENT_LABELS, Sentiment

C = {"sentiment": 0.5, "intent": 1.0}
#: The project's own examples are few but written in the product's domain (customers talking to brands):
#: each counts as this many examples of the large public sets.
SEED_WEIGHT = 1.0


class VectorCache:
    """The encoder's vectors of the texts a build reads, each computed once per build, and kept between
    builds in ``CXM_BUILD_VECTORS`` (an .npz path) when set: on 2 shared cores encoding the ~40,000
    training and validation texts is most of a build, and the encoder gives a text the same vector
    every time. Keyed by the encoder spec and the text's SHA-1."""

    def __init__(self, extractor: TextFeatures, path: str | None = None):
        self.extractor = extractor
        self.path = Path(path) if path else None
        self.prefix = extractor.encoder_spec + "\0"
        self.known: dict[str, np.ndarray] = {}
        if self.path and self.path.is_file():
            with np.load(self.path, allow_pickle=False) as stored:
                self.known = dict(zip(stored["keys"].tolist(), stored["vectors"], strict=True))

    def _key(self, text: str) -> str:
        return hashlib.sha1((self.prefix + text).encode()).hexdigest()

    def vectors(self, texts: list[str]) -> np.ndarray:
        keys = [self._key(t) for t in texts]
        missing = list(dict.fromkeys(k for k in keys if k not in self.known))
        if missing:
            todo = {k: t for k, t in zip(keys, texts, strict=True) if k in set(missing)}
            computed = self.extractor.vectors(list(todo.values()))
            self.known.update(zip(todo, computed, strict=True))
            if self.path:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                np.savez(
                    self.path, keys=np.array(list(self.known)), vectors=np.array(list(self.known.values()))
                )
        if not texts:
            return np.zeros((0, self.extractor.encoder.dim), dtype=np.float32)
        return np.stack([self.known[k] for k in keys]).astype(np.float32)


@dataclass
class Built:
    head: Head
    validation: dict[str, dict]


def _fit(
    task, labels, examples, extractor: TextFeatures, sources, step: Callable, cache: VectorCache
) -> Head:
    texts = [e.text for e in examples]
    vectors = cache.vectors(texts)
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


_detected: dict[str, str] = {}


def detected(texts: list[str]) -> list[str]:
    """The languages production would give these texts: the product's own detection (once a text a build)."""
    from . import language

    missing = list(dict.fromkeys(t for t in texts if t not in _detected))
    if missing:
        _detected.update(zip(missing, language.detect(missing), strict=True))
    return [_detected[t] for t in texts]


def validate(
    head: Head, extractor: TextFeatures, examples: list[datasets.Example], cache: VectorCache
) -> dict:
    """Scores on examples never trained on, with the language detected as in production (the language
    blocks and offsets follow it), reported per language of the dataset."""
    texts = [e.text for e in examples]
    X = extractor.transform(texts, detected(texts), cache.vectors(texts))
    predicted = [head.labels[i] for i in head.logits(X).argmax(axis=1)]
    return scores([e.label for e in examples], predicted, [e.language for e in examples])


def calibrate(
    head: Head, extractor: TextFeatures, examples: list[datasets.Example], step: Callable, cache: VectorCache
) -> dict:
    """Fit an offset per language on ``examples`` (validation) and write it into the head's
    ``language-bias`` columns; returns the cross-fitted figures (each half scored with offsets fitted on
    the other half), the honest estimate of what calibration gives."""
    texts = [e.text for e in examples]
    languages = detected(texts)
    X = extractor.transform(texts, languages, cache.vectors(texts))
    blocks = extractor.block_languages(texts, languages)
    logits = head.logits(X)
    truth = [e.label for e in examples]
    offsets = calibration.fit(head.labels, truth, logits, blocks)
    first = head.W.shape[1] - len(extractor.languages)
    for code, offset in offsets.items():
        if code in extractor.languages:
            head.W[:, first + extractor.languages.index(code)] += offset.astype(np.float32)
    head.meta["language_bias"] = {code: [round(float(v), 3) for v in o] for code, o in offsets.items()}
    step(f"{head.task}: offsets per language fitted on validation: {head.meta['language_bias']}")
    honest = calibration.cross_fitted(head.labels, truth, logits, blocks)
    predicted = [head.labels[i] for i in honest.argmax(axis=1)]
    return scores(truth, predicted, [e.language for e in examples])


def _sentiment_figures(head: Head, extractor: TextFeatures, step: Callable, cache: VectorCache) -> dict:
    figures = {}
    if extractor.language_bias:
        figures["xlm_t_umsab + indonlu_smsa (val, offsets cross-fitted)"] = calibrate(
            head, extractor, datasets.xlmt("val") + datasets.indonlu("val"), step, cache
        )
    figures["xlm_t_umsab (val)"] = validate(head, extractor, datasets.xlmt("val"), cache)
    figures["indonlu_smsa (val)"] = validate(head, extractor, datasets.indonlu("val"), cache)
    figures["tweeteval/sentiment (val)"] = validate(head, extractor, datasets.tweeteval("val"), cache)
    return figures


def extended(head: Head, extractor: TextFeatures) -> Head:
    """A trained head moved to ``extractor``'s spec when that spec only adds ``language-bias`` and
    ``hinglish`` to the head's: the indicator columns are appended with zero weights (and a calibrated
    head's earlier offsets are taken off them), so the head can be calibrated again without training."""
    old = TextFeatures(head.feature_spec, encoder=extractor.encoder)
    same = (old.encoder_spec, old.char_ngrams, old.words, old.languages) == (
        extractor.encoder_spec, extractor.char_ngrams, extractor.words, extractor.languages
    )  # fmt: skip
    if not same or not extractor.language_bias:
        raise ValueError(
            f"cannot recalibrate a head on {head.feature_spec!r} for {extractor.spec!r}: train it instead"
        )
    W = head.W
    if not old.language_bias:
        W = np.hstack([W, np.zeros((W.shape[0], len(extractor.languages)), dtype=W.dtype)])
    first = W.shape[1] - len(extractor.languages)
    for code, offset in head.meta.get("language_bias", {}).items():
        W[:, first + extractor.languages.index(code)] -= np.asarray(offset, dtype=W.dtype)
    head.W, head.feature_spec = W, extractor.spec
    head.meta["language_bias"] = {}
    return head


def build(
    out_dir: Path,
    feature_spec: str,
    step: Callable = print,
    tasks: tuple[str, ...] = ("sentiment", "intent"),
    recalibrate: bool = False,
) -> dict[str, Built]:
    """Train the heads of ``tasks`` and write them to ``out_dir``. With ``recalibrate``, the sentiment
    head already in ``out_dir`` is not trained again, only its per-language offsets are fitted anew (after
    a change of the language detector, say)."""
    extractor = TextFeatures(feature_spec)
    cache = VectorCache(extractor, os.environ.get("CXM_BUILD_VECTORS"))
    out_dir.mkdir(parents=True, exist_ok=True)
    built = {}
    if "sentiment" in tasks:
        if recalibrate:
            sentiment = extended(Head.from_bytes((out_dir / "sentiment.npz").read_bytes()), extractor)
            sentiment.meta["recalibrated_at"] = datetime.now(UTC).isoformat(timespec="seconds")
        else:
            sentiment = _fit(
                "sentiment",
                list(Sentiment.values),
                datasets.sentiment_training(),
                extractor,
                [
                    "xlm_t_umsab (train)",
                    "tweeteval/sentiment (train)",
                    "indonlu_smsa (train)",
                    "seed_examples",
                ],
                step,
                cache,
            )
        built["sentiment"] = Built(sentiment, _sentiment_figures(sentiment, extractor, step, cache))
    if "intent" in tasks:
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
            cache,
        )
        built["intent"] = Built(
            intent,
            {
                "bitext_customer_service (val, mapped)": validate(
                    intent, extractor, datasets.bitext_intents("val"), cache
                ),
                "sms_spam_uci (val)": validate(intent, extractor, datasets.spam("val"), cache),
                "banking77 (en, mapped, never trained on)": validate(
                    intent, extractor, datasets.banking77(), cache
                ),
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
