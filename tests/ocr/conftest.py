from tests.ingestion.conftest import post_signed, webhook_channel  # noqa: F401 (fixtures shared here)
