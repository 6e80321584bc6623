"""Language identification: CPU µs per text and accuracy per language, the product's detector (lingua,
high accuracy, the default candidates) next to cheaper candidates, in the same run, on the shared sets.

    python3 dev.py bench language.py [--per-set 300]

The sets are those of bench/classification_eval.py's language_id (validation splits: XLM-T's eight
languages, Indonesian SmSA, Chinese hotel reviews, Japanese Amazon reviews). The aim (issue 18): at least
10× cheaper than lingua at equal or better accuracy.
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


def _sets(per_set: int) -> dict[str, list[str]]:
    paths = {lang: f"xlm_t_umsab/{folder}/val.tsv" for lang, folder in XLMT.items()}
    paths |= {
        "id": "indonlu_smsa/val.tsv",
        "zh": "chnsenticorp_htl/val.tsv",
        "ja": "amazon_reviews_multi_marc/ja/val.tsv",
    }
    return {lang: [r["text"] for r in sample(read_tsv(path), per_set)] for lang, path in paths.items()}


def _py3langid():
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    known = set(identifier.nb_classes)
    identifier.set_languages([code for code in DEFAULT_LANGUAGES if code in known])
    return identifier


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--per-set", type=int, default=300)
    args = parser.parse_args()
    if not DATA.is_dir():
        print(f"no datasets at {DATA} (set CXM_DATASETS)", file=sys.stderr)
        return 2
    data = _sets(args.per_set)
    everything = [t for texts in data.values() for t in texts]
    lingua = LanguageDetector()
    lingua_low = LanguageDetector(low_accuracy=True)
    candidates = {
        "lingua (product)": lambda texts: lingua.detect(texts),
        "lingua low accuracy": lambda texts: lingua_low.detect(texts),
    }
    try:
        langid = _py3langid()
    except ImportError:
        print("py3langid not installed: pip install py3langid")
    else:

        def py3(texts):
            return [langid.classify(clean(t))[0] if clean(t) else "und" for t in texts]

        def hybrid(texts, threshold=0.99):
            out, unsure = [], []
            for i, text in enumerate(texts):
                cleaned = clean(text)
                code, prob = langid.classify(cleaned) if cleaned else ("und", 1.0)
                out.append(code)
                if prob < threshold:
                    unsure.append(i)
            for i, code in zip(unsure, lingua.detect([texts[i] for i in unsure]), strict=True):
                out[i] = code
            return out

        candidates["py3langid"] = py3
        candidates["py3langid, lingua when p<.99"] = hybrid
    print(f"{'detector':<32} {'µs CPU/text':>11} " + " ".join(f"{lang:>5}" for lang in data) + "   mean")
    for name, detect in candidates.items():
        detect(everything)  # load the models (lingua loads each language's on first use)
        started = time.process_time()
        detect(everything)
        micros = (time.process_time() - started) / len(everything) * 1e6
        accuracy = [sum(c == lang for c in detect(texts)) / len(texts) for lang, texts in data.items()]
        print(
            f"{name:<32} {micros:>11.1f} "
            + " ".join(f"{a:>5.3f}" for a in accuracy)
            + f"  {sum(accuracy) / len(accuracy):.3f}",
            flush=True,
        )
    print("aim: ≤ 1/10 of lingua's µs at ≥ its mean accuracy")
    return 0


if __name__ == "__main__":
    sys.exit(main())
