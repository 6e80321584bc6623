from django.apps import AppConfig


class OcrConfig(AppConfig):
    # The OCR models load when a worker first reads an image (engine._reader), not as a process starts.
    name = "apps.ocr"
    label = "ocr"
    verbose_name = "Text in images"

    def ready(self):
        from apps.conversations.hooks import messages_stored
        from apps.core.health import check_register

        from .health import check_ocr
        from .services import messages_read_images_on_arrival

        check_register("ocr", check_ocr)
        messages_stored.connect(messages_read_images_on_arrival)
