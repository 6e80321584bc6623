"""Classification heads: multinomial logistic regression on TextFeatures, and how they are stored.

Pure Python (no Django). A head is ``softmax(X @ W.T + b [+ base logits])``. Two kinds:

* a **base head** learns every label from scratch (the shipped defaults, an organisation's own
  label set);
* an **adapter** learns only a correction on top of a base head's logits, from a brand's few
  corrected examples: with little data it moves the predictions near those examples and leaves the
  rest of the base head's knowledge alone (it is trained with the base logits as a fixed offset).

Training is L-BFGS on the L2-regularised, class-balanced cross-entropy (the same objective as
scikit-learn's LogisticRegression). ``Head.to_bytes`` / ``Head.from_bytes`` store a head as a
compressed ``.npz`` (only the columns that ever saw data are kept), so it fits in a database row.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from scipy.optimize import minimize


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=1, keepdims=True)


def fit_softmax(
    X: sp.csr_matrix,
    y: np.ndarray,
    n_labels: int,
    *,
    C: float = 2.0,
    offsets: np.ndarray | None = None,
    sample_weight: np.ndarray | None = None,
    balanced: bool = True,
    fit_intercept: bool = True,
    max_iter: int = 500,
) -> tuple[np.ndarray, np.ndarray]:
    """Fit W (n_labels x dim) and b (n_labels) on rows X with integer labels y; return them.

    An adapter fits no intercept: trained on a handful of corrections, mostly of one label, an
    intercept would move every prediction towards that label, not just those near the corrections.
    """
    n, dim = X.shape
    weights = np.ones(n) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    if balanced:
        counts = np.bincount(y, minlength=n_labels).astype(np.float64)
        present = counts > 0
        per_label = np.zeros(n_labels)
        per_label[present] = n / (present.sum() * counts[present])
        weights = weights * per_label[y]
    targets = np.zeros((n, n_labels))
    targets[np.arange(n), y] = 1.0
    base = np.zeros((n, n_labels)) if offsets is None else np.asarray(offsets, dtype=np.float64)
    X = X.tocsr().astype(np.float64)
    XT = X.T.tocsr()

    def objective(theta):
        W = theta[: n_labels * dim].reshape(n_labels, dim)
        b = theta[n_labels * dim :]
        logits = np.asarray(X @ W.T) + b + base
        logits -= logits.max(axis=1, keepdims=True)
        log_norm = np.log(np.exp(logits).sum(axis=1, keepdims=True))
        log_p = logits - log_norm
        loss = -(weights * (targets * log_p).sum(axis=1)).sum() + 0.5 / C * (W * W).sum()
        residual = (np.exp(log_p) - targets) * weights[:, None]
        grad_W = np.asarray(XT @ residual).T + W / C
        grad_b = residual.sum(axis=0) if fit_intercept else np.zeros(n_labels)
        return loss, np.concatenate([grad_W.ravel(), grad_b])

    theta = np.zeros(n_labels * dim + n_labels)
    result = minimize(objective, theta, jac=True, method="L-BFGS-B", options={"maxiter": max_iter})
    W = result.x[: n_labels * dim].reshape(n_labels, dim)
    b = result.x[n_labels * dim :]
    return W.astype(np.float32), b.astype(np.float32)


@dataclass
class Head:
    """A trained head: its labels, the feature spec it reads, weights, and where it came from."""

    task: str
    labels: list[str]
    feature_spec: str
    W: np.ndarray
    b: np.ndarray
    #: An adapter names the base head it corrects (its ``meta["name"]``); a base head has None.
    base: str | None = None
    meta: dict = field(default_factory=dict)
    #: Labelled examples it learnt from, as encoder vectors: the evidence shown to agents ("why").
    exemplar_vectors: np.ndarray | None = None
    exemplar_labels: list[str] = field(default_factory=list)
    exemplar_texts: list[str] = field(default_factory=list)

    def nearest(self, vectors: np.ndarray, k: int = 3) -> list[list[tuple[float, str, str]]]:
        """For each vector, the k most similar exemplars as (similarity, label, text)."""
        if self.exemplar_vectors is None or not len(self.exemplar_labels):
            return [[] for _ in range(len(vectors))]
        exemplars = self.exemplar_vectors
        if exemplars.dtype != np.float32:
            # Stored smaller; converted once per loaded head, not once a batch.
            exemplars = self.exemplar_vectors = exemplars.astype(np.float32)
        similarity = vectors @ exemplars.T
        k = min(k, similarity.shape[1])
        # The k best of each row unsorted (linear), then those k in order: not a sort of every exemplar.
        top = np.argpartition(-similarity, k - 1, axis=1)[:, :k]
        best = np.take_along_axis(similarity, top, axis=1)
        top = np.take_along_axis(top, np.argsort(-best, axis=1), axis=1)
        labels, texts = self.exemplar_labels, self.exemplar_texts
        return [
            [(float(similarity[i, j]), labels[j], texts[j]) for j in row]
            for i, row in enumerate(top.tolist())
        ]

    @property
    def name(self) -> str:
        return self.meta.get("name", f"{self.task}")

    def logits(self, X: sp.csr_matrix, base_logits: np.ndarray | None = None) -> np.ndarray:
        # W.T made contiguous once per loaded head: a sparse matrix times the strided view copied all of W
        # (half a million columns) on every call, 20x the product itself.
        cached = self.__dict__.get("_transposed")
        if cached is None or cached[0] is not self.W:
            cached = self.__dict__["_transposed"] = (self.W, np.ascontiguousarray(self.W.T))
        out = np.asarray(X @ cached[1], dtype=np.float64) + self.b
        if base_logits is not None:
            out = out + base_logits
        return out

    @classmethod
    def train(
        cls,
        *,
        task: str,
        labels: list[str],
        feature_spec: str,
        X: sp.csr_matrix,
        y: list[str],
        C: float = 2.0,
        base: Head | None = None,
        base_logits: np.ndarray | None = None,
        sample_weight: np.ndarray | None = None,
        meta: dict | None = None,
        exemplars: tuple[np.ndarray, list[str]] | None = None,
    ) -> Head:
        """Fit a head on rows X labelled y; ``exemplars`` (encoder vectors, texts) of the same rows are
        kept as evidence."""
        index = {label: i for i, label in enumerate(labels)}
        unknown = sorted({label for label in y if label not in index})
        if unknown:
            raise ValueError(f"labels not in this head's label set {labels}: {unknown}")
        codes = np.array([index[label] for label in y], dtype=np.int64)
        W, b = fit_softmax(
            X,
            codes,
            len(labels),
            C=C,
            offsets=base_logits,
            sample_weight=sample_weight,
            balanced=base is None,  # an adapter weighs each correction the same
            fit_intercept=base is None,
        )
        return cls(
            task=task,
            labels=list(labels),
            feature_spec=feature_spec,
            W=W,
            b=b,
            base=base.name if base is not None else None,
            meta=dict(meta or {}),
            exemplar_vectors=None if exemplars is None else exemplars[0],
            exemplar_labels=[] if exemplars is None else list(y),
            exemplar_texts=[] if exemplars is None else [t[:300] for t in exemplars[1]],
        )

    def to_bytes(self) -> bytes:
        used = np.flatnonzero(np.abs(self.W).max(axis=0) > 0).astype(np.int32)
        header = {
            "task": self.task,
            "labels": self.labels,
            "feature_spec": self.feature_spec,
            "base": self.base,
            "meta": self.meta,
            "dim": int(self.W.shape[1]),
            "exemplar_labels": self.exemplar_labels,
            "exemplar_texts": self.exemplar_texts,
        }
        exemplars = self.exemplar_vectors if self.exemplar_vectors is not None else np.zeros((0, 0))
        buffer = io.BytesIO()
        np.savez_compressed(
            buffer,
            header=np.frombuffer(json.dumps(header).encode(), dtype=np.uint8),
            columns=used,
            W=self.W[:, used].astype(np.float16),
            b=self.b.astype(np.float32),
            exemplars=exemplars.astype(np.float16),
        )
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> Head:
        with np.load(io.BytesIO(data), allow_pickle=False) as stored:
            header = json.loads(stored["header"].tobytes().decode())
            W = np.zeros((len(header["labels"]), header["dim"]), dtype=np.float32)
            W[:, stored["columns"]] = stored["W"].astype(np.float32)
            b = stored["b"].astype(np.float32)
            exemplars = stored["exemplars"].astype(np.float32) if stored["exemplars"].size else None
        return cls(
            task=header["task"],
            labels=header["labels"],
            feature_spec=header["feature_spec"],
            W=W,
            b=b,
            base=header["base"],
            meta=header["meta"],
            exemplar_vectors=exemplars,
            exemplar_labels=header.get("exemplar_labels", []),
            exemplar_texts=header.get("exemplar_texts", []),
        )
