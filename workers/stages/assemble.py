"""Document assembly: the cleaned page and its entities become the indexed document."""

from __future__ import annotations

from datetime import datetime

from workers import __version__
from workers.models import DedupFields, Document, Entity, ParsedPage, PipelineInfo
from workers.stages.entities import split_by_label
from workers.stages.fingerprints import content_hash, simhash
from workers.stages.near_duplicates import fingerprint
from workers.stages.text_stats import count_words


def assemble_document(
    page: ParsedPage, entities: list[Entity], *, ner_model: str | None, ingested_at: datetime
) -> Document:
    ex, ref = page.extraction, page.page
    persons, organizations, locations = split_by_label(entities)
    return Document(
        url=ref.url,
        canonical_url=ex.canonical_url,
        domain=page.domain,
        site_name=ex.site_name,
        title=ex.title,
        description=ex.description,
        authors=ex.authors,
        published_at=ex.published_at,
        dateline=ex.dateline,
        language=page.language,
        tags=ex.tags,
        page_type=ex.page_type,
        body=ex.body,
        word_count=count_words(ex.body),
        entities=entities,
        persons=persons,
        organizations=organizations,
        locations=locations,
        content_hash=content_hash(ex.body),
        simhash=simhash(ex.body),
        dedup=DedupFields(**fingerprint(ex.body).stored()),  # the index step places it in a cluster
        source=ref.source,
        collection=ref.collection,
        batch_id=ref.batch_id,
        fetched_at=page.fetched_at,
        ingested_at=ingested_at,
        pipeline=PipelineInfo(extractor=page.extractor, ner_model=ner_model, gleaner=__version__),
    )
