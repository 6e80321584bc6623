"""Classify texts that are not stored messages (evaluation files, benchmarks, previews)."""

from __future__ import annotations

from collections.abc import Callable

from . import engine, language, relevance
from .models import Task

BATCH = 256


def predict_texts(
    texts: list[str],
    *,
    task: str,
    organization=None,
    brand=None,
    languages: list[str] | None = None,
    progress: Callable[[int], object] | None = None,
) -> tuple[list[str], list[str]]:
    """The label of each text with the models a brand (or organisation, or nobody: the shipped
    defaults) uses now, and each text's language (given, or detected when blank)."""
    texts = [(t or "")[: engine.MAX_CHARS] for t in texts]
    languages = list(languages or [""] * len(texts))
    blank = [i for i, code in enumerate(languages) if not code]
    if blank:
        for i, code in zip(blank, language.detect([texts[i] for i in blank]), strict=True):
            languages[i] = code
    chain, wanted = None, None
    if organization is not None:
        from .services import classification_settings

        resolver = engine.Resolver({organization.pk})
        chain = resolver.chain(organization.pk, brand.pk if brand else None, task)
        if task == Task.INTENT:
            wanted = classification_settings(organization.pk).intent_labels
    elif task != Task.RELEVANCE:
        chain = engine.Chain(task, engine.default_head(task), [], ["default"])
    predicted = []
    for start in range(0, len(texts), BATCH):
        chunk = texts[start : start + BATCH]
        rows = engine.Rows(chunk, languages[start : start + BATCH])
        if task == Task.RELEVANCE:
            predicted += _relevance(rows, chunk, chain, brand)
        else:
            predicted += [engine.best(scores)[0] for scores in rows.all_scores(chain, wanted)]
        if progress:
            progress(len(chunk))
    return predicted, languages


def _relevance(rows: engine.Rows, texts: list[str], chain, brand) -> list[str]:
    learnt = rows.all_scores(chain) if chain is not None else [None] * len(texts)
    out = []
    for text, scores in zip(texts, learnt, strict=True):
        score = relevance.default_relevance(
            text, to_brand=False, names=[brand.name, *brand.handles], keywords=list(brand.keywords)
        )
        score = relevance.blended(score, None if scores is None else scores.get(engine.RELEVANT, 0.0))
        out.append("relevant" if score >= relevance.THRESHOLD else "irrelevant")
    return out
