"""The pipeline: its stages, in order. This is the only place the order is written.

A page goes through ``PIPELINE``'s stages one after the other. A stage takes a bundle of messages
of one model and returns, page by page and in order, the next stage's message or the error that
ends the page there: a ``PermanentPageError`` (recorded as a failure, with its code) or a
``TransientError`` (retried later). A stage is a short tuple of steps over its bundle; a page that
fails a step leaves the bundle there and the others go on. Adding a step is adding a function to
its stage's tuple; a step that needs a service gets it as a field of ``Resources``, which
``workers/runtime.py`` fills for each runner. Near-duplicate clusters are decided by the writer,
not a step: once per bulk batch, which on a worker gathers the bundles of all its threads.

Steps are pure but for what the runner hands them in ``Resources`` (the NER model, the index
writer), so the same table runs on the Celery workers (``workers/tasks.py``) and in one process
(``workers/offline.py``): ``gleaner process`` and the workers cannot diverge.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Protocol, get_args

from pydantic import BaseModel, ValidationError

from workers import logs
from workers.config import Settings
from workers.errors import TRANSIENT_ERRORS, PermanentPageError, TransientError
from workers.models import (
    Entity,
    FailureRecord,
    IndexEnvelope,
    IndexMessage,
    PageMessage,
    PageRef,
    ParsedPage,
    RawPage,
    StageName,
)

if TYPE_CHECKING:
    from workers.stages.entities import EntityInput
    from workers.store.elastic import BulkItemResult, IndexItem

log = logging.getLogger("gleaner.worker")

#: what a step makes of one page: its value for the next step, or the error that ends it
Result = Any
Step = Callable[[list[Any], "Resources"], list[Result]]


class EntityFinder(Protocol):
    """Named entities of cleaned pages (``workers.stages.entities``, with its model loaded)."""

    @property
    def version(self) -> str: ...

    def batch(self, pages: Sequence[EntityInput]) -> list[list[Entity]]: ...

    def one(self, page: EntityInput) -> list[Entity]: ...


#: places documents in near-duplicate clusters and writes them in bulk: one result per item, in
#: order, or the error (of the tree in ``workers/errors.py``) that stopped that item
DocumentWriter = Callable[[Sequence["IndexItem"]], Sequence["BulkItemResult | Exception"]]


@dataclass(frozen=True)
class Resources:
    """What a runner hands the steps: settings and the I/O they may not do themselves."""

    settings: Settings
    entities: EntityFinder | None = None
    write: DocumentWriter | None = None
    #: exceptions that stop the whole bundle rather than fail a page (a worker's time limit)
    interrupts: tuple[type[BaseException], ...] = ()


@dataclass(frozen=True)
class Stage:
    """One stage: what it takes and gives, its steps, and the stage after it."""

    name: StageName
    done: str  # what a page is once through it, as progress counts it: "parsed"
    takes: type[BaseModel]  # model of the messages it takes
    gives: type[BaseModel] | None  # model of the messages it hands on; None: the last stage
    steps: tuple[Step, ...]
    next: StageName | None = None  # set from the order of PIPELINE

    def run(self, messages: Sequence[Any], resources: Resources) -> list[Result]:
        """One result per message, in order: the value of the last step, or the page's error.

        A step's exception that is not a page's error (a dependency down, a time limit, a crash
        on the whole bundle) propagates: the runner decides for the whole bundle."""
        results: list[Result] = list(messages)
        live = list(range(len(results)))
        for step in self.steps:
            if not live:
                break
            outputs = step([results[i] for i in live], resources)
            for i, output in zip(live, outputs, strict=True):
                results[i] = output
            live = [i for i in live if not isinstance(results[i], Exception)]
        return results


class Pipeline:
    """Stages in order, by name."""

    def __init__(self, *stages: Stage) -> None:
        names = [stage.name for stage in stages]
        if sorted(names) != sorted(get_args(StageName)):
            raise ValueError(f"the pipeline's stages {names} are not the stage names {get_args(StageName)}")
        nexts = [*names[1:], None]
        self._stages = {stage.name: replace(stage, next=after) for stage, after in zip(stages, nexts, strict=True)}

    def __iter__(self) -> Iterator[Stage]:
        return iter(self._stages.values())

    def __getitem__(self, name: str) -> Stage:
        return self._stages[name]  # type: ignore[index]

    def __contains__(self, name: object) -> bool:
        return name in self._stages

    @property
    def names(self) -> tuple[StageName, ...]:
        return tuple(self._stages)

    @property
    def first(self) -> Stage:
        return next(iter(self._stages.values()))

    @property
    def last(self) -> Stage:
        return self[self.names[-1]]

    def next(self, name: str) -> Stage | None:
        after = self[name].next
        return self[after] if after else None

    def from_stage(self, name: str) -> tuple[Stage, ...]:
        """``name``'s stage and those after it."""
        stages = tuple(self._stages.values())
        return stages[self.names.index(name):]


# ----------------------------------------------------------------------------- steps


def per_page(fn: Callable[[Any, Resources], Any]) -> Step:
    """A step that runs ``fn`` on each page on its own, with the page's fields bound to every log
    line: a page's error, or a crash on one page (``internal_error``), ends that page only."""

    def step(values: list[Any], resources: Resources) -> list[Result]:
        return [_one_page(fn, value, resources) for value in values]

    step.__name__ = step.__qualname__ = fn.__name__
    return step


def _one_page(fn: Callable[[Any, Resources], Any], value: Any, resources: Resources) -> Result:
    with logs.page_context(ref_of(value), doc_id=getattr(value, "doc_id", None)):
        try:
            return fn(value, resources)
        except PermanentPageError as exc:
            return exc
        except Exception as exc:
            if _stops_the_bundle(exc, resources):
                raise
            if not isinstance(exc, ValidationError):
                log.exception("stage crashed on a page")
            return exc  # a bad page must not take its bundle down


def _stops_the_bundle(exc: BaseException, resources: Resources) -> bool:
    """A dependency's failure or the runner's interruption (a time limit), not the page's fault."""
    return isinstance(exc, TRANSIENT_ERRORS) or isinstance(exc, resources.interrupts)


def ref_of(value: Any) -> PageRef | None:
    """The page a step's value is about: a raw page, a message, or a tuple that starts with one."""
    if isinstance(value, RawPage):
        return value.ref()
    page = getattr(value, "page", None)
    if isinstance(page, PageRef):
        return page
    if isinstance(value, tuple) and value:
        return ref_of(value[0])
    return None


def parse(message: PageMessage | RawPage, resources: Resources) -> ParsedPage:
    """Decode, classify, clean and describe one page: a queued message, or a page read in-process.
    A JSON Lines record is opened first: its URL and collection name the page from then on."""
    from workers.inputs.jsonl import open_record
    from workers.messages import unpack_page
    from workers.stages.parse import ParseLimits, parse_page

    settings = resources.settings
    max_bytes = settings.max_page_bytes
    if isinstance(message, RawPage):
        raw, ref = message, message.ref()
    else:
        raw, ref = unpack_page(message, max_bytes=max_bytes), message.page
    page = open_record(raw, max_bytes=max_bytes)
    if page is not raw:
        ref = ref.model_copy(update={"url": page.url, "collection": page.collection})
    limits = ParseLimits(max_text_chars=settings.max_text_chars, min_body_words=settings.min_body_words)
    try:
        return parse_page(page, batch_id=ref.batch_id, seq=ref.seq, limits=limits, model_dir=settings.model_dir)
    except PermanentPageError as exc:
        raise exc.about(ref) from exc


def find_entities(pages: list[ParsedPage], resources: Resources) -> list[Result]:
    """Named entities of the bundle's pages in one pass of the model; if the pass breaks, each page
    on its own, so that the page that broke it fails alone."""
    from workers.stages.entities import EntityInput

    finder = _required(resources.entities, "entities")
    inputs = [EntityInput(title=p.extraction.title, body=p.extraction.body, tags=tuple(p.extraction.tags),
                          language=p.language) for p in pages]
    try:
        found: list[Any] = finder.batch(inputs)
    except Exception as exc:
        if _stops_the_bundle(exc, resources):
            raise
        log.warning("entity batch failed, running its pages one by one", exc_info=True)
        found = per_page(lambda pair, _: finder.one(pair[1]))(list(zip(pages, inputs, strict=True)), resources)
    return [result if isinstance(result, Exception) else (page, result)
            for page, result in zip(pages, found, strict=True)]


def assemble(found: tuple[ParsedPage, list[Entity]], resources: Resources) -> IndexMessage:
    """The document of a cleaned page and its entities, as the index stage's message."""
    from workers.stages.assemble import assemble_document

    page, entities = found
    finder = _required(resources.entities, "entities")
    document = assemble_document(page, entities, ner_model=finder.version, ingested_at=datetime.now(timezone.utc))
    return IndexMessage(**page.page.model_dump(), doc_id=page.doc_id, document=document)


def index_item_of(message: IndexEnvelope | IndexMessage, resources: Resources) -> IndexItem:
    """The bulk item of a document; its ``fetched_at`` becomes the version that keeps an older fetch
    from overwriting a newer one."""
    from workers.store.elastic import index_item

    try:
        return index_item(message.doc_id, message.document)
    except ValueError as exc:
        raise PermanentPageError("invalid_message", str(exc)) from exc


def write_documents(items: list[IndexItem], resources: Resources) -> list[Result]:
    """The bundle's documents in Elasticsearch, in bulk, each placed in its near-duplicate cluster
    by the writer (``workers.store.near_duplicates.place_in_clusters``, once per bulk batch); a
    document the index refuses fails alone."""
    results = _required(resources.write, "write")(items)
    outcomes: list[Result] = []
    for result in results:
        if isinstance(result, Exception):
            outcomes.append(result)
        elif result.outcome == "rejected":
            outcomes.append(PermanentPageError("rejected_by_index", result.reason or "Elasticsearch rejected the document"))
        elif result.outcome == "retry":
            outcomes.append(TransientError(result.reason or "Elasticsearch did not index the document"))
        else:  # indexed, or a newer fetch of the page already is
            outcomes.append(result)
    return outcomes


def _required(resource: Any, name: str) -> Any:
    if resource is None:
        raise RuntimeError(f"this runner gave the pipeline no {name!r} resource")
    return resource


PIPELINE = Pipeline(
    Stage("parse", "parsed", takes=PageMessage, gives=ParsedPage, steps=(per_page(parse),)),
    Stage("enrich", "enriched", takes=ParsedPage, gives=IndexMessage, steps=(find_entities, per_page(assemble))),
    Stage("index", "indexed", takes=IndexEnvelope, gives=None, steps=(per_page(index_item_of), write_documents)),
)


def task_name(stage: str) -> str:
    """The Celery task (and queue ``stage``) that runs a stage."""
    return f"gleaner.{stage}"


def can_retry(record: FailureRecord) -> bool:
    """A failure can be retried when it failed in a stage and its message was kept (a page refused
    at submission was never a message: resubmit its file)."""
    return record.stage in PIPELINE and bool(record.payload)


__all__ = ["PIPELINE", "EntityFinder", "Pipeline", "Resources", "Stage", "can_retry", "per_page", "task_name"]
