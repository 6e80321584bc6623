"""The Celery app. Tasks live in each app's tasks.py and stay thin: they call services."""

import os

from celery import Celery
from celery.signals import setup_logging

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cxm.settings")

app = Celery("cxm")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@setup_logging.connect
def use_django_logging(**kwargs):
    # Workers log through Django's LOGGING (structured JSON lines), not Celery's own format.
    from logging.config import dictConfig

    from django.conf import settings

    dictConfig(settings.LOGGING)
