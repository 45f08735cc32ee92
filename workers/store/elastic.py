"""Elasticsearch: client, index template and write alias, bulk writes, cluster health (search: ``search.py``)."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from elasticsearch import ApiError, Elasticsearch, TransportError, helpers
from elasticsearch.serializer import OrjsonSerializer

from workers.config import Settings
from workers.dates import parse_datetime
from workers.errors import PermanentPageError, TransientError
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


def as_gleaner_error(exc: Exception) -> Exception:
    """The Elasticsearch client's errors in Gleaner's tree (``workers/errors.py``): a 4xx other than
    429 is the request's fault (``rejected``); a 429, a 5xx, a connection error or a timeout is
    transient. Anything else is returned as it is."""
    if isinstance(exc, ApiError):
        if 400 <= exc.status_code < 500 and exc.status_code != 429:
            return PermanentPageError("rejected", str(exc)[:1000])
        return TransientError(f"{type(exc).__name__}: {exc}"[:1000])
    if isinstance(exc, TransportError | ConnectionError | TimeoutError):
        return TransientError(f"{type(exc).__name__}: {exc}"[:1000])
    return exc


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
        # Indices made by older templates refresh as those said (version 1: every second; 2-4: unset).
        refresh = template["template"]["settings"].get("refresh_interval")
        client.indices.put_settings(index=alias, settings={"index": {"refresh_interval": refresh}})
        # Fields added since the alias's indices were made (mapping version 2: page_type and the
        # near-duplicate fields; 3: dateline) are added to them: the mapping is strict, so they would
        # refuse documents that carry them. A changed field is refused by Elasticsearch: new index, reindex.
        mappings = template["template"]["mappings"]
        client.indices.put_mapping(index=alias, properties=mappings["properties"], meta=mappings.get("_meta"))
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
    when = parse_datetime(fetched_at) if isinstance(fetched_at, str) else None
    if fetched_at is not None and when is None:
        raise ValueError(f"fetched_at is not a time: {fetched_at!r}")
    return IndexItem(doc_id, document, external_version(when))


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
