"""Writing to the search index: what the workers, the classifier and the reindex command call.

With PostgreSQL (the default) the database indexes each message's text by itself, and indexing only adds
its words to the lexicon used for typos; with Elasticsearch, documents are sent in bulk.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from .backends import get_backend
from .backends.base import Progress

logger = logging.getLogger(__name__)
BATCH = 500


def messages_index_stored(messages) -> None:
    """Search indexing of newly stored messages, in a task: Elasticsearch gets the documents in bulk;
    PostgreSQL indexes the text by itself, and the task adds the messages' words to the lexicon that typo
    matching uses."""
    messages_index_later([m.pk for m in messages])


def messages_index_later(message_ids: Iterable[int]) -> None:
    """Queue indexing tasks for these messages, a batch each. Called after commit (ingestion,
    classification): a broker outage is logged, and the next reindex catches up."""
    ids = list(message_ids)
    if not ids or not get_backend().needs_indexing:
        return
    from .tasks import index_messages_task

    for start in range(0, len(ids), BATCH):
        try:
            index_messages_task.delay(ids[start : start + BATCH])
        except Exception:
            logger.warning("search indexing not enqueued", exc_info=True)
            return


def messages_labels_changed(message_ids: Iterable[int]) -> None:
    """The classifier or an agent changed these messages' labels, not their text: only a backend whose
    documents copy the labels (Elasticsearch) indexes them again; the PostgreSQL lexicon of words has
    nothing new to learn."""
    if get_backend().copies_labels:
        messages_index_later(message_ids)


def messages_index(*, message_ids: Iterable[int]) -> int:
    """Send these messages to the index now (deleted ones are removed from it); returns how many."""
    return get_backend().index(list(message_ids))


def search_reindex(*, organization_id: int | None = None, progress: Progress | None = None) -> int:
    """Rebuild the search index (Elasticsearch: every document; PostgreSQL: REINDEX and ANALYZE)."""
    return get_backend().reindex(organization_id=organization_id, progress=progress)
