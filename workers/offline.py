"""The in-process runner: the pipeline's stages (``workers/pipeline.py``) in this process, no
queues; what ``gleaner parse`` and ``gleaner process`` run.

Pages go through each stage in bundles, as on the workers, and end the same ways: a page's error
ends that page only, and a bundle a stage crashes on as a whole is run again page by page (a
worker splits it into single pages), so the page that broke it fails alone.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence
from itertools import islice
from typing import TYPE_CHECKING, Any

from workers.config import Settings
from workers.errors import TRANSIENT_ERRORS, PageFailure
from workers.inputs import Skipped, iter_inputs
from workers.models import IndexMessage, PageRef, ParsedPage, RawPage, page_ref_of
from workers.pipeline import PIPELINE, Resources, Stage, ref_of

#: a page that went through every stage but the writes: its document, as the last stage takes it
ProcessedPage = IndexMessage

if TYPE_CHECKING:
    from workers.store.elastic import BulkItemResult

log = logging.getLogger("gleaner.offline")


def parse_inputs(paths: Iterable[str], settings: Settings) -> Iterator[ParsedPage | PageFailure]:
    """The first stage only: each page cleaned (``gleaner parse``)."""
    return run(paths, [PIPELINE.first], Resources(settings=settings))


def process_inputs(paths: Iterable[str], settings: Settings, batch_size: int | None = None,
                   ) -> Iterator[ProcessedPage | PageFailure]:
    """Every stage but the last, which writes: each page's document (``gleaner process``), in
    bundles of ``batch_size`` pages (default ``GLEANER_BUNDLE_PAGES``)."""
    from workers.runtime import offline_resources

    *before, _last = PIPELINE
    return run(paths, before, offline_resources(settings), bundle_pages=batch_size)


def index_documents(documents: Iterable[ProcessedPage | PageFailure], settings: Settings,
                    ) -> Iterator[BulkItemResult | PageFailure]:
    """The last stage: ``documents`` written to Elasticsearch, ``GLEANER_INDEX_BATCH_SIZE`` at a time."""
    from workers.runtime import offline_resources

    return through(PIPELINE.last, documents, offline_resources(settings), bundle_pages=settings.index_batch_size)


def run(paths: Iterable[str], stages: Sequence[Stage], resources: Resources, *,
        bundle_pages: int | None = None) -> Iterator[Any]:
    """Every page of ``paths`` through ``stages``, in input order: each page's output of the last
    stage, or its ``PageFailure``."""
    settings = resources.settings
    stream: Iterator[Any] = (
        _refused(item) if isinstance(item, Skipped) else item
        for item in iter_inputs(paths, max_bytes=settings.max_page_bytes)
        if isinstance(item, RawPage) or item.is_page
    )
    for stage in stages:
        stream = through(stage, stream, resources, bundle_pages=bundle_pages or settings.bundle_pages)
    return stream


def through(stage: Stage, upstream: Iterable[Any], resources: Resources, *, bundle_pages: int) -> Iterator[Any]:
    """``upstream``'s pages through one stage, ``bundle_pages`` at a time; failures pass through."""
    pages = iter(upstream)
    while bundle := list(islice(pages, bundle_pages)):
        results = iter(_run_isolated(stage, [p for p in bundle if not isinstance(p, PageFailure)], resources))
        for page in bundle:
            if isinstance(page, PageFailure):
                yield page
                continue
            result = next(results)
            yield _failure(stage, page, result) if isinstance(result, Exception) else result


def _run_isolated(stage: Stage, pages: list[Any], resources: Resources) -> list[Any]:
    """The stage's results for a bundle; if it crashes on the bundle as a whole, each page alone."""
    if not pages:
        return []
    try:
        return stage.run(pages, resources)
    except TRANSIENT_ERRORS as exc:
        return [exc] * len(pages)
    except Exception as exc:
        if len(pages) == 1:
            log.exception("%s crashed on a page", stage.name)
            return [exc]
        return [result for page in pages for result in _run_isolated(stage, [page], resources)]


def _failure(stage: Stage, page: Any, exc: Exception) -> PageFailure:
    return PageFailure.of(exc, page=ref_of(page) or page_ref_of(page), stage=stage.name)


def _refused(item: Skipped) -> PageFailure:
    return PageFailure("refused_at_submit", item.reason, PageRef(source=item.source, url=item.url), "submit")
