"""Per-language calibration of a head: an offset added to each label's logit, one per language.

Pure Python (no Django). A head trained on every language at once leans towards neutral in some
(Italian, Arabic, Hindi tweets) and away from it in others; an offset per language, chosen on the
validation split to maximise that language's macro-F1, moves the thresholds back. The offsets are
written into the head itself, on the columns of the ``language-bias`` features (one indicator per
language), so ``Head.logits`` applies them with no other code, and ``head.meta["language_bias"]``
records them. Languages with fewer than ``MIN_EXAMPLES`` validation texts keep no offset.

Figures of a calibrated head on the split it was calibrated on are optimistic: ``cross_fitted``
scores each half of the split with offsets fitted on the other half, the honest figure.
"""

from __future__ import annotations

import numpy as np

from .evaluation import scores

MIN_EXAMPLES = 60
#: An offset moves only when it gains at least this much macro-F1 on the fitting texts: with ~300 texts
#: a language, smaller gains are mostly noise (cross-fitted, they did not hold).
MARGIN = 0.01
#: Offsets tried for every label but the first (which stays at 0: only differences between logits count).
GRID = np.arange(-1.5, 1.51, 0.25)


def _macro_f1(labels: list[str], truth: list[str], logits: np.ndarray) -> float:
    return scores(truth, [labels[i] for i in logits.argmax(axis=1)])["macro_f1"]


def fit_offset(labels: list[str], truth: list[str], logits: np.ndarray) -> np.ndarray:
    """The offset (one per label, the first 0) that maximises macro-F1, by grid search, coordinate by
    coordinate twice over; a change must gain ``MARGIN``, and ties keep the smaller change."""
    offset = np.zeros(len(labels))
    best = _macro_f1(labels, truth, logits)
    for _ in range(2):
        for column in range(1, len(labels)):
            for value in sorted(GRID, key=abs):
                trial = offset.copy()
                trial[column] = value
                figure = _macro_f1(labels, truth, logits + trial)
                if figure > best + MARGIN:
                    best, offset = figure, trial
    return offset


def fit(
    labels: list[str], truth: list[str], logits: np.ndarray, languages: list[str]
) -> dict[str, np.ndarray]:
    """One offset per language with enough examples."""
    out = {}
    for code in sorted(set(languages)):
        rows = [i for i, c in enumerate(languages) if c == code]
        if len(rows) >= MIN_EXAMPLES:
            out[code] = fit_offset(labels, [truth[i] for i in rows], logits[rows])
    return out


def apply(logits: np.ndarray, languages: list[str], offsets: dict[str, np.ndarray]) -> np.ndarray:
    zero = np.zeros(logits.shape[1])
    return logits + np.array([offsets.get(code, zero) for code in languages]).reshape(logits.shape)


def cross_fitted(
    labels: list[str],
    truth: list[str],
    logits: np.ndarray,
    languages: list[str],
    folds: int = 2,
    seed: int = 13,
) -> np.ndarray:
    """Calibrated logits where each row's offset was fitted on the other folds only."""
    fold = np.random.RandomState(seed).randint(0, folds, len(truth))
    out = logits.copy()
    for k in range(folds):
        train = np.flatnonzero(fold != k)
        test = np.flatnonzero(fold == k)
        offsets = fit(labels, [truth[i] for i in train], logits[train], [languages[i] for i in train])
        out[test] = apply(logits[test], [languages[i] for i in test], offsets)
    return out
