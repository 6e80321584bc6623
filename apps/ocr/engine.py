"""Reading the text in an image, on the CPU, with the models shipped in a wheel (nothing downloaded).

The engine is RapidOCR (`rapidocr-onnxruntime`, Apache-2.0): PaddleOCR's PP-OCRv4 detector and recogniser
as ONNX files inside the wheel, run by ONNX Runtime. Its recogniser reads Latin script (English and the
accented letters of French, German, Spanish, Portuguese...), Chinese (simplified and traditional) and
digits; it does not read Cyrillic, Arabic, Devanagari or Hangul (MODEL_CARD.md, "Text in images").

Where the package is not installed, OCR is off: `available()` is false, /health/ says why, and messages
keep their images unread.
"""

from __future__ import annotations

import base64
import io
import threading

from .health import check_ocr

# Larger images are refused before decoding (a decompression bomb), and those kept are scaled down to
# this long side: the detector works at ~1,000 px, and photographs' text stays legible.
MAX_PIXELS = 40_000_000
MAX_SIDE = 2000
THUMBNAIL_SIDE = 320
# Boxes read with less confidence than this are dropped (RapidOCR's own default is 0.5).
MIN_SCORE = 0.5

_lock = threading.Lock()
_engine = None


class ImageUnreadable(ValueError):
    """Bytes that are not an image Pillow can decode, or one too large to read."""


def available() -> bool:
    """Whether OCR can run here: the same answer as /health/'s "ocr" check."""
    return check_ocr()["enabled"]


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
    import numpy as np

    image = _image(data)
    if max(image.size) > MAX_SIDE:
        image.thumbnail((MAX_SIDE, MAX_SIDE))
    # RapidOCR takes OpenCV's channel order (BGR).
    pixels = np.ascontiguousarray(np.asarray(image)[:, :, ::-1])
    result, _ = _reader()(pixels)
    boxes = [(box, text) for box, text, score in result or [] if text.strip() and float(score) >= MIN_SCORE]
    return "\n".join(_lines(boxes))


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
