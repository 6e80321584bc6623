"""Reading the text in an image, on the CPU, with models installed with the project (nothing downloaded).

Two readers (MODEL_CARD.md, "Text in images"):
- RapidOCR (`rapidocr-onnxruntime`, Apache-2.0): PaddleOCR's PP-OCRv4 detector and recogniser as ONNX
  files inside the wheel, run by ONNX Runtime. It reads Latin script (English and the accented letters of
  French, German, Spanish, Portuguese...), Chinese (simplified and traditional) and digits, but not
  Cyrillic, Arabic or Devanagari: those it reads as look-alike Latin letters ("Привет" → "pИBeT"), with
  less confidence than it reads its own scripts.
- Debian's tesseract with its language packs (health.TESSERACT_SCRIPTS), through its command line: it
  reads those scripts, and no Chinese. It runs only where RapidOCR is not sure of an image (a box read
  with less than SURE_SCORE, or nothing read), and its reading replaces RapidOCR's only where it is mostly
  in a script RapidOCR cannot read, or RapidOCR read nothing. It reads with all its packs first, then
  again with only the packs of the script it found, which reads better (tesseract tries the other packs'
  letters on the words it is unsure of: "أموالي" read with all packs is "اموالي", at a confidence of 56).

Where neither can run, OCR is off: `available()` is false, /health/ says why, and messages keep their
images unread; where only one can, it reads alone.
"""

from __future__ import annotations

import base64
import io
import logging
import os
import subprocess
import threading
import unicodedata
from collections import Counter

from . import health

logger = logging.getLogger(__name__)

# Larger images are refused before decoding (a decompression bomb), and those kept are scaled down to
# this long side: the detector works at ~1,000 px, and photographs' text stays legible.
MAX_PIXELS = 40_000_000
MAX_SIDE = 2000
THUMBNAIL_SIDE = 320
# Boxes read with less confidence than this are dropped (RapidOCR's own default is 0.5).
MIN_SCORE = 0.5
# RapidOCR reads clean Latin and Chinese text at .96 to 1.0 a box, Cyrillic as look-alike Latin at .83 to
# .93 (MODEL_CARD.md): an image with a box under this is read by tesseract too.
SURE_SCORE = 0.95
# tesseract's words read with less confidence (0-100) than this are dropped: its guesses at the Chinese
# it has no pack for score 0 to 64, its readings of the scripts it has packs for 88 to 96.
TESSERACT_MIN_CONFIDENCE = 70
TESSERACT_TIMEOUT_SECONDS = 30

_lock = threading.Lock()
_engine = None


class ImageUnreadable(ValueError):
    """Bytes that are not an image Pillow can decode, one too large to read, or one that the only reader
    there is here failed on."""


def available() -> bool:
    """Whether OCR can run here: the same answer as /health/'s "ocr" check."""
    return health.check_ocr()["enabled"]


def _reader():
    global _engine
    if _engine is None:
        with _lock:
            if _engine is None:
                from rapidocr_onnxruntime import RapidOCR

                # One thread each: a worker process per core already uses the cores. The detector sees the
                # image at most 960 px on its long side (its default scales the *short* side up to 736 px,
                # which made a wide screenshot ~10× dearer for no better reading).
                _engine = RapidOCR(
                    intra_op_num_threads=1,
                    inter_op_num_threads=1,
                    det_limit_side_len=960,
                    det_limit_type="max",
                )
    return _engine


def _image(data: bytes):
    from PIL import Image

    try:
        image = Image.open(io.BytesIO(data))
        width, height = image.size
        if width * height > MAX_PIXELS:
            raise ImageUnreadable(f"the image is too large to read ({width}×{height} pixels)")
        image.load()
    except ImageUnreadable:
        raise
    except Exception as error:  # Pillow raises many types for bad bytes; all mean "not an image"
        raise ImageUnreadable(f"not an image that can be decoded ({type(error).__name__})") from error
    return image.convert("RGB")


def read(data: bytes) -> str:
    """The text in the image, a line per line of text (top to bottom, left to right), "" if none."""
    image = _image(data)
    if max(image.size) > MAX_SIDE:
        image.thumbnail((MAX_SIDE, MAX_SIDE))
    rapidocr = health.rapidocr_status()["enabled"]
    lines, sure = _rapidocr_lines(image) if rapidocr else ([], False)
    if sure:
        return "\n".join(lines)
    tesseract = health.tesseract_status()
    if not tesseract["enabled"]:
        return "\n".join(lines)
    try:
        other = _tesseract_read(image, tesseract["languages"])
    except ImageUnreadable:
        if not rapidocr:
            raise
        logger.warning("tesseract failed on an image; RapidOCR's reading kept", exc_info=True)
        return "\n".join(lines)
    if other and (not lines or _share_unread_by_rapidocr(other) >= 0.5):
        lines = other
    return "\n".join(lines)


def _rapidocr_lines(image) -> tuple[list[str], bool]:
    """RapidOCR's lines, and whether it is sure of them (some read, every box at SURE_SCORE or more)."""
    import numpy as np

    # RapidOCR takes OpenCV's channel order (BGR).
    pixels = np.ascontiguousarray(np.asarray(image)[:, :, ::-1])
    result, _ = _reader()(pixels)
    kept = [(box, text, float(score)) for box, text, score in result or [] if text.strip()]
    boxes = [(box, text) for box, text, score in kept if score >= MIN_SCORE]
    sure = bool(boxes) and all(score >= SURE_SCORE for _, _, score in kept)
    return _lines(boxes), sure


def _tesseract_read(image, languages: list[str]) -> list[str]:
    """With all the packs, then with those of the script RapidOCR cannot read that it found most of."""
    out = io.BytesIO()
    image.save(out, format="PNG")
    png = out.getvalue()
    lines = _tesseract_lines(png, languages)
    found = Counter(script for line in lines for c in line if (script := _unread_script(c)))
    if found:
        script = found.most_common(1)[0][0]
        packs = [pack for pack in health.TESSERACT_SCRIPTS[script] if pack in languages]
        if len(packs) + 1 < len(languages):
            again = _tesseract_lines(png, [*packs, "eng"])
            if _letters(again) >= _letters(lines):
                lines = again
    return lines


def _tesseract_lines(png: bytes, languages: list[str]) -> list[str]:
    """tesseract's lines (its own layout analysis: block, paragraph, line), words under
    TESSERACT_MIN_CONFIDENCE left out."""
    try:
        done = subprocess.run(
            [health.TESSERACT_COMMAND, "stdin", "stdout", "-l", "+".join(languages), "tsv"],
            input=png,
            capture_output=True,
            timeout=TESSERACT_TIMEOUT_SECONDS,
            # One thread, as RapidOCR: a worker process per core already uses the cores.
            env={**os.environ, "OMP_THREAD_LIMIT": "1"},
        )
    except subprocess.TimeoutExpired as error:
        raise ImageUnreadable(f"tesseract took more than {TESSERACT_TIMEOUT_SECONDS} s") from error
    except OSError as error:
        raise ImageUnreadable(f"tesseract does not run ({type(error).__name__})") from error
    if done.returncode != 0:
        raise ImageUnreadable(f"tesseract failed: {done.stderr.decode(errors='replace').strip()[-200:]}")
    lines: dict[tuple[str, ...], list[str]] = {}
    # TSV columns: level page block paragraph line word left top width height confidence text.
    for row in done.stdout.decode(errors="replace").splitlines()[1:]:
        cells = row.split("\t")
        if len(cells) != 12 or cells[0] != "5" or not cells[11].strip():
            continue
        if float(cells[10]) >= TESSERACT_MIN_CONFIDENCE:
            # Without the left-to-right marks it puts after Latin words in Arabic lines.
            word = cells[11].replace("\u200e", "").replace("\u200f", "").strip()
            if word:
                lines.setdefault(tuple(cells[1:5]), []).append(word)
    return [" ".join(words) for words in lines.values()]


def _unread_script(char: str) -> str | None:
    """The script of a letter that RapidOCR cannot read and tesseract has packs for, None for any other."""
    script = unicodedata.name(char, "").split(" ", 1)[0]
    return script if char.isalpha() and script in health.TESSERACT_SCRIPTS else None


def _letters(lines: list[str]) -> int:
    return sum(c.isalpha() for line in lines for c in line)


def _share_unread_by_rapidocr(lines: list[str]) -> float:
    """The share of the letters that are in a script RapidOCR cannot read (Cyrillic, Arabic...)."""
    letters = _letters(lines)
    return sum(_unread_script(c) is not None for line in lines for c in line) / letters if letters else 0.0


def _lines(boxes: list) -> list[str]:
    """Boxes grouped into lines: a box whose vertical centre falls within the previous line's height
    continues it."""
    placed = sorted(
        (
            (
                sum(p[1] for p in box) / 4,
                min(p[0] for p in box),
                max(p[1] for p in box) - min(p[1] for p in box),
                text,
            )
            for box, text in boxes
        )
    )
    lines: list[list[tuple[float, str]]] = []
    last_centre, last_height = None, 0.0
    for centre, left, height, text in placed:
        if last_centre is not None and abs(centre - last_centre) <= max(last_height, height) / 2:
            lines[-1].append((left, text))
        else:
            lines.append([(left, text)])
            last_centre, last_height = centre, height
    return [" ".join(text.strip() for _, text in sorted(line)) for line in lines]


def thumbnail(data: bytes) -> str:
    """A small JPEG of the image as a data: URL, which the thread shows under the strict CSP (img-src
    'self' data:) without loading anything from the platform's servers."""
    image = _image(data)
    image.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=70)
    return "data:image/jpeg;base64," + base64.b64encode(out.getvalue()).decode()
