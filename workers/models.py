"""Typed data passed between stages and over the queues.

Every message on a Celery queue is one of these models dumped to JSON; their JSON Schemas are
exported to ``schemas/messages/`` (``gleaner schemas``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SerializerFunctionWrapHandler, model_serializer

PageKind = Literal["html", "text"]
PageCodec = Literal["zstd", "zlib"]
PageRecord = Literal["jsonl"]
Stage = Literal["submit", "parse", "enrich", "index"]


class Extraction(BaseModel):
    """What a cleaner keeps of one page: main text and the page's own metadata."""

    model_config = ConfigDict(extra="forbid")

    body: str = Field(description="Main content only, paragraphs separated by blank lines.")
    title: str | None = None
    description: str | None = None
    authors: list[str] = Field(default_factory=list)
    published_at: datetime | None = None
    site_name: str | None = None
    canonical_url: str | None = None
    tags: list[str] = Field(default_factory=list)
    language: str | None = Field(default=None, description="ISO 639-1, if the page declares it.")


class RawPage(BaseModel):
    """A page as read by a source, before it goes on the queue."""

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


class PageMessage(BaseModel):
    """One page of a parse-queue message: the raw page, compressed and base64-encoded."""

    model_config = ConfigDict(extra="forbid")

    content_z: str = Field(description="base64 of the compressed raw bytes")
    codec: PageCodec = Field(default="zlib", description="Compression of content_z (zlib in messages of earlier versions).")
    size: int = Field(ge=0, description="Length of the raw bytes.")
    source: str
    url: str | None = None
    fetched_at: datetime | None = None
    collection: str | None = None
    batch_id: str
    seq: int | None = Field(default=None, ge=0, description="Position of the page in its batch.")
    kind: PageKind | None = None
    charset: str | None = None
    record: PageRecord | None = Field(default=None, description="jsonl: content is a JSON Lines line wrapping the page.")


class ParsedPage(BaseModel):
    """Output of the parse stage: the cleaned page, never the raw one."""

    model_config = ConfigDict(extra="forbid")

    doc_id: str
    url: str | None = None
    domain: str | None = None
    source: str
    kind: PageKind
    extraction: Extraction
    language: str | None = None
    fetched_at: datetime | None = None
    collection: str | None = None
    batch_id: str | None = None
    seq: int | None = None
    extractor: str


class Entity(BaseModel):
    model_config = ConfigDict(extra="forbid")

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
    language: str | None = None
    tags: list[str] = Field(default_factory=list)
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
    dedup: DedupFields | None = None
    source: str
    collection: str | None = None
    batch_id: str | None = None
    fetched_at: datetime | None = None
    ingested_at: datetime
    pipeline: PipelineInfo

    @model_serializer(mode="wrap")
    def _leave_out_unset_clusters(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """Near-duplicate fields are written once set: an index made before they existed (mapping
        version 1) keeps taking the documents until ``gleaner setup`` adds them."""
        data = handler(self)
        for name in _SET_AT_INDEXING:
            if data.get(name) is None:
                data.pop(name, None)
        return data


_SET_AT_INDEXING = ("cluster_id", "duplicate_of", "dedup")


class IndexMessage(BaseModel):
    """Message of the index queue."""

    doc_id: str
    document: Document
    seq: int | None = None


class IndexEnvelope(BaseModel):
    """How the index stage reads an ``IndexMessage``: the envelope is checked, the document goes to
    Elasticsearch as the enrich stage wrote it (from a ``Document``); the index's strict mapping
    refuses whatever does not fit. Checking every field again would cost the index stage about a
    tenth of its throughput."""

    doc_id: str = Field(min_length=1)
    document: dict[str, Any]
    seq: int | None = None


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
    payload: dict | None = Field(default=None, description="The stage's message, enough to retry it.")
