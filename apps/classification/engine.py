"""The classifier as the workers run it: which heads apply to a message, and what they say.

Every model is loaded once per worker process and kept: the encoders by their spec
(``features.features_for``), the trained heads by their version's primary key (an artifact never
changes once written), the shipped defaults by file. A model that is missing or broken raises
``ClassifierUnavailable`` with the reason; the caller leaves the messages waiting.

For one task, a message's *chain* is a base head (the shipped default, or an organisation's own head
when it has its own label set) plus the adapters that correct it: the organisation's, then its
brand's. Logits add up along the chain.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from django.conf import settings

from .heads import Head, softmax
from .models import DEFAULT_INTENT_LABELS, RELEVANCE_LABELS, ClassifierVersion, Task

#: Messages longer than this are classified on their beginning (hostile 300 kB texts included).
MAX_CHARS = 2000


class ClassifierUnavailable(RuntimeError):
    """A model cannot be loaded or run; ``str()`` says which and how to fix it."""


_lock = threading.Lock()
_defaults: dict[str, Head] = {}
_versions: dict[int, Head] = {}


def defaults_dir() -> Path:
    return Path(settings.CLASSIFIER_DEFAULTS_DIR)


def default_head(task: str) -> Head:
    """The shipped head for a task (sentiment, intent, needs_reply), loaded once per process."""
    head = _defaults.get(task)
    if head is None and task == Task.NEEDS_REPLY:
        from .triage import default_head as triage_default  # a policy written in code, not a trained file

        head = _defaults.setdefault(task, triage_default())
    if head is None:
        path = defaults_dir() / f"{task}.npz"
        try:
            head = Head.from_bytes(path.read_bytes())
        except FileNotFoundError as exc:
            raise ClassifierUnavailable(
                f"the default {task} model is missing ({path}); build it with "
                "`manage.py build_default_classifiers`, or set CXM_CLASSIFIER_DEFAULTS_DIR"
            ) from exc
        except Exception as exc:
            raise ClassifierUnavailable(f"the default {task} model at {path} cannot be read: {exc}") from exc
        with _lock:
            _defaults[task] = head
        _freeze_loaded()
    return head


def version_head(version_id: int, artifact=None) -> Head:
    head = _versions.get(version_id)
    if head is None:
        if artifact is None:
            artifact = ClassifierVersion.objects.values_list("artifact", flat=True).get(pk=version_id)
        try:
            head = Head.from_bytes(bytes(artifact))
        except Exception as exc:
            raise ClassifierUnavailable(f"classifier version #{version_id} cannot be read: {exc}") from exc
        with _lock:
            _versions[version_id] = head
        _freeze_loaded()
    return head


def _freeze_loaded() -> None:
    from .features import _freeze_loaded as freeze

    freeze()


def features(head_or_spec: Head | str):
    """The loaded feature extractor a head (or a feature spec) reads; its encoder loaded once per process."""
    from .encoders import EncoderUnavailable
    from .features import features_for

    spec = head_or_spec if isinstance(head_or_spec, str) else head_or_spec.feature_spec
    try:
        return features_for(spec)
    except (EncoderUnavailable, ImportError, OSError, ValueError) as exc:
        raise ClassifierUnavailable(f"the encoder {spec!r} cannot be loaded: {exc}") from exc


def forget_loaded_models() -> None:
    """Drop every cached head (the defaults are rebuilt, a test swaps the defaults' folder)."""
    with _lock:
        _defaults.clear()
        _versions.clear()


@dataclass
class Chain:
    """The heads that classify one scope (organisation, brand) for one task, in order."""

    task: str
    base: Head
    adapters: list[Head] = field(default_factory=list)
    names: list[str] = field(default_factory=list)

    @property
    def labels(self) -> list[str]:
        return self.base.labels

    @property
    def key(self) -> tuple[int, ...]:
        """Which heads make the chain: loaded heads are kept for the life of the process."""
        return tuple(id(head) for head in [self.base, *self.adapters])

    def logits(self, X) -> np.ndarray:
        out = self.base.logits(X)
        for adapter in self.adapters:
            out = adapter.logits(X, out)
        return out

    def probabilities(self, X) -> np.ndarray:
        return softmax(self.logits(X))

    def nearest(self, vectors: np.ndarray, k: int = 3) -> list[list[tuple[float, str, str]]]:
        """The labelled examples nearest each vector, across the chain (brand corrections first)."""
        found = [[] for _ in range(len(vectors))]
        for head in [*reversed(self.adapters), self.base]:
            for row, items in enumerate(head.nearest(vectors, k)):
                found[row].extend(items)
        return [sorted(items, key=lambda item: -item[0])[:k] for items in found]


class Resolver:
    """Finds each scope's chain with one query for the active versions of the organisations at hand."""

    def __init__(self, organization_ids: set[int], without: tuple | None = None):
        """``without``: an (organisation, brand, task) scope whose own version is left out."""
        self._active: dict[tuple[int, int | None, str], tuple[int, int]] = {
            (org, brand, task): (pk, version)
            for pk, org, brand, task, version in ClassifierVersion.objects.filter(
                organization_id__in=organization_ids, is_active=True, status=ClassifierVersion.Status.READY
            ).values_list("pk", "organization_id", "brand_id", "task", "version")
            if (org, brand, task) != without
        }
        self._chains: dict[tuple, Chain | None] = {}

    def _version(self, org: int, brand: int | None, task: str) -> tuple[Head, str] | None:
        found = self._active.get((org, brand, task))
        if found is None:
            return None
        pk, number = found
        scope = "brand" if brand else "organisation"
        return version_head(pk), f"{scope} v{number}"

    def chain(self, organization_id: int, brand_id: int | None, task: str) -> Chain | None:
        key = (organization_id, brand_id, task)
        if key not in self._chains:
            self._chains[key] = self._build(organization_id, brand_id, task)
        return self._chains[key]

    def _build(self, org: int, brand: int | None, task: str) -> Chain | None:
        chain = None
        for scope in (None, brand) if brand else (None,):
            found = self._version(org, scope, task)
            if found is None:
                continue
            head, name = found
            if head.base is None:  # a base head of its own replaces what came before
                chain = Chain(task, head, [], [name])
                continue
            base = chain.base if chain is not None else default_head(task)
            if head.feature_spec != base.feature_spec:
                # Trained on the features of a base since replaced (a rebuilt default): its columns no
                # longer line up, so it is left out until the next training replaces it.
                continue
            if chain is not None:
                chain.adapters.append(head)
                chain.names.append(name)
            else:
                chain = Chain(task, base, [head], ["default", name])
        if chain is None and task != Task.RELEVANCE:
            chain = Chain(task, default_head(task), [], ["default"])
        return chain


def label_scores(chain: Chain, X, wanted: list[str] | None = None) -> list[dict[str, float]]:
    """Per row, the probability of each label, restricted to ``wanted`` and renormalised (empty when the
    chain knows none of the wanted labels: an organisation's own labels before its model is trained)."""
    probabilities = chain.probabilities(X)
    labels = chain.labels
    keep = [i for i, label in enumerate(labels) if wanted is None or label in wanted]
    rows = []
    for row in probabilities:
        total = float(row[keep].sum()) or 1.0
        rows.append({labels[i]: float(row[i]) / total for i in keep})
    return rows


class Rows:
    """Texts to classify, with their features computed once per feature spec (normally one)."""

    def __init__(self, texts: list[str], languages: list[str]):
        self.texts, self.languages = texts, languages
        self._features: dict[str, tuple] = {}
        self._scores: dict[tuple, list[dict[str, float]]] = {}

    def matrix(self, head: Head):
        spec = head.feature_spec
        if spec not in self._features:
            extractor = features(head)
            try:
                vectors = extractor.vectors(self.texts)
                self._features[spec] = (vectors, extractor.transform(self.texts, self.languages, vectors))
            except Exception as exc:
                raise ClassifierUnavailable(f"the encoder {spec!r} failed: {exc}") from exc
        return self._features[spec]

    def scores(self, chain: Chain, index: int, wanted: list[str] | None = None) -> dict[str, float]:
        return self.all_scores(chain, wanted)[index]

    def all_scores(self, chain: Chain, wanted: list[str] | None = None) -> list[dict[str, float]]:
        """Every row's scores under a chain, computed once per chain (one matrix product, not one a row)."""
        key = (chain.key, tuple(wanted) if wanted is not None else None)
        if key not in self._scores:
            _, X = self.matrix(chain.base)
            self._scores[key] = label_scores(chain, X, wanted)
        return self._scores[key]

    def nearest(self, chain: Chain, index: int) -> list[tuple[float, str, str]]:
        key = ("nearest", chain.key)
        if key not in self._scores:
            vectors, _ = self.matrix(chain.base)
            self._scores[key] = chain.nearest(vectors)
        return self._scores[key][index]


def best(scores: dict[str, float]) -> tuple[str, float]:
    if not scores:
        return "", 0.0
    label = max(scores, key=scores.get)
    return label, scores[label]


def intent_labels_known(labels: list[str]) -> bool:
    return list(labels) == DEFAULT_INTENT_LABELS


RELEVANT = RELEVANCE_LABELS[0]
