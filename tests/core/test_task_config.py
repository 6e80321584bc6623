"""Every task can be sent: its time limits are consistent (Celery refuses to send a task whose soft limit, its
own or the global one, is above its hard limit, which once kept beat's unsnooze entry from ever running), and
its route names a queue that workers serve."""

import pytest

from cxm.celery import app


def test_every_registered_task_can_be_sent_with_its_limits():
    app.loader.import_default_modules()
    tasks = {name: task for name, task in app.tasks.items() if name.startswith("apps.")}
    assert "apps.conversations.tasks.unsnooze_due_task" in tasks
    for name, task in tasks.items():
        assert task.time_limit and task.soft_time_limit, name
        assert task.soft_time_limit < task.time_limit, (name, task.soft_time_limit, task.time_limit)


def test_a_task_whose_soft_limit_is_above_its_hard_limit_is_refused_as_it_is_declared():
    app.loader.import_default_modules()
    with pytest.raises(ValueError, match="soft_time_limit 840 s is above its time_limit 120 s"):

        @app.task(name="tests.core.too_short_a_limit", time_limit=120)
        def too_short_a_limit():  # the global soft limit (14 minutes) applies: above 120 s
            pass

        too_short_a_limit.soft_time_limit  # noqa: B018 - a lazily declared task is bound on first use
    app.tasks.pop("tests.core.too_short_a_limit", None)


def test_every_route_names_a_task_and_a_queue_that_a_worker_serves():
    from cxm.queues import QUEUES_BY_PRIORITY, TASK_QUEUES

    app.loader.import_default_modules()
    assert set(TASK_QUEUES) <= set(app.tasks), set(TASK_QUEUES) - set(app.tasks)
    assert set(TASK_QUEUES.values()) <= set(QUEUES_BY_PRIORITY)
    assert [queue.name for queue in app.conf.task_queues] == list(QUEUES_BY_PRIORITY)
