"""Beat as it really runs: the real `celery beat` process against the real Redis broker, and a real worker.
Every entry of the schedule is sent and executed (a task beat cannot send is only logged by beat, which is
how the unsnooze entry once never ran); a conversation snoozed for 2 s comes back by itself and its assignee
is told."""

import os
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from apps.accounts.models import Role
from apps.conversations.models import Conversation
from apps.notifications.models import Notification
from cxm.celery import app
from tests.conftest import ROOT, spawn_worker, stop_worker, task_events, worker_env
from tests.factories import ChannelFactory, ConversationFactory, MessageFactory, membership_create

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]

# Each entry of settings.CELERY_BEAT_SCHEDULE and the task it must run: an entry added without its row here
# fails test_every_entry_of_the_schedule_is_sent_by_beat_and_executed_by_a_worker.
ENTRIES = {
    "worker-heartbeat": "apps.core.tasks.heartbeat_task",
    "poll-due-channels": "apps.ingestion.tasks.poll_due_channels_task",
    "send-scheduled-messages": "apps.replies.tasks.send_scheduled_messages_task",
    "requeue-stuck-payloads": "apps.ingestion.tasks.requeue_stuck_payloads_task",
    "classify-waiting": "apps.classification.tasks.classify_waiting_task",
    "retrain-classifiers": "apps.classification.tasks.retrain_due_task",
    "reprioritise-waiting": "apps.conversations.tasks.reprioritise_waiting_task",
    "unsnooze-due": "apps.conversations.tasks.unsnooze_due_task",
    "refresh-rollups": "apps.analytics.tasks.refresh_rollups_task",
    "evaluate-alert-rules": "apps.alerts.tasks.evaluate_alert_rules_task",
    "webhook-deliveries-due": "apps.webhooks.tasks.webhook_deliveries_due_task",
    "sla-check": "apps.routing.tasks.sla_check_task",
    "agents-gone-offline": "apps.routing.tasks.agents_gone_offline_task",
    "automation-no-reply": "apps.automation.tasks.no_reply_sweep_task",
}


def start_beat(tmp_path, *, scale: float) -> subprocess.Popen:
    """`celery beat` as `dev.py run` starts it, its intervals scaled by `scale` (settings.BEAT_SCALE); its
    output goes to tmp_path / "beat.log"."""
    env = {**worker_env(), "CXM_BEAT_SCALE": str(scale)}
    log = open(tmp_path / "beat.log", "w")  # noqa: SIM115 - the beat process writes it until stopped
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "cxm", "beat", "--loglevel", "INFO"]
        + ["--schedule", str(tmp_path / "celerybeat-schedule"), "--max-interval", "1"],
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def last_ran_long_ago(schedule_file) -> None:
    """Write beat's schedule file as beat itself would after being down for two days: every entry, the
    nightly one included, is then due the moment beat starts (each keeps its real schedule)."""
    from celery.beat import PersistentScheduler

    scheduler = PersistentScheduler(app=app, schedule_filename=str(schedule_file))
    for entry in scheduler.schedule.values():
        entry.last_run_at = timezone.now() - timedelta(days=2)
    scheduler.sync()
    scheduler.close()


def wait_for(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while not (result := condition()):
        assert time.monotonic() < deadline, what
        time.sleep(0.2)
    return result


def test_every_entry_of_the_schedule_is_sent_by_beat_and_executed_by_a_worker(tmp_path):
    assert set(ENTRIES) == set(settings.CELERY_BEAT_SCHEDULE), "each entry needs its row in ENTRIES"
    assert {name: entry["task"] for name, entry in settings.CELERY_BEAT_SCHEDULE.items()} == ENTRIES
    last_ran_long_ago(tmp_path / "celerybeat-schedule")
    worker = spawn_worker(f"beat-worker-{os.getpid()}@localhost", events=True)
    with task_events() as tasks:
        beat = start_beat(tmp_path, scale=1)
        try:

            def executed() -> set[str]:
                return {task["name"] for task in tasks.values() if "succeeded" in task["states"]}

            wait_for(
                lambda: set(ENTRIES.values()) <= executed(),
                60,
                f"never executed: {set(ENTRIES.values()) - executed()}",
            )
        finally:
            beat.terminate()
            beat.wait(20)
            stop_worker(worker)
    log = (tmp_path / "beat.log").read_text()
    assert "Couldn't apply scheduled task" not in log, log
    failed = {task["name"] for task in tasks.values() if "failed" in task["states"]}
    assert not failed & set(ENTRIES.values()), failed


def test_a_conversation_snoozed_for_two_seconds_comes_back_to_the_inbox_and_its_assignee_is_told(
    tmp_path, org_a, brand_a, login
):
    agent = membership_create(org_a, Role.COMMUNITY_MANAGER, username="agent", brands=[brand_a])
    conversation = ConversationFactory(
        channel=ChannelFactory(brand=brand_a), subject="Parcel lost at sea", assignee=agent.user
    )
    MessageFactory(conversation=conversation)
    client = login(agent)
    worker = spawn_worker(f"beat-worker-{os.getpid()}@localhost", events=True)
    # Every minute becomes every 3 s: the unsnooze entry runs as it does in production, only more often.
    with task_events() as tasks:
        beat = start_beat(tmp_path, scale=0.05)
        try:
            wait_for(
                lambda: any(t["name"] == ENTRIES["worker-heartbeat"] for t in tasks.values()),
                60,
                "beat never sent its first task",
            )
            until = timezone.now() + timedelta(seconds=2)
            snoozed = client.post(
                reverse("inbox:conversation_action", args=[conversation.pk]),
                {"action": "snooze", "until": until.isoformat()},
                headers={"HX-Request": "true"},
            )
            assert snoozed.status_code == 200
            assert Conversation.objects.get(pk=conversation.pk).status == Conversation.Status.SNOOZED
            inbox = client.get(reverse("inbox:index")).content.decode()
            assert "Parcel lost at sea" not in inbox  # put aside: not in the open inbox meanwhile

            wait_for(
                lambda: Conversation.objects.get(pk=conversation.pk).status == Conversation.Status.OPEN,
                30,
                "the snoozed conversation never came back",
            )
            assert timezone.now() >= until
        finally:
            beat.terminate()
            beat.wait(20)
            stop_worker(worker)
    assert "Parcel lost at sea" in client.get(reverse("inbox:index")).content.decode()
    notification = Notification.objects.get(recipient=agent.user, conversation=conversation)
    assert notification.kind == Notification.Kind.UNSNOOZED and notification.actor is None
    page = client.get(reverse("notifications:list")).content.decode()
    assert "brought back from snooze" in page and "Parcel lost at sea" in page
    assert "Couldn't apply scheduled task" not in (tmp_path / "beat.log").read_text()
