"""Scores of a classifier against known labels: accuracy, macro-F1, per label and per language.

Pure Python (no Django); used by training (held-out figures of each version), by
``manage.py evaluate_classifier`` and by the benchmark.
"""

from __future__ import annotations

from collections import defaultdict


def _per_label(truth: list[str], predicted: list[str]) -> dict[str, dict[str, float]]:
    labels = sorted(set(truth) | set(predicted))
    out = {}
    for label in labels:
        tp = sum(1 for t, p in zip(truth, predicted, strict=True) if t == label and p == label)
        fp = sum(1 for t, p in zip(truth, predicted, strict=True) if t != label and p == label)
        fn = sum(1 for t, p in zip(truth, predicted, strict=True) if t == label and p != label)
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        out[label] = {"precision": precision, "recall": recall, "f1": f1, "support": tp + fn}
    return out


def _summary(truth: list[str], predicted: list[str]) -> dict:
    per_label = _per_label(truth, predicted)
    present = [label for label, row in per_label.items() if row["support"]]
    correct = sum(1 for t, p in zip(truth, predicted, strict=True) if t == p)
    return {
        "count": len(truth),
        "accuracy": correct / len(truth) if truth else 0.0,
        # Macro-F1 over the labels that occur in the truth (as scikit-learn does with labels=truth's).
        "macro_f1": sum(per_label[label]["f1"] for label in present) / len(present) if present else 0.0,
        "per_label": per_label,
    }


def scores(truth: list[str], predicted: list[str], languages: list[str] | None = None) -> dict:
    """Overall figures, and the same per language when languages are given."""
    result = _summary(truth, predicted)
    if languages:
        by_language = defaultdict(lambda: ([], []))
        for t, p, language in zip(truth, predicted, languages, strict=True):
            by_language[language or "und"][0].append(t)
            by_language[language or "und"][1].append(p)
        result["per_language"] = {
            language: {k: v for k, v in _summary(*pair).items() if k != "per_label"}
            for language, pair in sorted(by_language.items())
        }
    return result


def format_report(result: dict, title: str = "") -> str:
    """The figures as a plain-text table, for the terminal."""
    lines = [title] if title else []
    lines.append(
        f"{result['count']} examples · accuracy {result['accuracy']:.3f} · macro-F1 {result['macro_f1']:.3f}"
    )
    lines.append(f"{'label':<20} {'precision':>9} {'recall':>7} {'F1':>6} {'support':>8}")
    for label, row in result["per_label"].items():
        figures = f"{row['precision']:>9.3f} {row['recall']:>7.3f} {row['f1']:>6.3f} {row['support']:>8}"
        lines.append(f"{label:<20} {figures}")
    if result.get("per_language"):
        lines.append(f"{'language':<20} {'accuracy':>9} {'macro-F1':>8} {'count':>7}")
        for language, row in result["per_language"].items():
            lines.append(f"{language:<20} {row['accuracy']:>9.3f} {row['macro_f1']:>8.3f} {row['count']:>7}")
    return "\n".join(lines)
