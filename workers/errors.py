"""Gleaner's errors, in one tree, and the codes a failed page is recorded with.

    GleanerError
    ├── PermanentPageError   the page itself is at fault: recorded once with its code, never retried
    └── TransientError       a dependency failed (Elasticsearch 429/5xx, a timeout): retried later
        └── BrokerUnavailable  Redis stayed unreachable for longer than GLEANER_BROKER_WAIT_S

Pure: no service's client is imported here. The modules that talk to a service turn its client's errors
into this tree (``workers/store/elastic.py`` for Elasticsearch, ``workers/delivery/broker_wait.py``
for Redis), so the runners only ever decide on these types.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from pydantic import ValidationError

if TYPE_CHECKING:
    from workers.models import PageRef

#: Every code a failure record can carry, and what it means. Stages raise the page's own codes;
#: the runners add the others.
CODES: dict[str, str] = {
    # the page's own fault, found by a stage
    "empty": "the page has no content at all",
    "binary_content": "not a web page (an image, a PDF, an archive...)",
    "empty_after_cleaning": "no main content left after cleaning",
    "too_short_after_cleaning": "fewer words of main content than GLEANER_MIN_BODY_WORDS",
    "invalid_record": "a JSON Lines line that is not a page (not JSON, no 'html' or 'text')",
    "oversized": "the page is larger than GLEANER_MAX_PAGE_BYTES",
    "corrupt_message": "the page's compressed content in its message cannot be decoded",
    "refused_at_submit": "the producer could not read the page (too large, unreadable, truncated archive)",
    # what the runners record
    "invalid_message": "a queue message that does not fit its stage's model",
    "rejected": "Elasticsearch refused the request (a 4xx other than 429)",
    "rejected_by_index": "Elasticsearch refused the document (its mapping, a write block)",
    "internal_error": "a stage crashed on this page (a bug: see the worker's log)",
    "poison_page": "the page killed its worker or timed out more than GLEANER_MAX_REDELIVERIES times",
    "timeout": "the stage took longer than GLEANER_TASK_SOFT_TIME_LIMIT_S on this page",
    "retries_exhausted": "a dependency kept failing for GLEANER_MAX_RETRIES retries",
    "unavailable": "a dependency did not answer (gleaner process does not retry: run it again)",
}


class GleanerError(Exception):
    """Base of every error Gleaner raises on purpose."""


class PermanentPageError(GleanerError):
    """The page itself is at fault: retrying cannot help.

    ``code`` is one of ``CODES``, stable, used to group and select failures; ``reason`` is for a
    person. ``page`` is set by a stage that learnt more of the page than its message said (the
    URL inside a JSON Lines record), so that the failure record carries it.
    """

    def __init__(self, code: str, reason: str, *, page: PageRef | None = None) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason
        self.page = page

    def about(self, page: PageRef) -> PermanentPageError:
        """The same error, about ``page``."""
        return PermanentPageError(self.code, self.reason, page=page)


class TransientError(GleanerError):
    """A dependency failed, not the page: worth retrying later."""


class BrokerUnavailable(TransientError):
    """Redis could not be reached for longer than ``GLEANER_BROKER_WAIT_S``."""


#: what a dependency's failure looks like: ours, and the standard library's connection and timeout
#: errors (the clients' own are turned into ``TransientError`` where they are called)
TRANSIENT_ERRORS: tuple[type[Exception], ...] = (TransientError, ConnectionError, TimeoutError)


@dataclass(frozen=True)
class PageFailure:
    """Why a page stopped: its code (one of ``CODES``) and reason, the page when it is known better
    than its message says (or always, in process), and the stage when the runner tells it."""

    error: str
    reason: str
    page: PageRef | None = None
    stage: str | None = None

    @classmethod
    def of(cls, exc: BaseException, *, page: PageRef | None = None, stage: str | None = None) -> PageFailure:
        """The failure of a page whose stage raised ``exc`` (a page's fault, not a dependency's).

        Validation errors of the message models are ``invalid_message``; anything unexpected is
        ``internal_error``, with the exception's type in the reason. A ``PermanentPageError`` about
        a page names it."""
        if isinstance(exc, PermanentPageError):
            return cls(exc.code, exc.reason, exc.page or page, stage)
        if isinstance(exc, ValidationError):
            return cls("invalid_message", str(exc)[:1000], page, stage)
        if isinstance(exc, TRANSIENT_ERRORS):  # only final where nothing retries (gleaner process)
            return cls("unavailable", f"{type(exc).__name__}: {exc}"[:1000], page, stage)
        return cls("internal_error", f"{type(exc).__name__}: {exc}"[:1000], page, stage)

    @property
    def source(self) -> str:
        return self.page.source if self.page is not None else "unknown"

    @property
    def url(self) -> str | None:
        return self.page.url if self.page is not None else None

    def as_dict(self) -> dict[str, str | None]:
        return {"source": self.source, "url": self.url, "stage": self.stage, "error": self.error, "reason": self.reason}
