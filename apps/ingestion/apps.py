from django.apps import AppConfig


class IngestionConfig(AppConfig):
    name = "apps.ingestion"
    label = "ingestion"
    verbose_name = "Ingestion"

    def ready(self):
        from apps.customers.hooks import customer_erasing

        from .services import payloads_erase

        customer_erasing.connect(payloads_erase)
