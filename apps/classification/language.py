"""Language identification for short and mixed text (tweets, chat lines, reviews).

Pure Python (no database). ``detect(texts)`` returns one ISO 639-1 code per text, or ``UNDETERMINED``
("und") when the text has no letters to go on.

Two steps, both offline:
1. The script: a text written mostly in a script that only one candidate language uses (kana → ja,
   Hangul → ko, Thai, Greek, Hebrew, Bengali, Devanagari → hi, Han without kana → zh) is decided by its
   Unicode blocks, with no model. Cyrillic is uk when it has a letter only Ukrainian uses (і ї є ґ), else
   ru; Arabic script is ar unless it has a letter Persian or Urdu adds (پ چ ژ گ ک ی ٹ ڈ ڑ ں ے), when the
   model chooses among ar, fa and ur. Short texts in these scripts ("감사합니다", "спасибо") are as sure
   as long ones.
2. Otherwise ``eldc`` (ELD in C, Apache-2.0; its n-gram table is compiled into the wheel: nothing is
   downloaded or loaded) chooses among the candidate languages: about 10 µs of CPU a text, 50 times
   less than lingua (high accuracy) and as accurate on the shared sets, short texts included
   (bench/language.py; figures in defaults/MODEL_CARD.md). It holds no thread pool and nothing to load,
   so a worker process detects from its first message, forked or not.

By default the detector chooses among ``DEFAULT_LANGUAGES``: restricting the candidates is both faster and
more accurate on short text than choosing among every language the model knows. Pass ``languages=None``
to ``LanguageDetector`` for all of them.

Handles (@user), links, hashtag marks and numbers are removed before detection (they carry no language
and mislead n-gram models on short text), and the text is NFKC-normalised (Arabic presentation forms,
full-width Latin).
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Iterable, Sequence

# The codes are the domain's vocabulary (the inbox filters on them): apps/conversations/labels.py.
from apps.conversations.labels import DEFAULT_LANGUAGES, UNDETERMINED

__all__ = ["DEFAULT_LANGUAGES", "UNDETERMINED", "LanguageDetector", "detect", "detect_mixed"]

# The lookahead names every branch's first character, so that the engine skips the other positions fast
# (half of clean()'s cost, which was most of detection's).
_NOISE = re.compile(
    r"(?=[hw@#＃&\d])(?:https?://\S+|www\.\S+|\bhttps?\b|@\w+|[#＃]|&(?:amp|lt|gt|quot);|\d+(?:[.,:/]\d+)*)"
)


def clean(text: str) -> str:
    """The text without handles, links, hashtag marks and numbers, NFKC-normalised, spaces collapsed."""
    return " ".join(_NOISE.sub(" ", unicodedata.normalize("NFKC", text or "")).split())


# Scripts that decide the language alone (among the product's candidates), with their Unicode blocks.
_KANA = "\u3040-\u30ff\u31f0-\u31ff\uff66-\uff9f"
_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_ARABIC = "\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff"
_CYRILLIC = "\u0400-\u052f"
_SCRIPTS: tuple[tuple[str, str], ...] = (
    ("ja", _KANA),
    ("ko", "\u1100-\u11ff\u3130-\u318f\uac00-\ud7af"),
    ("th", "\u0e00-\u0e7f"),
    ("el", "\u0370-\u03ff\u1f00-\u1fff"),
    ("he", "\u0590-\u05ff"),
    ("bn", "\u0980-\u09ff"),
    ("hi", "\u0900-\u097f"),
    ("zh", _HAN),
    ("ar", _ARABIC),
    ("ru", _CYRILLIC),
)
_SCRIPT_RES = tuple((code, re.compile(f"[{block}]")) for code, block in _SCRIPTS)
# Any letter outside basic and extended Latin: only such texts are looked at script by script.
_NOT_LATIN = re.compile("[" + "".join(block for _, block in _SCRIPTS) + "]")
_LATIN = re.compile(r"[A-Za-z\u00c0-\u024f\u1e00-\u1eff]")
_KANA_RE = re.compile(f"[{_KANA}]")
_UKRAINIAN = re.compile("[іїєґІЇЄҐ]")
_PERSIAN_OR_URDU = re.compile("[پچژگکیٹڈڑںےۓ]")

# eldc's codes that differ from ours: it knows Malay (the same written standard as Indonesian for its
# n-grams; it has no Indonesian of its own) and "no" for Norwegian (Bokmål).
_FROM_ELDC = {"ms": "id", "no": "nb"}
_TO_ELDC = {ours: theirs for theirs, ours in _FROM_ELDC.items()}

_eldc_lock = threading.Lock()
_eldc_ready = False


def _eldc():
    global _eldc_ready
    try:
        import eldc
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise RuntimeError("language detection needs the 'eldc' package (pip install eldc)") from exc
    with _eldc_lock:
        if not _eldc_ready:
            eldc.init()  # points at the table inside the extension: well under a millisecond
            _eldc_ready = True
    return eldc


class LanguageDetector:
    """A reusable detector over a set of candidate languages (thread-safe: eldc's detect holds the GIL).

    ``languages``: ISO 639-1 codes to choose among (``None``: every language eldc knows, plus the
    script-decided ones).
    """

    def __init__(self, languages: Iterable[str] | None = DEFAULT_LANGUAGES):
        eldc = _eldc()
        known = {_FROM_ELDC.get(code, code) for code in eldc.LANGUAGES} | {code for code, _ in _SCRIPTS}
        if languages is None:
            candidates = sorted(known)
        else:
            candidates = list(dict.fromkeys(c.strip().lower() for c in languages))
            for code in candidates:
                if code not in known:
                    raise ValueError(f"no language detector knows ISO 639-1 code {code!r}")
            if len(candidates) < 2:
                raise ValueError("give at least two candidate languages")
        self.languages = frozenset(candidates)
        self._model = self._instance(candidates)
        self._arabic_script = self._instance([c for c in ("ar", "fa", "ur") if c in self.languages])

    @staticmethod
    def _instance(codes: list[str]):
        """An eldc detector restricted to these codes (None when eldc knows none of them)."""
        eldc = _eldc()
        theirs = [_TO_ELDC.get(c, c) for c in codes if _TO_ELDC.get(c, c) in eldc.LANGUAGES]
        if not theirs:
            return None
        instance = eldc.instance()
        instance.set_languages(theirs)
        return instance

    def _by_script(self, text: str) -> str | None:
        """The language the text's script decides, or None (Latin, or a script shared by candidates)."""
        counts = [(len(pattern.findall(text)), code) for code, pattern in _SCRIPT_RES]
        count, code = max(counts)
        if count <= len(_LATIN.findall(text)):
            return None
        if code == "zh" and _KANA_RE.search(text):
            code = "ja"  # Japanese mixes kanji and kana; Chinese has no kana
        elif code == "ru" and _UKRAINIAN.search(text):
            code = "uk"
        elif code == "ar" and _PERSIAN_OR_URDU.search(text) and self._arabic_script is not None:
            code = self._from_model(self._arabic_script.detect(text))
        return code if code in self.languages else None

    @staticmethod
    def _from_model(code: str) -> str:
        return _FROM_ELDC.get(code, code) if code != "und" else UNDETERMINED

    def _detect_cleaned(self, text: str) -> str:
        if not text:
            return UNDETERMINED
        if _NOT_LATIN.search(text):
            code = self._by_script(text)
            if code:
                return code
        return self._from_model(self._model.detect(text)) if self._model is not None else UNDETERMINED

    def detect(self, texts: Sequence[str]) -> list[str]:
        """One ISO 639-1 code (or "und") per text."""
        return [self._detect_cleaned(clean(t)) for t in texts]

    def detect_one(self, text: str) -> str:
        return self._detect_cleaned(clean(text))

    def detect_mixed(self, text: str) -> list[tuple[str, str]]:
        """The text cut into single-language runs: ``[(code, substring), ...]``, in order. Sentences
        (and lines) are detected one by one and neighbours in the same language joined."""
        runs: list[tuple[str, str]] = []
        for sentence in _SENTENCES.findall(clean(text)):
            sentence = sentence.strip()
            code = self._detect_cleaned(sentence)
            if code == UNDETERMINED and runs:
                code = runs[-1][0]  # "!!!", an emoji: part of the run before
            if runs and runs[-1][0] == code:
                runs[-1] = (code, f"{runs[-1][1]} {sentence}")
            elif sentence:
                runs.append((code, sentence))
        return runs


_SENTENCES = re.compile(r"[^.!?。！？;\n]+[.!?。！？;\n]*")

_default: LanguageDetector | None = None
_lock = threading.Lock()


def default_detector() -> LanguageDetector:
    """The process-wide detector over DEFAULT_LANGUAGES (built on first use: under a millisecond)."""
    global _default
    if _default is None:
        with _lock:
            if _default is None:
                _default = LanguageDetector()
    return _default


def detect(texts: Sequence[str]) -> list[str]:
    """ISO 639-1 code (or "und") for each text, with the default detector."""
    if isinstance(texts, str):
        raise TypeError("detect() takes a list of texts; use detect([text])")
    return default_detector().detect(texts)


def detect_mixed(text: str) -> list[tuple[str, str]]:
    """Single-language runs of one text, with the default detector."""
    return default_detector().detect_mixed(text)
