"""Every task's time limits are consistent: Celery refuses to send a task whose soft limit (its own or the
global one) is above its hard limit, which once kept beat's unsnooze entry from ever running."""

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
