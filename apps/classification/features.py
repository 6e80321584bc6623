"""Text features for the classification heads: sentence-encoder vectors beside hashed character n-grams.

Pure Python (no Django). A feature spec names the encoder and, after ``|``, the extras:

* ``use-multilingual|chars|words|by-language:ar,de,en`` — the default: multilingual USE (meaning,
  across languages), hashed character 2–5-grams (spelling, slang, emoji, the languages USE was not
  trained on), hashed word uni- and bigrams with negation scope marked (``words``: "never NOT_let
  NOT_me NOT_down"), and a second copy of the USE vector in a block of its own for each listed
  language, so a head learns what is shared across languages and what is particular to each
  ("frustratingly easy" domain adaptation; a language not listed uses the shared part alone).
  Measured on the XLM-T validation splits, each addition raises macro-F1 (see MODEL_CARD.md).
* ``…|by-language:…|language-bias|hinglish`` — two more, measured the same way:
  ``language-bias`` adds one indicator column per listed language, so a head holds an intercept per
  language; the build fits it on the validation split, the per-language calibration of neutral
  (``calibration.py``). ``hinglish`` sends romanised Hindi ("kya baat hai yaar"), which language
  detectors take for English or Indonesian, to the ``hi`` block (see ``romanised_hindi``).
* ``use-multilingual`` — the encoder alone; any spec ``load_encoder`` accepts works here (``e5-small``,
  ``hf:/path/to/model``, ``a+b``).

Character n-grams are hashed (no vocabulary to store), log-scaled and L2-normalised; the result is a
sparse CSR matrix
``[encoder vector | per-language copies | char n-grams | words | language indicators]`` with ``dim`` columns.
"""

from __future__ import annotations

import re
import threading

import numpy as np
import scipy.sparse as sp

from .encoders import Encoder, load_encoder

CHAR_FEATURES = 2**18
CHAR_NGRAMS = (2, 5)
WORD_FEATURES = 2**18

# Words that turn what follows around, up to the next punctuation ("never let me down", "not worth it",
# "nada mal", "nicht schlecht", "не работает", "tidak bagus", "لم يعجبني", "不好"): the words in their
# scope are marked NOT_, so the head can learn "NOT_worth" apart from "worth". Sentence encoders blur this.
_NEGATION_WORDS = """
    not no never nothing nobody none nor cannot cant can't don't dont doesn't doesnt didn't didnt isn't
    isnt wasn't wasnt won't wont wouldn't shouldn't couldn't hardly without
    nunca jamás jamas nada ni sin ne pas jamais rien aucun aucune sans nicht nie kein keine keinen nichts
    niemals ohne não nao nem sem non mai niente senza не нет никогда ни без tidak nggak gak ga enggak bukan
    tak belum jangan tanpa لا لم لن ما ليس مش بدون 不 没 没有 别 未 无"""
NEGATIONS = frozenset(_NEGATION_WORDS.split())
_TOKENS = re.compile(r"[\u3400-\u9fff]|\w+(?:'\w+)?|[^\w\s]", re.UNICODE)
_SCOPE_ENDS = frozenset(".,!?;:()，。！？；：")


def negation_marked(text: str) -> str:
    """The text as tokens, those after a negation (up to punctuation) marked ``NOT_``."""
    out, negated = [], False
    for token in _TOKENS.findall(text.lower()):
        if token in _SCOPE_ENDS:
            negated = False
        elif token in NEGATIONS or token.endswith("n't"):
            negated = True
        elif negated:
            token = "NOT_" + token
        out.append(token)
    return " ".join(out)


# Hindi words as people write them in Latin letters (Hinglish), the frequent ones that are not also
# common English, Spanish, French, Italian, Portuguese or Indonesian words.
_HINDI_TEXT = """
    hai hain nahi nahin nhi kya kyu kyun kyon mein ki ke ka ko bhi tha thi kar kr karo karna raha rahi
    rahe rhe rha yaar yar bhai ye yeh wo woh aur koi kuch kuchh sab bahut bohot bahot acha accha achha
    achchha hum tum aap apna apni apne mera meri mere tera teri tere kaise kaisa jo toh abhi diya gaya
    gya gye liya wala wale wali hota hoti ji sahi hoga hogi kabhi phir fir tujhe mujhe mujhko unka uska
    iska unki uski jab tab kaha kahan yahan wahan bolo dekh dekho chalo liye lie
    """
_HINDI_WORDS = frozenset(_HINDI_TEXT.split())
_LATIN_WORDS = re.compile(r"[a-z]+")


def romanised_hindi(text: str) -> bool:
    """Is this Hindi written in Latin letters? At least two frequent Hindi words making at least 15 % of
    the words. On the XLM-T training tweets: 47 % of the Hindi ones (the rest is mostly English), 0.15 % of
    the English, French, German, Italian, Portuguese and Spanish ones."""
    words = _LATIN_WORDS.findall(text.lower())
    hits = sum(1 for word in words if word in _HINDI_WORDS)
    return hits >= 2 and hits >= 0.15 * len(words)


class TextFeatures:
    def __init__(self, spec: str, encoder: Encoder | None = None, threads: int | None = None):
        self.spec = spec.strip()
        encoder_spec, *extras = [part.strip() for part in self.spec.split("|")]
        self.encoder_spec = encoder_spec
        self.char_ngrams = "chars" in extras
        self.words = "words" in extras
        self.language_bias = "language-bias" in extras
        self.hinglish = "hinglish" in extras
        self.languages: list[str] = []
        for extra in extras:
            if extra.startswith("by-language:"):
                self.languages = [c.strip() for c in extra.split(":", 1)[1].split(",") if c.strip()]
        flags = ("chars", "words", "language-bias", "hinglish")
        unknown = [e for e in extras if e not in flags and not e.startswith("by-language:")]
        if unknown:
            known = "chars, words, by-language:xx,yy, language-bias, hinglish"
            raise ValueError(f"unknown feature extras {unknown} in {spec!r} (known: {known})")
        self.encoder = encoder or load_encoder(self.encoder_spec, threads=threads)
        self._hasher = None
        if self.char_ngrams:
            from sklearn.feature_extraction.text import HashingVectorizer

            self._hasher = HashingVectorizer(
                analyzer="char_wb",
                ngram_range=CHAR_NGRAMS,
                n_features=CHAR_FEATURES,
                alternate_sign=False,
                norm=None,
                lowercase=True,
            )
        self._word_hasher = None
        if self.words:
            from sklearn.feature_extraction.text import HashingVectorizer

            self._word_hasher = HashingVectorizer(
                analyzer="word",
                ngram_range=(1, 2),
                n_features=WORD_FEATURES,
                alternate_sign=False,
                norm=None,
                lowercase=False,
                token_pattern=r"\S+",
            )
        self.dim = (
            self.encoder.dim * (1 + len(self.languages))
            + (CHAR_FEATURES if self.char_ngrams else 0)
            + (WORD_FEATURES if self.words else 0)
            + (len(self.languages) if self.language_bias else 0)
        )

    def block_languages(self, texts: list[str], languages: list[str]) -> list[str]:
        """The language whose block (and intercept) each text uses: the detected one, but romanised
        Hindi goes to ``hi`` with ``hinglish``."""
        if not self.hinglish:
            return list(languages)
        return [
            "hi" if code != "hi" and romanised_hindi(t) else code
            for t, code in zip(texts, languages, strict=True)
        ]

    def vectors(self, texts: list[str]) -> np.ndarray:
        """The encoder's L2-normalised vectors alone (for nearest-example evidence)."""
        return self.encoder.encode(texts)

    def transform(
        self, texts: list[str], languages: list[str] | None = None, vectors: np.ndarray | None = None
    ) -> sp.csr_matrix:
        """Features for ``texts`` written in ``languages`` (ISO 639-1, needed by ``by-language``); pass
        ``vectors`` when the encoder already ran on them."""
        dense = self.vectors(texts) if vectors is None else vectors
        parts = [sp.csr_matrix(dense)]
        block = {code: i for i, code in enumerate(self.languages)}
        if self.languages:
            if languages is None or len(languages) != len(texts):
                raise ValueError("by-language features need one language per text")
            languages = self.block_languages(texts, languages)
            width = self.encoder.dim
            copies = np.zeros((len(texts), width * len(self.languages)), dtype=np.float32)
            for row, code in enumerate(languages):
                if code in block:
                    copies[row, block[code] * width : (block[code] + 1) * width] = dense[row]
            parts.append(sp.csr_matrix(copies))
        if self._hasher is not None:
            from sklearn.preprocessing import normalize

            grams = self._hasher.transform(texts)
            grams.data = np.log1p(grams.data)
            parts.append(normalize(grams))
        if self._word_hasher is not None:
            from sklearn.preprocessing import normalize

            words = self._word_hasher.transform([negation_marked(t) for t in texts])
            words.data = np.log1p(words.data)
            parts.append(normalize(words))
        if self.language_bias and self.languages:
            rows = [row for row, code in enumerate(languages) if code in block]
            columns = [block[languages[row]] for row in rows]
            indicators = sp.csr_matrix(
                (np.ones(len(rows), dtype=np.float32), (rows, columns)),
                shape=(len(texts), len(self.languages)),
            )
            parts.append(indicators)
        return sp.hstack(parts, format="csr", dtype=np.float32)


_cache: dict[str, TextFeatures] = {}
_lock = threading.Lock()


def features_for(spec: str) -> TextFeatures:
    """One TextFeatures per spec and process: the encoder's weights are loaded once per worker."""
    found = _cache.get(spec)
    if found is None:
        with _lock:
            found = _cache.get(spec)
            if found is None:
                # Encoders with the same name share one loaded model.
                encoder_spec = spec.partition("|")[0].strip()
                shared = next((f.encoder for f in _cache.values() if f.encoder_spec == encoder_spec), None)
                found = _cache[spec] = TextFeatures(spec, encoder=shared)
                _freeze_loaded()
    return found


def _freeze_loaded() -> None:
    """Move what is loaded so far (the encoder's vocabulary: ~10^5 Python objects, the heads' exemplars)
    out of the garbage collector's sight: it lives as long as the process, and every full collection that
    a batch's allocations set off scanned all of it again (a tenth of the step's CPU in profiles)."""
    import gc

    gc.collect()
    gc.freeze()
