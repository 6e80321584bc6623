"""Celery queues by kind of work, and each task's queue: the one place that says what waits behind what.

A worker takes its queues in the order it lists them, a task of a later queue only while the earlier ones
are empty (the Redis transport's `queue_order_strategy = "priority"`, settings.py): live work first, so that
a message that just arrived is never behind a classification backlog or a bulk import. A worker started
without `--queues` serves them all in QUEUES_BY_PRIORITY's order; `dev.py run` adds a worker for the live
queues alone (cxm/stack), and the README says how to spread the queues over machines.

Plain Python, no Django: the stack reads it to start its workers before Django is set up.
"""

INGESTION = "ingestion"  # payloads received live (webhooks, the intake, polls) → stored messages
OUTBOUND = "outbound"  # what CXM sends: replies, outbound webhooks, alert emails
MAINTENANCE = "maintenance"  # beat's periodic tasks: sweeps, unsnooze, rollups, alert rules
CLASSIFICATION = "classification"  # after storing: classifying, resolution examples, search indexing
BULK = "bulk"  # imports, reindexing, training

QUEUES_BY_PRIORITY = (INGESTION, OUTBOUND, MAINTENANCE, CLASSIFICATION, BULK)
LIVE_QUEUES = (INGESTION, OUTBOUND)
# A task named nowhere below goes here (beat's periodic tasks, small chores).
DEFAULT_QUEUE = MAINTENANCE

TASK_QUEUES = {
    "apps.ingestion.tasks.process_payload_task": INGESTION,
    "apps.ingestion.tasks.process_payload_batch_task": INGESTION,
    "apps.ingestion.tasks.poll_channel_task": INGESTION,
    "apps.replies.tasks.send_message_task": OUTBOUND,
    "apps.webhooks.tasks.webhook_deliver_task": OUTBOUND,
    "apps.alerts.tasks.alert_email_task": OUTBOUND,
    # Auto-assignment of conversations that just got a message: live work, as the message itself.
    "apps.routing.tasks.conversations_route_task": INGESTION,
    "apps.classification.tasks.classify_messages_task": CLASSIFICATION,
    "apps.replies.tasks.resolution_example_record_task": CLASSIFICATION,
    "apps.replies.tasks.resolution_examples_record_task": CLASSIFICATION,
    "apps.search.tasks.index_messages_task": CLASSIFICATION,
    "apps.ocr.tasks.read_images_task": CLASSIFICATION,  # the text in images, then classified again
    # Automation reacts to what was stored, as classification does: never ahead of live ingestion.
    "apps.automation.tasks.automation_messages_task": CLASSIFICATION,
    "apps.automation.tasks.rules_run_task": CLASSIFICATION,
    "apps.automation.tasks.survey_send_task": CLASSIFICATION,
    "apps.automation.tasks.rule_webhook_call_task": OUTBOUND,
    # An import's chunks, a task's worth of messages each (apps.ingestion.services.payloads_enqueue).
    "apps.ingestion.tasks.process_import_chunk_task": BULK,
    "apps.ingestion.tasks.import_job_task": BULK,
    "apps.search.tasks.reindex_task": BULK,
    "apps.classification.tasks.train_classifier_task": BULK,
}


def one_machine_workers(concurrency: int = 1) -> dict[str, list[str]]:
    """The Celery workers of a one-machine stack (`dev.py run`, the latency benchmark), as `celery worker`
    arguments by name: a process for live work alone, so that a message that arrives while a backlog is
    classified waits for no classification, beside `concurrency` processes for every queue, live work
    first. Two processes for two cores by default."""
    return {
        "worker-live": ["--concurrency", "1", "--queues", ",".join(LIVE_QUEUES), "--hostname", "live@%h"],
        "worker": [
            *("--concurrency", str(concurrency), "--queues", ",".join(QUEUES_BY_PRIORITY)),
            *("--hostname", "worker@%h"),
        ],
    }
