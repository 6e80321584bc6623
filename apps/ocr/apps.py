from django.apps import AppConfig


class OcrConfig(AppConfig):
    # The OCR models load when a worker first reads an image (engine._reader), not as a process starts.
    name = "apps.ocr"
    label = "ocr"
    verbose_name = "Text in images"

    def ready(self):
        from apps.conversations.hooks import messages_stored

        from .services import messages_read_images_on_arrival

        messages_stored.connect(messages_read_images_on_arrival)
