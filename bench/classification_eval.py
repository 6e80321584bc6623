"""Measures the offline classifiers: sentiment (per language), intent, spam, encoder speed, language id.

    .venv/bin/python bench/classification_eval.py [--encoders a,b,c] [--threads 2] [--cache DIR] [--full]

Every number comes from a model trained here on ``train.tsv`` files and scored on ``val.tsv`` files
(or, where a set ships no val split, on a fixed held-out part of its train split); hyper-parameters
(C) are chosen on a 20 % split of the training data, never on val. Sets whose licence forbids
training a shipped model (chnsenticorp_htl, amazon_reviews_multi_marc) are only measured.

Heads are scikit-learn logistic regressions on L2-normalised sentence embeddings from
``apps.classification.encoders``; VADER (nltk-vader-sentiment, compound >= 0.05 positive, <= -0.05
negative, else neutral) is the baseline, run here on the same texts. Large sets are subsampled
(stratified, fixed seed) so that the whole run stays under 10 minutes on 2 cores; the sizes used
are printed. To stay in that time the default run also trains the English-only encoder's sentiment
head on English only and leaves e5-small (about 80 texts/s) out of intent and spam; ``--full`` runs
everything on every text (up to 4,000 training texts per language) and takes far longer.
``--cache DIR`` keeps the embeddings between runs (off by default).

The datasets are read from ``../shared/datasets`` (or ``CXM_DATASETS``); they are never copied.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import os
import random
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from apps.classification.encoders import EncoderUnavailable, load_encoder  # noqa: E402

DATA = Path(os.environ.get("CXM_DATASETS", ROOT.parent / "shared" / "datasets"))
SEED = 13
XLMT = {
    "ar": "arabic", "en": "english", "fr": "french", "de": "german",
    "hi": "hindi", "it": "italian", "pt": "portuguese", "es": "spanish",
}  # fmt: skip
SENTIMENT = ("negative", "neutral", "positive")
# Subsampling caps (texts; None: all). "default" fits the whole run in 10 minutes on 2 cores;
# "full" (--full) uses every text up to 4,000 training texts per language, and takes far longer.
CAPS = {
    "default": {
        "tweeteval_train": 600, "indonlu_train": 600, "tweeteval_val": 400, "indonlu_val": 300,
        "chnsenticorp_val": 150, "marc_val": 40, "bitext_train": 600, "sms_train": 800, "throughput": 256,
    },
    "full": {
        "tweeteval_train": 4000 - 1839, "indonlu_train": 4000, "tweeteval_val": None, "indonlu_val": None,
        "chnsenticorp_val": None, "marc_val": None, "bitext_train": None, "sms_train": None,
        "throughput": 512,
    },
}  # fmt: skip
CAP = dict(CAPS["default"])
BANKING_TRAIN_PER_LABEL, BANKING_TEST_PER_LABEL = 20, 10
#: English-only encoders: in the default run their sentiment head is trained and scored on English only.
ENGLISH_ONLY = {"minilm-onnx-int8"}
C_GRID = (1.0, 4.0)  # 0.25 was never chosen
THROUGHPUT_BATCHES = (16, 64, 256)


# ---------------------------------------------------------------- data


def read_tsv(relative: str) -> list[dict[str, str]]:
    with open(DATA / relative, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))


def sample(rows: list, n: int | None, seed: int = SEED, key=lambda r: r["label"]) -> list:
    """A stratified, deterministic subsample of at most n rows (all rows if n is None or larger)."""
    if n is None or n >= len(rows):
        return list(rows)
    rng = random.Random(seed)
    groups: dict[str, list] = defaultdict(list)
    for row in rows:
        groups[key(row)].append(row)
    picked = []
    for _, group in sorted(groups.items()):
        rng.shuffle(group)
        picked.extend(group[: max(1, round(n * len(group) / len(rows)))])
    rng.shuffle(picked)
    return picked[:n]


def split_per_label(rows: list, n_first: int, n_second: int, seed: int = SEED) -> tuple[list, list]:
    """Two disjoint parts with n_first and n_second rows of every label."""
    rng = random.Random(seed)
    groups: dict[str, list] = defaultdict(list)
    for row in rows:
        groups[row["label"]].append(row)
    first, second = [], []
    for _, group in sorted(groups.items()):
        rng.shuffle(group)
        first += group[:n_first]
        second += group[n_first : n_first + n_second]
    return first, second


def split_fraction(rows: list, fraction: float, seed: int = SEED) -> tuple[list, list]:
    rng = random.Random(seed)
    groups: dict[str, list] = defaultdict(list)
    for row in rows:
        groups[row["label"]].append(row)
    first, second = [], []
    for _, group in sorted(groups.items()):
        rng.shuffle(group)
        cut = round(len(group) * fraction)
        first += group[:cut]
        second += group[cut:]
    return first, second


def stars_to_polarity(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    names = {"1": "negative", "2": "negative", "3": "neutral", "4": "positive", "5": "positive"}
    return [{"text": r["text"], "label": names[r["label"].strip()]} for r in rows]


class Split:
    """Texts and labels of one evaluation or training set, with its language (None: mixed)."""

    def __init__(self, name: str, rows: list[dict[str, str]], lang: str | None = None, binary: bool = False):
        self.name, self.lang, self.binary = name, lang, binary
        self.texts = [r["text"] for r in rows]
        self.labels = np.array([r["label"] for r in rows])
        self.langs = np.array([r.get("lang", lang or "") for r in rows])

    def __len__(self) -> int:
        return len(self.texts)


# ---------------------------------------------------------------- features


class Embeddings:
    """Encodes each distinct text once per encoder; optionally keeps the vectors on disk (--cache)."""

    def __init__(self, encoders: dict, cache: Path | None, batch_size: int = 64):
        self.encoders, self.cache, self.batch_size = encoders, cache, batch_size
        self.memory: dict[str, dict[str, np.ndarray]] = {spec: {} for spec in encoders}
        self.seconds: Counter = Counter()
        self.count: Counter = Counter()
        for spec in encoders:
            path = self._path(spec)
            if path is not None and path.exists():
                with np.load(path) as stored:
                    self.memory[spec] = dict(zip(stored["keys"].tolist(), stored["vectors"], strict=True))

    def _path(self, spec: str) -> Path | None:
        return self.cache / f"{spec}.npz" if self.cache else None

    @staticmethod
    def _key(text: str) -> str:
        return hashlib.sha1(text.encode("utf-8")).hexdigest()

    def get(self, spec: str, texts: list[str]) -> np.ndarray:
        known = self.memory[spec]
        keys = [self._key(t) for t in texts]
        missing = {k: t for k, t in zip(keys, texts, strict=True) if k not in known}
        if missing:
            started = time.perf_counter()
            vectors = self.encoders[spec].encode(list(missing.values()), batch_size=self.batch_size)
            self.seconds[spec] += time.perf_counter() - started
            self.count[spec] += len(missing)
            known.update(zip(missing, vectors, strict=True))
        return np.stack([known[k] for k in keys])

    def save(self) -> None:
        for spec, known in self.memory.items():
            path = self._path(spec)
            if path is not None and known:
                np.savez(path, keys=np.array(list(known)), vectors=np.stack(list(known.values())))


class Features:
    """A feature recipe: some encoders' vectors, concatenated, plus optional char n-grams and VADER."""

    def __init__(self, specs: list[str], tfidf: bool = False, vader: bool = False):
        self.specs, self.tfidf, self.vader = specs, tfidf, vader
        self._vectorizer = None

    @property
    def name(self) -> str:
        parts = ["+".join(self.specs)] if self.specs else []
        parts += ["char-tfidf"] * self.tfidf + ["vader-scores"] * self.vader
        return " + ".join(parts)

    def fit(self, split: Split) -> Features:
        if self.tfidf:
            from sklearn.feature_extraction.text import TfidfVectorizer

            self._vectorizer = TfidfVectorizer(
                analyzer="char_wb", ngram_range=(2, 5), min_df=2, sublinear_tf=True, max_features=100_000
            ).fit(split.texts)
        return self

    def transform(self, split: Split, embeddings: Embeddings):
        import scipy.sparse as sp

        blocks = []
        if self.specs:
            dense = np.concatenate([embeddings.get(s, split.texts) for s in self.specs], axis=1)
            blocks.append(dense / np.linalg.norm(dense, axis=1, keepdims=True).clip(1e-12))
        if self.vader:
            blocks.append(vader_scores(split.texts))
        if self.tfidf:
            blocks.append(self._vectorizer.transform(split.texts) * 0.5)
        if len(blocks) == 1 and not self.tfidf:
            return blocks[0]
        return sp.hstack([sp.csr_matrix(b) if isinstance(b, np.ndarray) else b for b in blocks]).tocsr()


_vader = None


def vader_scores(texts: list[str]) -> np.ndarray:
    global _vader
    if _vader is None:
        from vader import SentimentIntensityAnalyzer

        _vader = SentimentIntensityAnalyzer()
    scores = (_vader.polarity_scores(t) for t in texts)
    return np.array([[s["neg"], s["neu"], s["pos"], s["compound"]] for s in scores], dtype=np.float32)


def vader_predict(texts: list[str]) -> np.ndarray:
    compound = vader_scores(texts)[:, 3]
    return np.where(compound >= 0.05, "positive", np.where(compound <= -0.05, "negative", "neutral"))


# ---------------------------------------------------------------- heads and scores


def macro_f1(y_true, y_pred, labels=None) -> float:
    from sklearn.metrics import f1_score

    return float(f1_score(y_true, y_pred, average="macro", labels=labels, zero_division=0))


def grouped_macro_f1(labels: np.ndarray, predicted: np.ndarray, langs: np.ndarray) -> float:
    """Mean of per-language macro-F1 when the texts mix languages, else plain macro-F1."""
    groups = sorted(set(langs))
    if len(groups) <= 1:
        return macro_f1(labels, predicted)
    return float(np.mean([macro_f1(labels[langs == g], predicted[langs == g]) for g in groups]))


_evaluated: dict[tuple, tuple[float, dict[str, float]]] = {}


def evaluate(head: Head, train: Split, splits: list[Split], embeddings: Embeddings) -> tuple[float, dict]:
    """(chosen C, macro-F1 per split); a head already evaluated on this train set is not refitted."""
    key = (train.name, head.features.name, head.class_weight, head.fixed_c)
    if key not in _evaluated:
        head.fit(train, embeddings)
        _evaluated[key] = (head.c, {s.name: macro_f1(s.labels, head.predict(s, embeddings)) for s in splits})
    return _evaluated[key]


class Head:
    """Logistic regression on a feature recipe, C chosen on a 20 % split of the training data."""

    def __init__(self, features: Features, class_weight: str | None = "balanced", c: float | None = None):
        self.features, self.class_weight, self.fixed_c = features, class_weight, c
        self.c = c

    def _model(self, c: float):
        from sklearn.linear_model import LogisticRegression

        return LogisticRegression(C=c, max_iter=3000, class_weight=self.class_weight)

    def fit(self, train: Split, embeddings: Embeddings) -> Head:
        # The char n-gram vocabulary and IDF (unsupervised) come from the whole training set.
        self.features.fit(train)
        x = self.features.transform(train, embeddings)
        if self.fixed_c is None:
            rng = np.random.default_rng(SEED + 1)
            check = np.zeros(len(train), dtype=bool)
            for label in np.unique(train.labels):
                where = np.flatnonzero(train.labels == label)
                check[rng.choice(where, size=round(0.2 * len(where)), replace=False)] = True
            scores = {}
            for c in C_GRID:
                predicted = self._model(c).fit(x[~check], train.labels[~check]).predict(x[check])
                scores[c] = grouped_macro_f1(train.labels[check], predicted, train.langs[check])
            self.c = max(scores, key=scores.get)
        self.model = self._model(self.c).fit(x, train.labels)
        return self

    def predict(self, split: Split, embeddings: Embeddings) -> np.ndarray:
        x = self.features.transform(split, embeddings)
        if split.binary:  # a negative/positive set: the better of those two, neutral aside
            proba = self.model.predict_proba(x)
            classes = list(self.model.classes_)
            neg, pos = classes.index("negative"), classes.index("positive")
            return np.where(proba[:, pos] >= proba[:, neg], "positive", "negative")
        return self.model.predict(x)


# ---------------------------------------------------------------- output


def table(title: str, columns: list[str], rows: list[tuple[str, list]], first_width: int = 44) -> None:
    print(f"\n{title}")
    header = f"{'':<{first_width}}" + "".join(f"{c:>8}" for c in columns)
    print(header)
    print("-" * len(header))
    for name, values in rows:
        cells = "".join(f"{v:>8.3f}" if isinstance(v, float) else f"{v!s:>8}" for v in values)
        print(f"{name:<{first_width}}{cells}")


# ---------------------------------------------------------------- experiments


def sentiment(embeddings: Embeddings, specs: list[str], full: bool) -> dict:
    print("\n== sentiment", flush=True)
    train_rows, used = [], []
    for lang, folder in XLMT.items():
        rows = [dict(r, lang=lang) for r in read_tsv(f"xlm_t_umsab/{folder}/train.tsv")]
        train_rows += rows
        used.append(f"xlm_t_umsab/{folder} {len(rows)}")
    tweeteval = sample(read_tsv("tweeteval/sentiment/train.tsv"), CAP["tweeteval_train"])
    indonlu = sample(read_tsv("indonlu_smsa/train.tsv"), CAP["indonlu_train"])
    train_rows += [dict(r, lang="en") for r in tweeteval] + [dict(r, lang="id") for r in indonlu]
    used += [f"tweeteval/sentiment {len(tweeteval)} (of 47,207)", f"indonlu_smsa {len(indonlu)} (of 11,000)"]
    train = Split("sentiment-train", train_rows)
    print(f"train ({len(train)} texts, all languages in one head): " + "; ".join(used))

    evals = [Split(f"xlmt-{lang}", read_tsv(f"xlm_t_umsab/{f}/val.tsv"), lang) for lang, f in XLMT.items()]
    extra = [
        Split("tweeteval-en", sample(read_tsv("tweeteval/sentiment/val.tsv"), CAP["tweeteval_val"]), "en"),
        Split("indonlu-id", sample(read_tsv("indonlu_smsa/val.tsv"), CAP["indonlu_val"]), "id"),
        Split(
            "chnsenti-zh", sample(read_tsv("chnsenticorp_htl/val.tsv"), CAP["chnsenticorp_val"]), "zh", True
        ),
    ]
    marc = [
        Split(
            f"marc-{g}",
            sample(stars_to_polarity(read_tsv(f"amazon_reviews_multi_marc/{g}/val.tsv")), CAP["marc_val"]),
            g,
        )
        for g in ("de", "en", "es", "fr", "ja", "zh")
    ]
    print(
        "val: xlm_t_umsab 8 x 324; "
        + "; ".join(f"{s.name} {len(s)}" for s in extra)
        + f"; amazon_reviews_multi_marc {CAP['marc_val']} per language, stars 1-2/3/4-5 -> neg/neu/pos"
        + " (chnsenticorp and marc: measure only, never trained on)"
    )

    # name -> (head, whether it is trained and scored on English only)
    english_only = set() if full else ENGLISH_ONLY
    recipes: list[tuple[str, Head, bool]] = [(s, Head(Features([s])), s in english_only) for s in specs]
    if "use-multilingual" in specs:
        recipes.append(("use + char-tfidf", Head(Features(["use-multilingual"], tfidf=True)), False))
    multi = [s for s in ("use-multilingual", "e5-small") if s in specs]
    if len(multi) == 2:
        recipes.append(("use+e5", Head(Features(multi)), False))
        recipes.append(("use+e5 + char-tfidf", Head(Features(multi, tfidf=True)), False))
    recipes.append(("char-tfidf only (no encoder)", Head(Features([], tfidf=True)), False))

    everything = evals + extra + marc
    english_train = Split("sentiment-train-en", [r for r in train_rows if r["lang"] == "en"])
    english_sets = [s for s in everything if s.lang == "en"]
    results: dict[str, dict[str, float]] = {
        "VADER": {
            s.name: macro_f1(s.labels, vader_predict(s.texts), list(np.unique(s.labels))) for s in everything
        }
    }
    for name, head, english in recipes:
        started = time.perf_counter()
        if english:
            c, scores = evaluate(head, english_train, english_sets, embeddings)
            name = f"{name} (English only)"
        else:
            c, scores = evaluate(head, train, everything, embeddings)
        results[name] = scores
        print(f"  {name}: C={c}, trained+scored in {time.perf_counter() - started:.0f}s", flush=True)

    def cells(scores: dict, splits: list[Split], averages: list[list[Split]]) -> list:
        values = [scores.get(s.name, "-") for s in splits]
        for group in averages:
            got = [scores[s.name] for s in group if s.name in scores]
            values.append(float(np.mean(got)) if len(got) == len(group) else "-")
        return values

    no_hindi = [s for s in evals if s.lang != "hi"]
    table(
        "Sentiment macro-F1, XLM-T val (324 tweets per language; 'avg-hi' leaves Hindi out)",
        [*XLMT, "avg", "avg-hi"],
        [(name, cells(scores, evals, [evals, no_hindi])) for name, scores in results.items()],
    )
    table(
        "Sentiment macro-F1, other val sets (zh: negative/positive only; marc: measure only)",
        ["tw-en", "smsa-id", "chn-zh", *(s.name for s in marc), "marc"],
        [(name, cells(scores, extra + marc, [marc])) for name, scores in results.items()],
    )
    results["_ablation"] = ablations(train, everything, evals, embeddings, specs, full)
    return results


def ablations(
    train: Split, splits: list[Split], evals: list[Split], embeddings: Embeddings, specs, full
) -> list:
    """What each cheap change gains on the XLM-T average (C chosen on train only)."""
    if "use-multilingual" not in specs:
        return []
    steps = [
        ("USE, LR C=1, no class weights (the calibration)", Head(Features(["use-multilingual"]), None, 1.0))
    ]
    steps.append(("  + balanced class weights", Head(Features(["use-multilingual"]), "balanced", 1.0)))
    steps.append(("  + C tuned on a train split", Head(Features(["use-multilingual"]))))
    if "e5-small" in specs:
        both = ["use-multilingual", "e5-small"]
        steps.append(("  + e5-small concatenated", Head(Features(both))))
        steps.append(("  + char n-gram TF-IDF", Head(Features(both, tfidf=True))))
        if full:  # C kept from the step above: 4 more features do not call for a new search.
            steps.append(
                ("  + VADER scores as 4 features", Head(Features(both, tfidf=True, vader=True), c=-1.0))
            )
    rows, previous, previous_c = [], None, 1.0
    for name, head in steps:
        if head.fixed_c == -1.0:
            head.fixed_c = head.c = previous_c
        c, scores = evaluate(head, train, splits, embeddings)
        previous_c = c
        avg = float(np.mean([scores[s.name] for s in evals]))
        rows.append((name, [avg, (avg - previous) if previous is not None else "", c]))
        previous = avg
    table(
        "Ablation, XLM-T average macro-F1 (each step adds to the one above)", ["avg", "gain", "C"], rows, 52
    )
    return rows


def intent_and_spam(embeddings: Embeddings, specs: list[str], full: bool) -> None:
    print("\n== intent and spam", flush=True)
    if not full and "e5-small" in specs:
        # English tasks; e5-small (the slowest encoder) did not beat the others on them: --full runs it.
        specs = [s for s in specs if s != "e5-small"]
        print("e5-small left out here to keep the run short (--full includes it)")
    bitext_train = Split(
        "bitext-train", sample(read_tsv("bitext_customer_service/train.tsv"), CAP["bitext_train"])
    )
    bitext_val = Split("bitext-val", read_tsv("bitext_customer_service/val.tsv"))
    bank_train_rows, bank_test_rows = split_per_label(
        read_tsv("banking77/train.tsv"), BANKING_TRAIN_PER_LABEL, BANKING_TEST_PER_LABEL
    )
    bank_train, bank_test = Split("banking-train", bank_train_rows), Split("banking-test", bank_test_rows)
    yt_train_rows, yt_test_rows = split_fraction(read_tsv("youtube_spam_partial/train.tsv"), 0.7)
    spam_train = Split(
        "spam-train", sample(read_tsv("sms_spam_uci/train.tsv"), CAP["sms_train"]) + yt_train_rows
    )
    sms_val, yt_test = Split("sms-val", read_tsv("sms_spam_uci/val.tsv")), Split("yt-test", yt_test_rows)
    print(
        f"bitext: train {len(bitext_train)} (of 7,353), val {len(bitext_val)}, 27 intents; "
        f"banking77 (no val shipped): {BANKING_TRAIN_PER_LABEL} examples per intent to learn from, "
        f"{BANKING_TEST_PER_LABEL} held out per intent ({len(bank_test)}); "
        f"spam: train sms {len(spam_train) - len(yt_train_rows)} + youtube {len(yt_train_rows)} (70 %), "
        f"scored on sms val {len(sms_val)} and the other 30 % of youtube {len(yt_test)}"
    )
    recipes = [(s, [s], False) for s in specs]
    multi = [s for s in ("use-multilingual", "e5-small") if s in specs]
    if len(multi) == 2:
        recipes.append(("use+e5", multi, False))
    if "minilm-onnx-int8" in specs and "e5-small" in specs:
        recipes.append(("e5+minilm", ["e5-small", "minilm-onnx-int8"], False))
    if "minilm-onnx-int8" in specs and "use-multilingual" in specs:
        recipes.append(("use+minilm", ["use-multilingual", "minilm-onnx-int8"], False))
    recipes.append(("char-tfidf only (no encoder)", [], True))
    rows = []
    for name, parts, tfidf in recipes:
        started = time.perf_counter()
        intent = Head(Features(parts, tfidf=tfidf)).fit(bitext_train, embeddings)
        bank = Head(Features(parts, tfidf=tfidf)).fit(bank_train, embeddings)
        spam = Head(Features(parts, tfidf=tfidf)).fit(spam_train, embeddings)
        from sklearn.metrics import f1_score

        rows.append(
            (
                name,
                [
                    macro_f1(bitext_val.labels, intent.predict(bitext_val, embeddings)),
                    macro_f1(bank_test.labels, bank.predict(bank_test, embeddings)),
                    float(f1_score(sms_val.labels, spam.predict(sms_val, embeddings), pos_label="spam")),
                    float(f1_score(yt_test.labels, spam.predict(yt_test, embeddings), pos_label="spam")),
                ],
            )
        )
        print(f"  {name}: {time.perf_counter() - started:.0f}s", flush=True)
    table(
        "Intent macro-F1 (bitext val; banking77 20-shot) and spam F1 (spam class)",
        ["bitext", "bank77", "sms", "youtube"],
        rows,
    )


def throughput(encoders: dict) -> None:
    print("\n== encoder throughput", flush=True)
    texts = []
    for folder in XLMT.values():
        texts += [r["text"] for r in read_tsv(f"xlm_t_umsab/{folder}/val.tsv")]
    texts = random.Random(SEED).sample(texts, CAP["throughput"])
    rows = []
    for spec, encoder in encoders.items():
        encoder.encode(texts[:32], batch_size=16)  # warm up
        speeds = []
        for batch in THROUGHPUT_BATCHES:
            started = time.perf_counter()
            encoder.encode(texts, batch_size=batch)
            speeds.append(f"{len(texts) / (time.perf_counter() - started):.0f}")
        rows.append((f"{spec} ({encoder.dim}-d)", speeds))
    table(
        f"Encoder throughput, sentences/s ({CAP['throughput']} XLM-T tweets, 8 languages, batch size)",
        [str(b) for b in THROUGHPUT_BATCHES],
        rows,
    )


def language_id() -> None:
    try:
        from apps.classification.language import LanguageDetector
    except ImportError:
        return
    print("\n== language identification (the product's: script, then eldc)", flush=True)
    sets = {lang: f"xlm_t_umsab/{folder}/val.tsv" for lang, folder in XLMT.items()}
    sets |= {
        "id": "indonlu_smsa/val.tsv",
        "zh": "chnsenticorp_htl/val.tsv",
        "ja": "amazon_reviews_multi_marc/ja/val.tsv",
    }
    data = {lang: [r["text"] for r in sample(read_tsv(path), 300)] for lang, path in sets.items()}
    everything = [t for texts in data.values() for t in texts]
    rows = []
    for name, kwargs in (
        ("default candidates", {}),
        ("every language eldc knows", {"languages": None}),
    ):
        try:
            detector = LanguageDetector(**kwargs)
        except RuntimeError as exc:
            print(f"  skipped: {exc}")
            return
        detector.detect(everything)  # load the models
        started = time.perf_counter()
        detector.detect(everything)
        speed = len(everything) / (time.perf_counter() - started)
        accuracy = [
            float(np.mean([c == lang for c in detector.detect(texts)])) for lang, texts in data.items()
        ]
        rows.append((name, [*accuracy, f"{speed:.0f}"]))
    table(
        "Language id: share of 300 texts per set given the set's language (hi: mostly romanised), texts/s",
        [*data, "txt/s"],
        rows,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--encoders", default="use-multilingual,e5-small,minilm-onnx-int8")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument(
        "--full",
        action="store_true",
        help="every text (<= 4,000 training texts per language), all encoders on "
        "every language; takes far longer than 10 minutes",
    )
    parser.add_argument("--cache", type=Path, default=None, help="keep embeddings here between runs")
    parser.add_argument("--skip", default="", help="comma list of: sentiment,intent,throughput,language")
    args = parser.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    CAP.update(CAPS["full" if args.full else "default"])
    if not DATA.is_dir():
        print(f"no datasets at {DATA} (set CXM_DATASETS)", file=sys.stderr)
        return 2
    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
    started = time.perf_counter()
    encoders = {}
    for spec in filter(None, args.encoders.split(",")):
        try:
            t0 = time.perf_counter()
            encoders[spec] = load_encoder(spec, threads=args.threads)
            print(f"loaded {spec} ({encoders[spec].dim}-d) in {time.perf_counter() - t0:.1f}s")
        except EncoderUnavailable as exc:
            print(f"skipped {spec}: {exc.reason}")
    if args.cache:
        args.cache.mkdir(parents=True, exist_ok=True)
    embeddings = Embeddings(encoders, args.cache, args.batch_size)
    specs = list(encoders)
    if "sentiment" not in skip:
        sentiment(embeddings, specs, args.full)
    if "intent" not in skip:
        intent_and_spam(embeddings, specs, args.full)
    if "throughput" not in skip:
        throughput(encoders)
    if "language" not in skip:
        language_id()
    embeddings.save()
    print(
        "\nencoding time: "
        + ", ".join(f"{s} {embeddings.count[s]} texts in {embeddings.seconds[s]:.0f}s" for s in specs)
    )
    print(f"total time: {time.perf_counter() - started:.0f}s ({args.threads} threads)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
