"""Typed data passed between stages and over the queues.

Every message on a Celery queue is one of these models dumped to JSON; their JSON Schemas are
exported to ``schemas/messages/`` (``gleaner schemas``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SerializerFunctionWrapHandler, model_serializer, model_validator

PageKind = Literal["html", "text"]
PageCodec = Literal["zstd", "zlib"]
PageRecord = Literal["jsonl"]
#: The stages a page goes through (their order and work: ``workers/pipeline.py``).
StageName = Literal["parse", "enrich", "index"]
#: Where a page can fail: a stage, or at submission (the producer could not read it).
Stage = Literal["submit", StageName]
PageType = Literal["article", "forum", "product", "collection", "listing", "documentation", "service"]


class Extraction(BaseModel):
    """What a cleaner keeps of one page: main text and the page's own metadata."""

    model_config = ConfigDict(extra="forbid")

    body: str = Field(description="Main content only, paragraphs separated by blank lines.")
    page_type: PageType | None = Field(default=None, description="What kind of page it is (HTML or text dump).")
    title: str | None = None
    description: str | None = None
    authors: list[str] = Field(default_factory=list)
    published_at: datetime | None = None
    dateline: str | None = Field(
        default=None, description="The place a news item's dateline names (\"WIGAN, England\"); its date is published_at.")
    site_name: str | None = None
    canonical_url: str | None = None
    tags: list[str] = Field(default_factory=list)
    language: str | None = Field(default=None, description="ISO 639-1, if the page declares it.")


class PageRef(BaseModel):
    """Which page a message is about. Every message of every stage carries these same five fields
    at its top (each message model derives from this one), and a failure record carries them too.
    The batch and the position in it count the page's progress; the source, URL and collection
    name it to a person and go into its document."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    source: str = Field(description="path, archive#record, file.jsonl#line, or stdin")
    url: str | None = None
    collection: str | None = None
    batch_id: str | None = Field(default=None, description="The submission (gleaner submit) the page came in.")
    seq: int | None = Field(default=None, ge=0, description="Position of the page in its batch.")


_REF_FIELDS = tuple(PageRef.model_fields)


class RawPage(BaseModel):
    """A page as read by an input, before it goes on the queue."""

    content: bytes
    source: str = Field(description="path, archive#record, or stdin")
    url: str | None = None
    fetched_at: datetime | None = None
    collection: str | None = None
    kind: PageKind | None = Field(default=None, description="Known kind, else detected.")
    charset: str | None = Field(default=None, description="Charset declared by the transport.")
    record: PageRecord | None = Field(
        default=None, description="Set when content is still the input record that wraps the page (a JSON Lines line); "
        "the parse stage takes the page out of it.")

    def ref(self, *, batch_id: str | None = None, seq: int | None = None) -> PageRef:
        """This page's reference, as page ``seq`` of batch ``batch_id``."""
        return PageRef(source=self.source, url=self.url, collection=self.collection, batch_id=batch_id, seq=seq)


def _from_document(data: Any) -> Any:
    """Index messages of earlier versions named their page only in their document: its fields are
    copied up, so that queued messages and stored failures of those versions still run."""
    if not isinstance(data, dict) or "source" in data or data.get("document") is None:
        return data
    document = data["document"]
    data = dict(data)
    for key in ("source", "url", "collection", "batch_id"):
        data.setdefault(key, document.get(key) if isinstance(document, dict) else getattr(document, key, None))
    data["source"] = data["source"] or "unknown"
    return data


class _Message(PageRef):
    """A queue message: one page of a stage's bundle, its reference at the top."""

    model_config = ConfigDict(extra="forbid", frozen=False)

    @property
    def page(self) -> PageRef:
        return PageRef.model_construct(**{key: getattr(self, key) for key in _REF_FIELDS})

    @model_validator(mode="before")
    @classmethod
    def _earlier_versions(cls, data: Any) -> Any:
        return _from_document(data)


class PageMessage(_Message):
    """One page of a parse-queue message: the raw page, compressed and base64-encoded."""

    content_z: str = Field(description="base64 of the compressed raw bytes")
    codec: PageCodec = Field(default="zlib", description="Compression of content_z (zlib in messages of earlier versions).")
    size: int = Field(ge=0, description="Length of the raw bytes.")
    fetched_at: datetime | None = None
    kind: PageKind | None = None
    charset: str | None = None
    record: PageRecord | None = Field(default=None, description="jsonl: content is a JSON Lines line wrapping the page.")


class ParsedPage(_Message):
    """Output of the parse stage: the cleaned page, never the raw one."""

    doc_id: str
    domain: str | None = None
    kind: PageKind
    extraction: Extraction
    language: str | None = None
    fetched_at: datetime | None = None
    extractor: str


class Entity(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(
        min_length=1,
        description="Stable across pages: an external id for a known place (iso3166:FR, iso3166-2:GB-ENG, "
        "iso3166-3:YUCS, geonames:2988507), else <person|org|place>:<normalized name>.",
    )
    name: str
    label: Literal["PERSON", "ORG", "GPE", "LOC"] = Field(
        description="spaCy label; GPE and LOC both feed `locations`."
    )
    count: int = Field(ge=1)
    salience: float = Field(ge=0.0, le=1.0)
    aliases: list[str] = Field(default_factory=list)


class PipelineInfo(BaseModel):
    extractor: str
    ner_model: str | None = None
    gleaner: str


class DedupFields(BaseModel):
    """Near-duplicate keys of the body (``workers.stages.near_duplicates``), kept so that later
    copies find this one: band keys are looked up, never searched as text."""

    model_config = ConfigDict(extra="forbid")

    bands: list[str] = Field(description="LSH band keys of the body's MinHash.")
    signature: str = Field(description="b-bit MinHash signature, base64: estimates the similarity to another body.")
    shingles: int = Field(ge=0, description="Word shingles in the body.")


class Document(BaseModel):
    """The Elasticsearch ``_source`` of a page, per the document contract in DESIGN.md."""

    model_config = ConfigDict(extra="forbid")

    url: str | None = None
    canonical_url: str | None = None
    domain: str | None = None
    site_name: str | None = None
    title: str | None = None
    description: str | None = None
    authors: list[str] = Field(default_factory=list)
    published_at: datetime | None = None
    dateline: str | None = None
    language: str | None = None
    tags: list[str] = Field(default_factory=list)
    page_type: PageType | None = None
    body: str
    word_count: int
    entities: list[Entity] = Field(default_factory=list)
    persons: list[str] = Field(default_factory=list)
    organizations: list[str] = Field(default_factory=list)
    locations: list[str] = Field(default_factory=list)
    content_hash: str
    simhash: str
    cluster_id: str | None = Field(
        default=None, description="Near-duplicate cluster of the body's text: the same on every copy, set at indexing.")
    duplicate_of: str | None = Field(
        default=None, description="Id of the cluster's first copy, on every other copy; None on the first.")
    dedup: DedupFields | None = Field(
        default=None, description="Near-duplicate keys of the body, set at assembly (workers.stages.near_duplicates).")
    source: str
    collection: str | None = None
    batch_id: str | None = None
    fetched_at: datetime | None = None
    ingested_at: datetime
    pipeline: PipelineInfo

    @model_serializer(mode="wrap")
    def _leave_out_unset_clusters(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """Near-duplicate fields are left out until set (``dedup`` at assembly, the cluster at
        indexing): a document is never written with a null cluster."""
        data = handler(self)
        for name in _SET_AT_INDEXING:
            if data.get(name) is None:
                data.pop(name, None)
        return data


_SET_AT_INDEXING = ("cluster_id", "duplicate_of", "dedup")


class IndexMessage(_Message):
    """Message of the index queue: the document as the enrich stage assembled it."""

    model_config = ConfigDict(extra="ignore")

    doc_id: str
    document: Document


class IndexEnvelope(_Message):
    """How the index stage reads an ``IndexMessage``: the envelope is checked, the document goes to
    Elasticsearch as the enrich stage wrote it (from a ``Document``); the index's strict mapping
    refuses whatever does not fit. Checking every field again would cost the index stage about a
    tenth of its throughput."""

    model_config = ConfigDict(extra="ignore")

    doc_id: str = Field(min_length=1)
    document: dict[str, Any]


def page_ref_of(message: Any) -> PageRef:
    """The page reference of any stage's message, read leniently (no validation): a malformed
    message gives what it has, and at least a source (``unknown``)."""
    data: dict[str, Any] = _from_document(message) if isinstance(message, dict) else {}

    def text(key: str) -> str | None:
        value = data.get(key)
        return value if isinstance(value, str) and value else None

    seq = data.get("seq")
    return PageRef.model_construct(
        source=text("source") or "unknown", url=text("url"), collection=text("collection"),
        batch_id=text("batch_id"), seq=seq if isinstance(seq, int) and not isinstance(seq, bool) and seq >= 0 else None)


class FailureRecord(BaseModel):
    """A page that will not be indexed, and why. Kept in the failure store until purged."""

    id: str
    stage: Stage
    reason: str
    error: str = Field(description="Exception type or error code.")
    source: str
    url: str | None = None
    collection: str | None = None
    batch_id: str | None = None
    attempts: int = 1
    first_failed_at: datetime
    last_failed_at: datetime
    payload: dict[str, Any] | None = Field(default=None, description="The stage's message, enough to retry it.")

