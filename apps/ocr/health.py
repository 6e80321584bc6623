"""OCR's part of /health/ (apps/core/health.py), registered in OcrConfig.ready(); the engine (engine.py)
asks here too which of its two readers it can use."""

import subprocess

# The first reader (apps.ocr.engine): a wheel that ships its models, so installed means usable.
OCR_PACKAGE = "rapidocr_onnxruntime"
OCR_SYSTEM_LIBRARIES = ("libGL.so.1", "libglib-2.0.so.0")

# The second reader: Debian's tesseract (tesseract-ocr and its tesseract-ocr-LANG packs, installed by
# dev.py, the Docker image and deploy/install-debian.sh), for the scripts the first cannot read: of the
# packs installed, those of the product's languages in these scripts (Unicode's names) are run, then
# English ("eng", in tesseract-ocr itself). Each pack run makes every image it reads slower, so any other
# pack installed (tesseract-ocr-all) is left out.
TESSERACT_COMMAND = "tesseract"
TESSERACT_SCRIPTS = {
    "CYRILLIC": ("rus", "ukr"),
    "GREEK": ("ell",),
    "ARABIC": ("ara", "fas", "urd"),
    "HEBREW": ("heb",),
    "DEVANAGARI": ("hin",),
    "BENGALI": ("ben",),
    "THAI": ("tha",),
    "HANGUL": ("kor",),
}
TESSERACT_LANGUAGES = (*(pack for packs in TESSERACT_SCRIPTS.values() for pack in packs), "eng")
TESSERACT_INSTALL = "apt-get install tesseract-ocr tesseract-ocr-rus tesseract-ocr-ara tesseract-ocr-hin"


def rapidocr_status() -> dict:
    import ctypes
    import importlib.util

    if importlib.util.find_spec(OCR_PACKAGE) is None:
        return {"enabled": False, "reason": f"{OCR_PACKAGE} is not installed"}
    # Installed is not enough: OpenCV (which it imports) needs these system libraries (Debian's libgl1 and
    # libglib2.0-0). Loading them takes milliseconds; importing the engine would take a second or more,
    # too long for /health/.
    for library in OCR_SYSTEM_LIBRARIES:
        try:
            ctypes.CDLL(library)
        except OSError:
            return {"enabled": False, "reason": f"{library} is missing (install libgl1 and libglib2.0-0)"}
    return {"enabled": True}


def tesseract_status() -> dict:
    """Whether tesseract runs here and with which language packs (`tesseract --list-langs`, ~20 ms)."""
    try:
        listed = subprocess.run(
            [TESSERACT_COMMAND, "--list-langs"], capture_output=True, text=True, timeout=5, check=True
        ).stdout.split()
    except FileNotFoundError:
        return {
            "enabled": False,
            "reason": f"tesseract is not installed: Cyrillic, Arabic and Devanagari text in images is not "
            f"read ({TESSERACT_INSTALL})",
        }
    except (OSError, subprocess.SubprocessError) as error:
        return {"enabled": False, "reason": f"tesseract does not run ({type(error).__name__})"}
    languages = [language for language in TESSERACT_LANGUAGES if language in listed]
    if not languages:
        return {"enabled": False, "reason": f"tesseract has none of the language packs ({TESSERACT_INSTALL})"}
    return {"enabled": True, "languages": languages}


def check_ocr() -> dict:
    """Whether image attachments are read (engine.available() asks here too): by RapidOCR (Latin and
    Chinese), by tesseract (the scripts of its language packs), or both. OCR being off, or one of its
    readers, is not a failure: the report says so and why, and messages keep their images unread."""
    rapidocr, tesseract = rapidocr_status(), tesseract_status()
    report = {
        "enabled": rapidocr["enabled"] or tesseract["enabled"],
        "rapidocr": rapidocr,
        "tesseract": tesseract,
    }
    if not report["enabled"]:
        report["reason"] = "neither RapidOCR nor tesseract can run: images are not read"
    return report
