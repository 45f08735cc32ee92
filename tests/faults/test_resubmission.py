"""Resubmitting the same 500 pages creates no new document; an older fetch of a page never
overwrites a newer one, a newer fetch does."""

from __future__ import annotations

import time
from datetime import datetime, timezone

import pytest

from tests.faults.conftest import Stack
from tests.faults.pages import url_of, write_jsonl

pytestmark = pytest.mark.faults

PAGES = 500
T1 = datetime(2024, 1, 1, tzinfo=timezone.utc)
T2 = datetime(2024, 6, 1, tzinfo=timezone.utc)
T3 = datetime(2024, 9, 1, tzinfo=timezone.utc)


def _submit_and_wait(stack: Stack, path, tag: str) -> dict[str, int]:
    batch_id = stack.submit(path, collection=tag)
    return stack.wait_batch(batch_id, timeout=300)


def _count(stack: Stack) -> int:
    stack.es.indices.refresh(index="pages")
    return int(stack.es.count(index="pages")["count"])


def test_resubmission_is_idempotent_and_versioned(stack: Stack, tmp_path) -> None:
    tag = "resubmit"
    started = time.monotonic()
    current = write_jsonl(tmp_path / "t2.jsonl", PAGES, tag, fetched_at=T2, variant="june")
    first = _submit_and_wait(stack, current, tag)
    assert first["indexed"] == PAGES
    docs = stack.docs(tag)
    total = _count(stack)
    assert len(docs) == PAGES and {d["url"] for d in docs} == {url_of(i, tag) for i in range(PAGES)}
    ids = {d["url"]: d["_id"] for d in docs}

    # The same pages again: same documents, none added anywhere.
    again = _submit_and_wait(stack, current, tag)
    assert again["indexed"] == PAGES and again["failed"] == 0
    after = stack.docs(tag)
    assert _count(stack) == total and len(after) == PAGES
    assert {d["url"]: d["_id"] for d in after} == ids

    # An older fetch with other content: every page keeps its newer version.
    older = write_jsonl(tmp_path / "t1.jsonl", PAGES, tag, fetched_at=T1, variant="january")
    stale = _submit_and_wait(stack, older, tag)
    assert stale["failed"] == 0 and stale["indexed"] == PAGES  # a stale page is done, not failed
    kept = stack.docs(tag)
    assert _count(stack) == total and len(kept) == PAGES
    assert all(d["fetched_at"].startswith("2024-06-01") and "june" in d["title"] for d in kept)
    assert not any("january" in d["body"] for d in kept)

    # A newer fetch replaces them, still without a new document.
    newer = write_jsonl(tmp_path / "t3.jsonl", PAGES, tag, fetched_at=T3, variant="september")
    _submit_and_wait(stack, newer, tag)
    updated = stack.docs(tag)
    assert _count(stack) == total and len(updated) == PAGES
    assert all(d["fetched_at"].startswith("2024-09-01") and "september" in d["title"] for d in updated)
    assert {d["url"]: d["_id"] for d in updated} == ids

    stack.figures("resubmission (same, older, newer fetch)", pages=PAGES, lost=0,
                  duplicated=len(updated) - PAGES, failed=0, older_overwrote=0, recover_s="-",
                  total_s=round(time.monotonic() - started, 1))
