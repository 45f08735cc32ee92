"""Elasticsearch: client, index template and write alias, bulk writes, search."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from elasticsearch import ApiError, Elasticsearch, helpers
from elasticsearch.serializer import OrjsonSerializer

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
    # orjson writes bulk bodies and reads their responses several times faster than the stdlib.
    return Elasticsearch(settings.es_url, serializer=OrjsonSerializer(), **kwargs)


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
    template = load_template(alias)
    client.indices.put_index_template(name=f"gleaner-{alias}", **template)
    if exists:
        # Indices made by template version 1 refreshed every second, searched or not.
        client.indices.put_settings(index=alias, settings={"index": {"refresh_interval": None}})
        # Fields added since the index was made (mapping version 2: near-duplicates); a changed
        # field is refused by Elasticsearch and needs a new index and a reindex.
        mappings = template["template"]["mappings"]
        client.indices.put_mapping(index=alias, properties=mappings["properties"], meta=mappings["_meta"])
        return False
    try:
        client.indices.create(index=first_index_name(alias), aliases={alias: {"is_write_index": True}})
    except ApiError as exc:
        if exc.error != "resource_already_exists_exception":  # another process created it first
            raise
        return False
    return True


def external_version(fetched_at: datetime | None) -> int:
    """Version of a page in the index: its fetch time, so an older fetch never overwrites a newer one."""
    return int(fetched_at.timestamp() * 1000) if fetched_at else 0


@dataclass(frozen=True)
class IndexItem:
    """A document ready for a bulk request: its id, ``_source`` and external version."""

    doc_id: str
    source: Mapping[str, Any]
    version: int


def index_item(doc_id: str, document: Document | Mapping[str, Any]) -> IndexItem:
    """The ``IndexItem`` of a document: a ``Document``, or its JSON form as it travels on the index
    queue, sent as it is (the enrich stage built it from the model, and the index's strict mapping
    refuses anything else). Raises ``ValueError`` for a ``fetched_at`` that is not a time."""
    if isinstance(document, Document):
        return IndexItem(doc_id, document.model_dump(mode="json"), external_version(document.fetched_at))
    fetched_at = document.get("fetched_at")
    if fetched_at is not None and not isinstance(fetched_at, str):
        raise ValueError(f"fetched_at is not an ISO 8601 time: {fetched_at!r}")
    return IndexItem(doc_id, document, external_version(datetime.fromisoformat(fetched_at) if fetched_at else None))


def bulk_action(alias: str, item: IndexItem) -> dict[str, Any]:
    return {
        "_op_type": "index",
        "_index": alias,
        "_id": item.doc_id,
        "version": item.version,
        "version_type": "external_gte",
        "_source": item.source,
    }


Outcome = Literal["indexed", "stale", "rejected", "retry"]


@dataclass(frozen=True)
class BulkItemResult:
    doc_id: str
    outcome: Outcome
    reason: str | None = None


def bulk_index(
    client: Elasticsearch, alias: str, items: Iterable[IndexItem], chunk_size: int = 200
) -> list[BulkItemResult]:
    """Write documents with bulk requests; one result per document, in order.

    429s are retried by the helper with backoff; a version conflict means a newer fetch of the
    page is already indexed (``stale``); a 4xx is the document's fault (``rejected``); anything
    else is worth retrying later (``retry``).
    """
    items = list(items)
    results: dict[str, BulkItemResult] = {}
    for ok, item in helpers.streaming_bulk(
        client,
        (bulk_action(alias, it) for it in items),
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
    return [results.get(it.doc_id, BulkItemResult(it.doc_id, "retry", "no result from bulk")) for it in items]


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


def cluster_report(client: Elasticsearch, alias: str) -> dict[str, Any]:
    """Health, version and the alias's indices (documents, size) for ``gleaner status``."""
    health = client.cluster.health()
    report: dict[str, Any] = {
        "status": health["status"],
        "cluster": health.get("cluster_name"),
        "nodes": health.get("number_of_nodes"),
        "unassigned_shards": health.get("unassigned_shards"),
    }
    try:
        report["version"] = client.info()["version"]["number"]
    except ApiError:  # a least-privileged user may not read the root endpoint
        report["version"] = None
    indices: dict[str, dict[str, Any]] = {}
    if client.indices.exists_alias(name=alias):
        aliases = client.indices.get_alias(name=alias).body
        try:
            stats = client.indices.stats(index=alias, metric="docs,store").body.get("indices", {})
        except ApiError:  # needs the `monitor` index privilege
            stats = {}
        for name, info in sorted(aliases.items()):
            primaries = stats.get(name, {}).get("primaries", {})
            indices[name] = {
                "write_index": bool(info.get("aliases", {}).get(alias, {}).get("is_write_index")),
                # _count, not the index stats: those count each nested entity as a document too
                "documents": int(client.count(index=name)["count"]),
                "size_bytes": primaries.get("store", {}).get("size_in_bytes"),
            }
    report["alias"] = alias
    report["indices"] = indices
    return report


def get_document(client: Elasticsearch, alias: str, doc_id: str) -> dict[str, Any] | None:
    resp = client.search(index=alias, query={"ids": {"values": [doc_id]}}, size=1)
    hits = resp["hits"]["hits"]
    return hits[0]["_source"] if hits else None


# Facet name -> keyword field aggregated under the hits.
FACETS = {"persons": "persons", "organizations": "organizations", "places": "locations", "sites": "domain"}
# Markers around highlighted terms in snippets (the CLI turns them into styles).
HIGHLIGHT_PRE, HIGHLIGHT_POST = "\ue000", "\ue001"  # private-use characters, never in pages
SEARCH_FIELDS = ["title^3", "description^2", "body", "tags^2", "persons^2", "organizations^2", "locations^2"]


def _ci_term(field: str, value: str) -> dict[str, Any]:
    return {"term": {field: {"value": value, "case_insensitive": True}}}


def site_filter(site: str) -> dict[str, Any]:
    """A site by host (``jpost.com`` also matches ``www.jpost.com``) or by publisher name."""
    host = site.strip().lower()
    for prefix in ("https://", "http://"):
        host = host.removeprefix(prefix)
    host = host.split("/", 1)[0].removeprefix("www.")
    return {"bool": {"should": [
        _ci_term("domain", host),
        {"wildcard": {"domain": {"value": f"*.{host}", "case_insensitive": True}}},
        _ci_term("site_name", site.strip()),
    ], "minimum_should_match": 1}}


def search_body(
    query: str,
    *,
    persons: list[str] | None = None,
    organizations: list[str] | None = None,
    locations: list[str] | None = None,
    sites: list[str] | None = None,
    collections: list[str] | None = None,
    languages: list[str] | None = None,
    since: str | None = None,
    until: str | None = None,
    size: int = 10,
    offset: int = 0,
    sort: str = "relevance",
    facets: int = 10,
    with_entities: bool = False,
) -> dict[str, Any]:
    """The search request of ``gleaner search``. The query needs every word (in any of the
    fields), and takes ``"phrases"``, ``-word`` and ``a | b``. Every filter is an AND; repeating a filter
    (two ``persons``) requires both, except sites, collections and languages (any of them).
    ``since``/``until`` bound ``published_at`` (a date, a datetime or date math like ``now-7d``)."""
    filters: list[dict[str, Any]] = []
    for field, values in (("persons", persons), ("organizations", organizations), ("locations", locations)):
        for value in values or []:
            filters.append(_ci_term(field, value))
    if sites:
        filters.append({"bool": {"should": [site_filter(s) for s in sites], "minimum_should_match": 1}})
    if collections:
        filters.append({"terms": {"collection": list(collections)}})
    if languages:
        filters.append({"terms": {"language": [lang.lower() for lang in languages]}})
    if since or until:
        bounds = {k: v for k, v in (("gte", since), ("lte", until)) if v}
        filters.append({"range": {"published_at": bounds}})
    text = query.strip()
    must: list[dict[str, Any]] = (
        [{"simple_query_string": {"query": text, "fields": SEARCH_FIELDS, "default_operator": "and"}}]
        if text else [{"match_all": {}}]
    )
    body: dict[str, Any] = {
        "query": {"bool": {"must": must, "filter": filters}},
        "size": size,
        "from": offset,
        "track_total_hits": True,
        "highlight": {
            "pre_tags": [HIGHLIGHT_PRE], "post_tags": [HIGHLIGHT_POST],
            "fields": {
                "title": {"number_of_fragments": 0},
                "body": {"fragment_size": 220, "number_of_fragments": 2, "no_match_size": 220},
            },
        },
        "aggs": {name: {"terms": {"field": field, "size": facets}} for name, field in FACETS.items()},
    }
    if not with_entities:
        body["_source"] = {"excludes": ["entities"]}
    if sort == "date" or (sort == "relevance" and not text):
        body["sort"] = [{"published_at": {"order": "desc", "missing": "_last"}}, "_score"]
    return body


def search_pages(
    client: Elasticsearch,
    alias: str,
    query: str,
    **options: Any,
) -> dict[str, Any]:
    """Full-text search over title and body with filters, highlights and facets (see ``search_body``)."""
    return client.search(index=alias, body=search_body(query, **options)).body


def iter_all_ids(client: Elasticsearch, alias: str) -> Iterator[str]:
    for hit in helpers.scan(client, index=alias, query={"query": {"match_all": {}}}, _source=False):
        yield hit["_id"]
