"""Emerging terms: the terms, phrases and hashtags whose volume rises against their own baseline.

Pure arithmetic over the TermDaily rollup's counts (selectors.py reads them). For one UTC day (the recent
window, today so far when it is today) and each (language, term), `recent` is how many of the brand's
messages held the term that day and `usual` the mean per day over the previous `BASELINE_DAYS` days (days
without it count as 0; days before the brand's first message do not count: a brand new to CXM has no
quiet history). A term emerges when it has at least `MIN_COUNT` messages, at least `MIN_RATIO` times its
smoothed usual level ((recent + 1) / (usual + 1), so a term never seen before needs volume, not just
novelty) and a Poisson z-score (recent − usual) / √(usual + 1) of at least `MIN_SCORE`: a common term
("order") that is as frequent as every day never emerges, however large its count.

The recent window is not prorated: early in the day a term needs its full count to emerge, which makes
trends late rather than noisy.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

BASELINE_DAYS = 14
# Fewer days of history than this say nothing of what is usual: no trends yet.
MIN_BASELINE_DAYS = 3
MIN_COUNT = 5
MIN_RATIO = 3.0
MIN_SCORE = 3.0


@dataclass(frozen=True)
class Trend:
    term: str
    language: str
    recent: int
    usual: float
    ratio: float
    score: float

    @property
    def kind(self) -> str:
        return term_kind(self.term)


def term_kind(term: str) -> str:
    """ "hashtag", "phrase" (two words) or "term"."""
    if term.startswith("#"):
        return "hashtag"
    return "phrase" if " " in term else "term"


def trend_score(recent: int, baseline_total: int, baseline_days: int) -> tuple[float, float, float]:
    """(usual per day, smoothed ratio, z-score) of a term's recent count against its baseline."""
    usual = baseline_total / baseline_days
    return usual, (recent + 1.0) / (usual + 1.0), (recent - usual) / math.sqrt(usual + 1.0)


def emerging(
    counts,
    *,
    baseline_days: int,
    min_count: int = MIN_COUNT,
    min_score: float = MIN_SCORE,
    min_ratio: float = MIN_RATIO,
) -> list[Trend]:
    """The trends among `counts` ((language, term, recent, baseline total) rows), the strongest first."""
    if baseline_days < MIN_BASELINE_DAYS:
        return []
    found = []
    for language, term, recent, baseline_total in counts:
        if recent < min_count:
            continue
        usual, ratio, score = trend_score(recent, baseline_total, baseline_days)
        if ratio >= min_ratio and score >= min_score:
            found.append(Trend(term, language, recent, usual, ratio, score))
    return sorted(found, key=lambda trend: (-trend.score, trend.term, trend.language))
