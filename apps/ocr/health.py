"""OCR's part of /health/ (apps/core/health.py), registered in OcrConfig.ready()."""

# The OCR engine's package (apps.ocr.engine): it ships its models, so installed means usable.
OCR_PACKAGE = "rapidocr_onnxruntime"
OCR_SYSTEM_LIBRARIES = ("libGL.so.1", "libglib-2.0.so.0")


def check_ocr() -> dict:
    """Whether image attachments are read (engine.available() asks here too). OCR being off is not a
    failure: the report says so and why, and messages keep their images unread."""
    import ctypes
    import importlib.util

    if importlib.util.find_spec(OCR_PACKAGE) is None:
        return {"enabled": False, "reason": f"{OCR_PACKAGE} is not installed: images are not read"}
    # Installed is not enough: OpenCV (which it imports) needs these system libraries (Debian's libgl1 and
    # libglib2.0-0). Loading them takes milliseconds; importing the engine would take a second or more,
    # too long for /health/.
    for library in OCR_SYSTEM_LIBRARIES:
        try:
            ctypes.CDLL(library)
        except OSError:
            return {"enabled": False, "reason": f"{library} is missing (install libgl1 and libglib2.0-0)"}
    return {"enabled": True, "engine": OCR_PACKAGE}
