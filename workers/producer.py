"""The producer: reads inputs and sends each page as the chain ``parse | enrich | index``."""

from __future__ import annotations

import secrets
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone

from celery import chain

from workers.celery_app import app
from workers.config import Settings
from workers.messages import pack_page
from workers.models import RawPage
from workers.sources import Skipped, iter_inputs
from workers.store.failures import FailureStore
from workers.store.progress import ProgressStore

_PROGRESS_EVERY = 500


def new_batch_id() -> str:
    return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S") + "-" + secrets.token_hex(3)


@dataclass
class SubmitSummary:
    batch_id: str
    submitted: int = 0
    bytes_submitted: int = 0
    refused: int = 0  # pages refused at submit, recorded as failures
    skipped_reasons: Counter[str] = field(default_factory=Counter)
    not_submitted: list[str] = field(default_factory=list)  # sources lost to a broker error

    @property
    def skipped(self) -> int:
        return sum(self.skipped_reasons.values())


def _reason_group(reason: str) -> str:
    return reason.split(":")[0].split(" (")[0]


def page_chain(message: dict):
    return chain(
        app.signature("gleaner.parse", args=(message,)),
        app.signature("gleaner.enrich"),
        app.signature("gleaner.index"),
    )


def submit(
    paths: Iterable[str],
    *,
    settings: Settings,
    progress: ProgressStore,
    failures: FailureStore,
    collection: str | None = None,
    batch_id: str | None = None,
    on_page: Callable[[SubmitSummary], None] | None = None,
) -> SubmitSummary:
    """Enqueue every page of ``paths``; refused pages go to the failure store (stage ``submit``)."""
    summary = SubmitSummary(batch_id=batch_id or new_batch_id())
    pending = 0
    with app.producer_or_acquire() as producer:
        for item in iter_inputs(paths, max_bytes=settings.max_page_bytes, collection=collection):
            if isinstance(item, Skipped):
                summary.skipped_reasons[_reason_group(item.reason)] += 1
                if item.is_page:
                    summary.refused += 1
                    failures.record(stage="submit", reason=item.reason, error="refused_at_submit",
                                    source=item.source, url=item.url, collection=collection,
                                    batch_id=summary.batch_id, payload=None)
                continue
            _send(item, summary, producer, settings.max_page_bytes)
            pending += 1
            if pending >= _PROGRESS_EVERY:
                progress.add_submitted(summary.batch_id, pending)
                pending = 0
                if on_page:
                    on_page(summary)
    if pending:
        progress.add_submitted(summary.batch_id, pending)
    progress.close_submission(summary.batch_id, collection)
    if on_page:
        on_page(summary)
    return summary


def _send(page: RawPage, summary: SubmitSummary, producer, max_bytes: int) -> None:
    message = pack_page(page, batch_id=summary.batch_id, seq=summary.submitted, max_bytes=max_bytes)
    page_chain(message.model_dump(mode="json", exclude_none=True)).apply_async(producer=producer)
    summary.submitted += 1
    summary.bytes_submitted += len(page.content)
