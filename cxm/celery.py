"""The Celery app. Tasks live in each app's tasks.py and stay thin: they call services."""

import os

from celery import Celery
from celery import Task as CeleryTask
from celery.signals import beat_init, setup_logging, task_postrun, task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cxm.settings")


class Task(CeleryTask):
    """Every CXM task. Its limits are checked as it is registered (on import): Celery refuses to send a task
    whose soft time limit, its own or the global CELERY_TASK_SOFT_TIME_LIMIT, is above its hard limit, so
    such a task would never run — beat only logs "Couldn't apply scheduled task" each time it is due."""

    @classmethod
    def bind(cls, app):
        bound = super().bind(app)
        if cls.soft_time_limit and cls.time_limit and cls.soft_time_limit > cls.time_limit:
            raise ValueError(
                f"task {cls.name}: soft_time_limit {cls.soft_time_limit} s is above its time_limit "
                f"{cls.time_limit} s; give it a soft_time_limit below its time_limit"
            )
        return bound


app = Celery("cxm", task_cls=Task)
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@setup_logging.connect
def use_django_logging(**kwargs):
    # Workers log through Django's LOGGING (structured JSON lines), not Celery's own format.
    from logging.config import dictConfig

    from django.conf import settings

    dictConfig(settings.LOGGING)


@task_prerun.connect
@task_postrun.connect
def release_database_connections(sender=None, **kwargs):
    # Between tasks what Django does between requests: a connection that broke or outlived CONN_MAX_AGE
    # is closed (with the pool: handed back, and the pool drops a broken one). The pool stays open
    # (settings.CELERY_DB_REUSE_MAX). Not for a task run eagerly, inside its caller's transaction.
    from django.db import close_old_connections

    if not getattr(getattr(sender, "request", None), "is_eager", False):
        close_old_connections()


@beat_init.connect
def start_payload_relay(sender=None, **kwargs):
    # Beat runs once a deployment: its process carries the relay that publishes again the tasks of payloads
    # whose task was lost (apps/ingestion/relay.py), every few seconds.
    import django

    django.setup()
    from apps.ingestion.relay import start_relay_thread

    start_relay_thread()
