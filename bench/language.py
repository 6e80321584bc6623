"""Language identification: CPU µs per text and accuracy per language, the product's detector (Unicode
script, then eldc) next to the one it replaced (lingua, high accuracy) and other candidates, in the same
run, on the shared sets, on whole texts and on their first 20 characters.

    python3 dev.py bench language.py [--per-set 300]

The sets are those of bench/classification_eval.py's language_id (validation splits: XLM-T's eight
languages, Indonesian SmSA, Chinese hotel reviews, Japanese Amazon reviews). XLM-T's Hindi tweets are
mostly romanised Hinglish: every detector says en or another Latin-script language, so hi is 0 for all.
The aim (issue 18): at least 10× cheaper than lingua at equal or better mean accuracy.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from classification_eval import DATA, XLMT, read_tsv, sample  # noqa: E402

from apps.classification.language import DEFAULT_LANGUAGES, LanguageDetector, clean  # noqa: E402

SHORT = 20


def _sets(per_set: int) -> dict[str, list[str]]:
    paths = {lang: f"xlm_t_umsab/{folder}/val.tsv" for lang, folder in XLMT.items()}
    paths |= {
        "id": "indonlu_smsa/val.tsv",
        "zh": "chnsenticorp_htl/val.tsv",
        "ja": "amazon_reviews_multi_marc/ja/val.tsv",
    }
    return {lang: [r["text"] for r in sample(read_tsv(path), per_set)] for lang, path in paths.items()}


def _short(text: str) -> str:
    """The text's first SHORT characters, cut at a word where there is a space."""
    text = clean(text)
    if len(text) <= SHORT:
        return text
    head = text[:SHORT]
    return head.rsplit(" ", 1)[0] if " " in head else head


def _lingua(low_accuracy: bool = False, parallel: bool = True):
    """The detector the product used before: lingua over the same candidates, models preloaded, texts
    in parallel (as the product called it) or one at a time on this thread (no pool's overhead)."""
    import lingua

    builder = lingua.LanguageDetectorBuilder.from_iso_codes_639_1(
        *[lingua.IsoCode639_1.from_str(code) for code in DEFAULT_LANGUAGES]
    ).with_preloaded_language_models()
    if low_accuracy:
        builder = builder.with_low_accuracy_mode()
    detector = builder.build()

    def detect(texts):
        cleaned = [clean(t) for t in texts]
        if parallel:
            found = detector.detect_languages_in_parallel_of(cleaned)
        else:
            found = [detector.detect_language_of(text) for text in cleaned]
        return [
            lang.iso_code_639_1.name.lower() if text and lang is not None else "und"
            for text, lang in zip(cleaned, found, strict=True)
        ]

    return detect


def _py3langid():
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=False)
    known = set(identifier.nb_classes)
    identifier.set_languages([code for code in DEFAULT_LANGUAGES if code in known])
    return lambda texts: [identifier.classify(clean(t))[0] if clean(t) else "und" for t in texts]


def _measure(detect, data: dict[str, list[str]]) -> tuple[float, list[float]]:
    everything = [t for texts in data.values() for t in texts]
    detect(everything)  # load the models (lingua: all languages at once, with its thread pool)
    started = time.process_time()
    detect(everything)
    micros = (time.process_time() - started) / len(everything) * 1e6
    accuracy = [sum(c == lang for c in detect(texts)) / len(texts) for lang, texts in data.items()]
    return micros, accuracy


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--per-set", type=int, default=300)
    args = parser.parse_args()
    if not DATA.is_dir():
        print(f"no datasets at {DATA} (set CXM_DATASETS)", file=sys.stderr)
        return 2
    whole = _sets(args.per_set)
    short = {lang: [_short(t) for t in texts] for lang, texts in whole.items()}
    product = LanguageDetector()
    candidates = {"script + eldc (product)": product.detect}
    for name, make in (
        ("lingua high accuracy (before)", _lingua),
        ("lingua high, one text at a time", lambda: _lingua(parallel=False)),
        ("lingua low accuracy", lambda: _lingua(low_accuracy=True)),
        ("py3langid, same candidates", _py3langid),
    ):
        try:
            candidates[name] = make()
        except ImportError as exc:
            print(f"{name}: not installed ({exc.name}); pip install it to compare")
    print(
        f"CPU µs per text (time.process_time: lingua's includes its worker threads), accuracy per set; "
        f"{args.per_set} texts a set; 'short' = the first {SHORT} characters"
    )
    print(
        f"{'detector':<32} {'texts':<6} {'µs/text':>8} "
        + " ".join(f"{lang:>5}" for lang in whole)
        + "   mean"
    )
    results = {}
    for name, detect in candidates.items():
        for label, data in (("whole", whole), ("short", short)):
            micros, accuracy = _measure(detect, data)
            mean = sum(accuracy) / len(accuracy)
            results[name, label] = (micros, mean)
            print(
                f"{name:<32} {label:<6} {micros:>8.1f} "
                + " ".join(f"{a:>5.3f}" for a in accuracy)
                + f"  {mean:.3f}",
                flush=True,
            )
    for before in ("lingua high accuracy (before)", "lingua high, one text at a time"):
        for label in ("whole", "short"):
            if (before, label) not in results:
                continue
            ours, our_mean = results["script + eldc (product)", label]
            theirs, their_mean = results[before, label]
            met = theirs / ours >= 10 and our_mean >= their_mean
            print(
                f"{label} texts: product {theirs / ours:,.1f}× cheaper than {before} ({ours:.1f} vs "
                f"{theirs:.1f} µs), mean accuracy {our_mean:.3f} vs {their_mean:.3f}; aim ≥ 10× at ≥ its "
                f"accuracy: {'met' if met else 'NOT met'}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
