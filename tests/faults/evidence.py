"""Where did every page end? Counted from independent evidence, not from the pipeline's counters.

Every page the fault tests submit carries a marker in its text that no other page has
(``pages.marker``). At a deadline, every document in the index and every record in the failure
store is read, and each submitted page is looked up by its marker in their text: not by document
id, URL or batch counter, so a page indexed under another id, a document that vanished after its
page was counted as indexed, or a failure recorded under another name are all seen.

* ``lost``: pages whose marker is in no document and no failure record;
* ``duplicated``: pages whose marker is in more than one document;
* ``both``: pages indexed and also recorded as failed.

``account`` waits until every page is found (or the deadline passes) and returns what it found
then: a lost page shows up as ``lost``, never as a timeout.
"""

from __future__ import annotations

import re
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

MARKER = re.compile(r"\bzq[a-z0-9]+qz\b")


@dataclass
class Accounting:
    pages: int
    indexed: dict[str, list[str]] = field(default_factory=dict)  # marker -> ids of documents holding it
    failed: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # marker -> failure records
    waited_s: float = 0.0

    @property
    def lost(self) -> list[str]:
        return sorted(m for m in self.expected if not self.indexed.get(m) and not self.failed.get(m))

    @property
    def duplicated(self) -> list[str]:
        return sorted(m for m in self.expected if len(self.indexed.get(m, ())) > 1)

    @property
    def both(self) -> list[str]:
        return sorted(m for m in self.expected if self.indexed.get(m) and self.failed.get(m))

    @property
    def n_indexed(self) -> int:
        return sum(1 for m in self.expected if self.indexed.get(m))

    @property
    def n_failed(self) -> int:
        return sum(1 for m in self.expected if self.failed.get(m) and not self.indexed.get(m))

    expected: frozenset[str] = frozenset()

    def figures(self) -> dict[str, Any]:
        return {"pages": self.pages, "indexed": self.n_indexed, "failed": self.n_failed, "lost": len(self.lost),
                "duplicated": len(self.duplicated), "indexed_and_failed": len(self.both)}

    def settled(self) -> bool:
        return not self.lost and not self.duplicated and not self.both


def markers_in(text: str | None) -> set[str]:
    return set(MARKER.findall(text or ""))


def document_markers(es, index: str = "pages") -> dict[str, list[str]]:
    """Marker -> ids of the documents whose title or body holds it, over the whole index."""
    from elasticsearch import helpers

    es.indices.refresh(index=index)
    found: dict[str, list[str]] = defaultdict(list)
    for hit in helpers.scan(es, index=index, query={"query": {"match_all": {}}}, _source=["title", "body"]):
        src = hit["_source"]
        for m in markers_in(f"{src.get('title') or ''}\n{src.get('body') or ''}"):
            found[m].append(hit["_id"])
    return found


def _failure_text(record: Any) -> str:
    """The text a failure record holds: its page (unpacked from a parse message), or the stage's
    message as JSON, with its source and URL."""
    from workers.messages import unpack_page
    from workers.models import PageMessage

    payload = record.payload or {}
    parts = [record.source or "", record.url or "", record.model_dump_json()]
    if isinstance(payload, dict) and "content_z" in payload:
        try:
            page = unpack_page(PageMessage.model_validate(payload), max_bytes=64 * 1024 * 1024)
            parts.append(page.content.decode("utf-8", errors="replace"))
        except Exception:  # noqa: BLE001 - an unreadable payload holds no marker
            pass
    return "\n".join(parts)


def failure_markers(redis_client) -> dict[str, list[dict[str, Any]]]:
    """Marker -> failure records (as dicts) whose page or message holds it."""
    from workers.store.failures import FailureStore

    found: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for record in FailureStore(redis_client):
        for m in markers_in(_failure_text(record)):
            found[m].append(record.model_dump(mode="json", exclude={"payload"}))
    return found


def look_up(es, redis_client, markers: Iterable[str], index: str = "pages") -> Accounting:
    expected = frozenset(markers)
    docs, failures = document_markers(es, index), failure_markers(redis_client)
    acc = Accounting(pages=len(expected), indexed={m: docs[m] for m in expected if m in docs},
                     failed={m: failures[m] for m in expected if m in failures})
    acc.expected = expected
    return acc


def account(es, redis_client, markers: Iterable[str], *, deadline_s: float, index: str = "pages",
            interval: float = 2.0, grace_s: float = 3.0) -> Accounting:
    """Look every page up until none is lost or ``deadline_s`` has passed; once none is lost, look
    once more after ``grace_s`` (a page a late redelivery indexes twice shows then). What was found at
    that last look."""
    markers = list(markers)
    started = time.monotonic()
    while True:
        try:
            acc: Accounting | None = look_up(es, redis_client, markers, index)
        except Exception:  # noqa: BLE001 - a service may be restarting: look again
            acc = None
        if acc is not None and not acc.lost:
            time.sleep(grace_s)
            acc = look_up(es, redis_client, markers, index)
            break
        if time.monotonic() - started > deadline_s:
            acc = look_up(es, redis_client, markers, index)
            break
        time.sleep(interval)
    acc.waited_s = round(time.monotonic() - started, 1)
    return acc
