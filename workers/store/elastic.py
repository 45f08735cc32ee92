"""Elasticsearch: client, index template and write alias, bulk writes, search."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from elasticsearch import ApiError, Elasticsearch, helpers

from workers.config import Settings
from workers.models import Document

log = logging.getLogger(__name__)

SCHEMAS_DIR = Path(__file__).resolve().parents[2] / "schemas"
TEMPLATE_FILE = SCHEMAS_DIR / "pages-template.json"


def make_client(settings: Settings) -> Elasticsearch:
    kwargs: dict[str, Any] = {"request_timeout": settings.es_timeout_s, "retry_on_timeout": True, "max_retries": 3}
    if settings.es_api_key:
        kwargs["api_key"] = settings.es_api_key.get_secret_value()
    elif settings.es_username and settings.es_password:
        kwargs["basic_auth"] = (settings.es_username, settings.es_password.get_secret_value())
    if settings.es_ca_certs:
        kwargs["ca_certs"] = settings.es_ca_certs
    return Elasticsearch(settings.es_url, **kwargs)


def load_template(alias: str) -> dict[str, Any]:
    """The index template from ``schemas/``, with its pattern bound to ``alias``."""
    body = json.loads(TEMPLATE_FILE.read_text())
    body.pop("_comment", None)
    body["index_patterns"] = [p.replace("{alias}", alias) for p in body["index_patterns"]]
    return body


def first_index_name(alias: str) -> str:
    return f"{alias}-000001"


def ensure_index(client: Elasticsearch, alias: str, *, update_template: bool = False) -> bool:
    """Make sure the write alias exists: install the template and create the first index behind it.

    With ``update_template`` (``gleaner setup``) the template is installed even when the alias
    exists; workers only create what is missing, so a least-privileged writer never needs to
    manage templates once setup has run. Safe to call concurrently. True if an index was created.
    """
    exists = client.indices.exists_alias(name=alias)
    if exists and not update_template:
        return False
    client.indices.put_index_template(name=f"gleaner-{alias}", **load_template(alias))
    if exists:
        return False
    try:
        client.indices.create(index=first_index_name(alias), aliases={alias: {"is_write_index": True}})
    except ApiError as exc:
        if exc.error != "resource_already_exists_exception":  # another process created it first
            raise
        return False
    return True


def external_version(doc: Document) -> int:
    """Version of a page in the index: its fetch time, so an older fetch never overwrites a newer one."""
    return int(doc.fetched_at.timestamp() * 1000) if doc.fetched_at else 0


def bulk_action(alias: str, doc_id: str, doc: Document) -> dict[str, Any]:
    return {
        "_op_type": "index",
        "_index": alias,
        "_id": doc_id,
        "version": external_version(doc),
        "version_type": "external_gte",
        "_source": doc.model_dump(mode="json"),
    }


Outcome = Literal["indexed", "stale", "rejected", "retry"]


@dataclass(frozen=True)
class BulkItemResult:
    doc_id: str
    outcome: Outcome
    reason: str | None = None


def bulk_index(
    client: Elasticsearch, alias: str, docs: Iterable[tuple[str, Document]], chunk_size: int = 200
) -> list[BulkItemResult]:
    """Write documents with bulk requests; one result per document, in order.

    429s are retried by the helper with backoff; a version conflict means a newer fetch of the
    page is already indexed (``stale``); a 4xx is the document's fault (``rejected``); anything
    else is worth retrying later (``retry``).
    """
    docs = list(docs)
    actions = [bulk_action(alias, doc_id, doc) for doc_id, doc in docs]
    results: dict[str, BulkItemResult] = {}
    for ok, item in helpers.streaming_bulk(
        client,
        actions,
        chunk_size=chunk_size,
        max_chunk_bytes=50 * 1024 * 1024,
        raise_on_error=False,
        raise_on_exception=False,
        max_retries=5,
        initial_backoff=1,
        max_backoff=30,
    ):
        info = item.get("index", {})
        doc_id = str(info.get("_id"))
        status = int(info.get("status", 0))
        if ok:
            results[doc_id] = BulkItemResult(doc_id, "indexed")
        elif status == 409:
            results[doc_id] = BulkItemResult(doc_id, "stale", "a newer fetch of this page is already indexed")
        elif 400 <= status < 500 and status != 429:
            results[doc_id] = BulkItemResult(doc_id, "rejected", _error_reason(info.get("error")))
        else:
            results[doc_id] = BulkItemResult(doc_id, "retry", _error_reason(info.get("error")) or f"status {status}")
    return [results.get(doc_id, BulkItemResult(doc_id, "retry", "no result from bulk")) for doc_id, _ in docs]


def _error_reason(error: Any) -> str:
    if isinstance(error, dict):
        reason = error.get("reason") or error.get("type") or json.dumps(error)[:500]
        caused = error.get("caused_by")
        if isinstance(caused, dict) and caused.get("reason"):
            reason = f"{reason}: {caused['reason']}"
        return str(reason)[:1000]
    return str(error)[:1000] if error else ""


def count_documents(client: Elasticsearch, alias: str) -> int:
    if not client.indices.exists_alias(name=alias):
        return 0
    return int(client.count(index=alias)["count"])


def get_document(client: Elasticsearch, alias: str, doc_id: str) -> dict[str, Any] | None:
    resp = client.search(index=alias, query={"ids": {"values": [doc_id]}}, size=1)
    hits = resp["hits"]["hits"]
    return hits[0]["_source"] if hits else None


FACETS = {"persons": "persons", "organizations": "organizations", "locations": "locations", "sites": "domain"}


def search_pages(
    client: Elasticsearch,
    alias: str,
    query: str,
    *,
    persons: list[str] | None = None,
    organizations: list[str] | None = None,
    locations: list[str] | None = None,
    size: int = 10,
) -> dict[str, Any]:
    """Full-text search over title and body with entity filters, highlights and facets."""
    filters: list[dict[str, Any]] = []
    for field, values in (("persons", persons), ("organizations", organizations), ("locations", locations)):
        for value in values or []:
            filters.append({"term": {field: value}})
    must: list[dict[str, Any]] = (
        [{"multi_match": {"query": query, "fields": ["title^3", "description^2", "body", "tags^2", "persons^2",
                                                        "organizations^2", "locations^2"]}}]
        if query.strip() else [{"match_all": {}}]
    )
    return client.search(
        index=alias,
        query={"bool": {"must": must, "filter": filters}},
        size=size,
        highlight={"fields": {"body": {"fragment_size": 180, "number_of_fragments": 1}}, "pre_tags": ["["], "post_tags": ["]"]},
        aggs={name: {"terms": {"field": field, "size": 10}} for name, field in FACETS.items()},
        source_excludes=["entities"],
    ).body


def iter_all_ids(client: Elasticsearch, alias: str) -> Iterator[str]:
    for hit in helpers.scan(client, index=alias, query={"query": {"match_all": {}}}, _source=False):
        yield hit["_id"]
