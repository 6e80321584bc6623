"""Language identification for short and mixed text (tweets, chat lines, reviews).

Pure Python (no database). Backed by ``lingua-language-detector`` (Rust core, its n-gram models ship
inside the wheel: nothing is downloaded). ``detect(texts)`` returns one ISO 639-1 code per text,
or ``UNDETERMINED`` ("und") when the text has no letters to go on or no language is clearly ahead.

By default the detector chooses among ``DEFAULT_LANGUAGES`` — restricting the candidates is both
faster and more accurate on short text than choosing among all 75 languages lingua knows. Pass
``languages=None`` to ``LanguageDetector`` for all of them.

Handles (@user), links, hashtag marks and numbers are removed before detection: they carry no
language and mislead the n-gram models on short text.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Sequence

# The codes are the domain's vocabulary (the inbox filters on them): apps/conversations/labels.py.
from apps.conversations.labels import DEFAULT_LANGUAGES, UNDETERMINED

__all__ = ["DEFAULT_LANGUAGES", "UNDETERMINED", "LanguageDetector", "detect", "detect_mixed", "preload"]

_NOISE = re.compile(
    r"(?:https?://\S+|www\.\S+|\bhttps?\b|@\w+|[#＃]|&(?:amp|lt|gt|quot);|\d+(?:[.,:/]\d+)*)",
    re.UNICODE,
)
_SPACES = re.compile(r"\s+")


def clean(text: str) -> str:
    """The text without handles, links, hashtag marks and numbers."""
    return _SPACES.sub(" ", _NOISE.sub(" ", text or "")).strip()


def _lingua():
    try:
        import lingua
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise RuntimeError(
            "language detection needs the 'lingua-language-detector' package (pip install "
            "lingua-language-detector)"
        ) from exc
    return lingua


class LanguageDetector:
    """A reusable, thread-safe detector over a set of candidate languages.

    ``languages``: ISO 639-1 codes to choose among (``None``: every language lingua knows).
    ``low_accuracy``: lingua's faster mode (trigrams only); less accurate on very short text.
    ``min_relative_distance``: how far ahead the best language must be, else "und" (0 = always
    answer when there is any letter).
    """

    def __init__(
        self,
        languages: Iterable[str] | None = DEFAULT_LANGUAGES,
        *,
        low_accuracy: bool = False,
        min_relative_distance: float = 0.0,
        preload: bool = False,
    ):
        lingua = _lingua()
        if languages is None:
            builder = lingua.LanguageDetectorBuilder.from_all_languages()
        else:
            codes = []
            for code in dict.fromkeys(c.strip().lower() for c in languages):
                try:
                    codes.append(lingua.IsoCode639_1.from_str(code))
                except ValueError as exc:
                    raise ValueError(f"lingua has no language with ISO 639-1 code {code!r}") from exc
            if len(codes) < 2:
                raise ValueError("give at least two candidate languages")
            builder = lingua.LanguageDetectorBuilder.from_iso_codes_639_1(*codes)
        if low_accuracy:
            builder = builder.with_low_accuracy_mode()
        if min_relative_distance:
            builder = builder.with_minimum_relative_distance(min_relative_distance)
        if preload:
            builder = builder.with_preloaded_language_models()
        self._detector = builder.build()

    @staticmethod
    def _code(language) -> str:
        if language is None:
            return UNDETERMINED
        return language.iso_code_639_1.name.lower()

    def detect(self, texts: Sequence[str]) -> list[str]:
        """One ISO 639-1 code (or "und") per text, detected in parallel."""
        cleaned = [clean(t) for t in texts]
        results = self._detector.detect_languages_in_parallel_of(cleaned)
        return [
            self._code(lang) if text else UNDETERMINED for text, lang in zip(cleaned, results, strict=True)
        ]

    def detect_one(self, text: str) -> str:
        return self.detect([text])[0]

    def detect_mixed(self, text: str) -> list[tuple[str, str]]:
        """The text cut into single-language runs: ``[(code, substring), ...]``, in order."""
        cleaned = clean(text)
        if not cleaned:
            return []
        return [
            (self._code(r.language), cleaned[r.start_index : r.end_index])
            for r in self._detector.detect_multiple_languages_of(cleaned)
        ]


_default: LanguageDetector | None = None
_lock = threading.Lock()


def default_detector() -> LanguageDetector:
    """The process-wide detector over DEFAULT_LANGUAGES, built on first use with every language's models
    loaded at once (`preload`): lingua loads them in parallel, about five times faster than language by
    language as texts need them, which made a new worker process's first batch take a minute on a busy
    machine."""
    if _default is None:
        preload()
    return _default


def preload() -> None:
    """Build the process-wide detector with the n-gram models of all its languages loaded now (~3 s of
    CPU, ~750 MB), rather than language by language on the first texts that need them."""
    global _default
    with _lock:
        if _default is None:
            _default = LanguageDetector(preload=True)


def detect(texts: Sequence[str]) -> list[str]:
    """ISO 639-1 code (or "und") for each text, with the default detector."""
    if isinstance(texts, str):
        raise TypeError("detect() takes a list of texts; use detect([text])")
    return default_detector().detect(texts)


def detect_mixed(text: str) -> list[tuple[str, str]]:
    """Single-language runs of one text, with the default detector."""
    return default_detector().detect_mixed(text)
