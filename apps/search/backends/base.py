"""What every search backend takes and gives back, and the interface it implements."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from apps.accounts.models import Membership
    from apps.listening.query import Node

PAGE_SIZE = 20
MAX_PAGE = 10
# Counts and facets stop at this many matches ("1,000+"): an exact count of a word in half the messages
# costs more than the page itself, and tells the user nothing more.
COUNT_CAP = 1000

# progress(done, total): reindexing reports as it goes (a tqdm bar in the command, a number in a task).
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class SearchFilters:
    """Narrowing beside the query; each is optional."""

    brand: int | None = None
    channel: int | None = None
    language: str = ""
    sentiment: str = ""
    intent: str = ""
    date_from: date | None = None
    date_to: date | None = None


@dataclass(frozen=True)
class SearchHit:
    message_id: int
    conversation_id: int
    sent_at: datetime
    language: str
    channel_id: int
    sentiment: str
    intent: str
    direction: str
    # HTML: the message's text escaped, with the matched words in <mark>. Safe to render as is.
    snippet: str
    score: float = 0.0


@dataclass
class SearchResults:
    total: int
    # True when there are more matches than COUNT_CAP: total is then COUNT_CAP and facets count those.
    total_capped: bool
    hits: list[SearchHit]
    # facet name ("channel", "language", "sentiment", "intent") -> [(value, count)], largest first.
    facets: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    page: int = 1
    has_next: bool = False
    # True when nothing matched exactly and these are close spellings (typos) instead.
    approximate: bool = False
    backend: str = ""


class SearchBackend(Protocol):
    name: str
    # False where nothing needs sending after a message is written.
    needs_indexing: bool
    #: Whether documents carry a copy of each message's labels (sentiment, intent), to be sent again when
    #: the classifier or an agent changes them; PostgreSQL reads them from the row itself.
    copies_labels: bool

    def search(
        self, *, membership: Membership, query: Node, filters: SearchFilters, page: int = 1
    ) -> SearchResults: ...

    def index(self, message_ids: Iterable[int]) -> int: ...

    def delete(self, message_ids: Iterable[int]) -> None: ...

    def reindex(self, *, organization_id: int | None = None, progress: Progress | None = None) -> int: ...
