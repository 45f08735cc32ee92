"""A copy of the failure store in Elasticsearch (index ``gleaner-failures``), for Kibana.

The failure store in Redis stays the source of truth (``gleaner failures``); this index holds one
document per failed page (its last failure, same id as the failure record) so that Kibana can chart
failures by reason, stage, site and time. It lives outside the ``pages-*`` template pattern, with
its own explicit mapping (``schemas/failures-index.json``).

Two ways in:

* ``FailureMirror``: ``workers/runtime.py`` hands its ``put`` to the failure store, which calls it
  with each record it writes. It never blocks nor raises: records are queued and written in bulk
  by a background thread (started with the first record; the runtime flushes it at exit), and
  dropped with a warning when Elasticsearch cannot take them.
* ``sync_failures_index(client, records)``: ``gleaner setup`` copies every current record (a
  backfill, and a repair after Elasticsearch was down).

A retried page keeps its document here: the index is a history of what failed, not the queue of
what is still failing.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from elasticsearch import ApiError, Elasticsearch, helpers

from workers.batching import gather
from workers.models import FailureRecord
from workers.pipeline import can_retry
from workers.stages.urls import domain_of
from workers.store.elastic import SCHEMAS_DIR

log = logging.getLogger(__name__)

FAILURES_INDEX = "gleaner-failures"
MAPPING_FILE = SCHEMAS_DIR / "failures-index.json"


def load_failures_mapping() -> dict[str, Any]:
    body = json.loads(MAPPING_FILE.read_text())
    body.pop("_comment", None)
    return body


def failure_document(record: FailureRecord) -> dict[str, Any]:
    """The ``_source`` of a failure record in the index (no payload: it can be megabytes)."""
    data = record.model_dump(mode="json", exclude={"payload"})
    data["domain"] = domain_of(record.url) if record.url else None
    data["retryable"] = can_retry(record)
    return data


def ensure_failures_index(client: Elasticsearch, index: str = FAILURES_INDEX) -> bool:
    """Create the failures index with its mapping if it does not exist; True if created."""
    if client.indices.exists(index=index):
        return False
    try:
        client.indices.create(index=index, **load_failures_mapping())
    except ApiError as exc:
        if exc.error != "resource_already_exists_exception":
            raise
        return False
    return True


def index_failures(client: Elasticsearch, records: Iterable[FailureRecord], index: str = FAILURES_INDEX,
                   chunk_size: int = 500) -> tuple[int, int]:
    """Write records (one document per record id, last write wins); returns (written, errors)."""
    actions = ({"_op_type": "index", "_index": index, "_id": r.id, "_source": failure_document(r)} for r in records)
    written = errors = 0
    for ok, _item in helpers.streaming_bulk(client, actions, chunk_size=chunk_size, raise_on_error=False,
                                           raise_on_exception=False, max_retries=3):
        if ok:
            written += 1
        else:
            errors += 1
    return written, errors


def sync_failures_index(client: Elasticsearch, records: Iterable[FailureRecord],
                        index: str = FAILURES_INDEX) -> tuple[int, int]:
    """Create the index if needed and copy every record into it."""
    ensure_failures_index(client, index)
    return index_failures(client, records, index)


def count_failures(client: Elasticsearch, index: str = FAILURES_INDEX) -> int | None:
    """Documents in the failures index; None when it does not exist."""
    if not client.indices.exists(index=index):
        return None
    return int(client.count(index=index)["count"])


class FailureMirror:
    """A bounded queue of records and one daemon thread writing them in bulk to the failures index.

    ``client`` makes the Elasticsearch client, in the thread, on first use; ``create_index``: the
    mirror creates the index when it is missing (``GLEANER_ES_CREATE_INDICES``; compose's setup
    creates it, and the workers' user may only write documents).
    """

    max_queued = 10_000
    max_batch = 500
    max_wait_s = 1.0
    warn_every_s = 300.0

    def __init__(self, client: Callable[[], Elasticsearch], *, create_index: bool = True) -> None:
        self._make_client = client
        self._create_index = create_index
        self._queue: queue.Queue[FailureRecord] = queue.Queue(maxsize=self.max_queued)
        self._pid = -1
        self._lock = threading.Lock()
        self._done = threading.Condition()
        self._pending = 0
        self._client: Elasticsearch | None = None
        self._index_ready = False
        self._last_warning = 0.0
        self.dropped = 0

    def put(self, record: FailureRecord) -> None:
        """Queue ``record`` for the failures index. Never blocks, never raises."""
        try:
            self._start_once()
            with self._done:
                self._queue.put_nowait(record)
                self._pending += 1
        except queue.Full:
            self.dropped += 1
            self._warn(f"failures index mirror: queue full, {self.dropped} records dropped")
        except Exception:
            log.debug("failures index mirror unavailable", exc_info=True)

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until every queued record was written (or given up); False on timeout."""
        if self._pid != os.getpid():
            return True
        with self._done:
            return self._done.wait_for(lambda: self._pending == 0, timeout)

    def _start_once(self) -> None:
        if self._pid == os.getpid():
            return
        with self._lock:
            if self._pid == os.getpid():
                return
            # A forked child (prefork pool) gets a queue and thread of its own.
            self._queue = queue.Queue(maxsize=self.max_queued)
            self._client = None
            self._index_ready = False
            self._pending = 0
            threading.Thread(target=self._run, name="failures-index-mirror", daemon=True).start()
            self._pid = os.getpid()

    def _run(self) -> None:
        while True:
            batch = gather(self._queue, self.max_batch, self.max_wait_s)
            try:
                self._write(batch)
            except Exception as exc:  # noqa: BLE001 - a mirror must never take anything down
                self._warn(f"failures index mirror: {len(batch)} records not written: {exc!r}"[:500])
            with self._done:
                self._pending -= len(batch)
                self._done.notify_all()

    def _write(self, batch: list[FailureRecord]) -> None:
        if self._client is None:
            self._client = self._make_client().options(request_timeout=10, max_retries=1)
        if not self._index_ready:
            if self._create_index:  # else `gleaner setup` created it
                ensure_failures_index(self._client)
            self._index_ready = True
        _written, errors = index_failures(self._client, batch)
        if errors:
            self._warn(f"failures index mirror: {errors} of {len(batch)} records rejected")

    def _warn(self, message: str) -> None:
        now = time.monotonic()
        if now - self._last_warning >= self.warn_every_s:
            self._last_warning = now
            log.warning(message)
