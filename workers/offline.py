"""All stages in one process, no services: what ``gleaner parse`` and ``gleaner process`` run."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from itertools import islice
from pathlib import Path

from workers.config import Settings
from workers.models import Document, ParsedPage, RawPage
from workers.sources import Skipped, iter_inputs
from workers.stages.errors import PermanentPageError
from workers.stages.parse import ParseLimits, parse_page
from workers.stages.records import open_record


@dataclass(frozen=True)
class PageFailure:
    source: str
    url: str | None
    stage: str
    error: str
    reason: str

    def as_dict(self) -> dict[str, str | None]:
        return {"source": self.source, "url": self.url, "stage": self.stage, "error": self.error, "reason": self.reason}


@dataclass(frozen=True)
class ProcessedPage:
    doc_id: str
    document: Document


def parse_inputs(paths: Iterable[str], settings: Settings) -> Iterator[ParsedPage | PageFailure]:
    limits = ParseLimits(max_text_chars=settings.max_text_chars, min_body_words=settings.min_body_words)
    for item in iter_inputs(paths, max_bytes=settings.max_page_bytes):
        if isinstance(item, Skipped):
            if item.is_page:
                yield PageFailure(item.source, item.url, "submit", "refused_at_submit", item.reason)
            continue
        yield parse_one(item, limits, max_bytes=settings.max_page_bytes, model_dir=settings.model_dir)


def parse_one(
    page: RawPage, limits: ParseLimits, *, max_bytes: int, model_dir: Path | None = None
) -> ParsedPage | PageFailure:
    try:
        page = open_record(page, max_bytes=max_bytes)
        return parse_page(page, limits=limits, model_dir=model_dir)
    except PermanentPageError as exc:
        return PageFailure(page.source, page.url, "parse", exc.code, exc.reason)
    except Exception as exc:  # noqa: BLE001 - one bad page must not end the run
        return PageFailure(page.source, page.url, "parse", "internal_error", f"{type(exc).__name__}: {exc}")


def process_inputs(paths: Iterable[str], settings: Settings, batch_size: int = 16) -> Iterator[ProcessedPage | PageFailure]:
    """Parse, enrich (NER over batches of pages) and assemble, in input order."""
    from workers.stages.assemble import assemble_document
    from workers.stages.entities import EntityInput, extract_entities_batch, load_ner, ner_model_version

    nlp = load_ner(settings.spacy_model)
    model = ner_model_version(nlp)
    parsed = parse_inputs(paths, settings)
    while chunk := list(islice(parsed, batch_size)):
        pages = [p for p in chunk if isinstance(p, ParsedPage)]
        inputs = [EntityInput(p.extraction.title, p.extraction.body, tuple(p.extraction.tags), p.language) for p in pages]
        entities = iter(extract_entities_batch(nlp, inputs, batch_size=batch_size, max_chars=settings.ner_max_chars))
        now = datetime.now(timezone.utc)
        for item in chunk:
            if isinstance(item, PageFailure):
                yield item
            else:
                doc = assemble_document(item, next(entities), ner_model=model, ingested_at=now)
                yield ProcessedPage(item.doc_id, doc)
