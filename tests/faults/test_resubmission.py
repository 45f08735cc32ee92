"""Resubmitting the same 500 pages creates no new document; an older fetch of a page never
overwrites a newer one, a newer fetch does. Every fetch of a page carries the page's marker, so a
page indexed twice (under two ids) shows as a duplicate whatever its id."""

from __future__ import annotations

import time
from datetime import datetime, timezone

import pytest

from tests.faults.conftest import Stack
from tests.faults.evidence import Accounting, account
from tests.faults.pages import markers, url_of, write_jsonl

pytestmark = pytest.mark.faults

PAGES = 500
T1 = datetime(2024, 1, 1, tzinfo=timezone.utc)
T2 = datetime(2024, 6, 1, tzinfo=timezone.utc)
T3 = datetime(2024, 9, 1, tzinfo=timezone.utc)


def _submit_and_account(stack: Stack, path, tag: str) -> tuple[dict[str, int], Accounting]:
    batch_id = stack.submit(path, collection=tag)
    # The pages' documents exist from the earlier submissions: wait for this batch to finish first,
    # then look every page up (a page this batch lost shows in the content checks: its document
    # keeps the other fetch's text).
    state = stack.wait_batch(batch_id, timeout=300)
    return state, account(stack.es, stack.redis, markers(PAGES, tag), deadline_s=60)


def _count(stack: Stack) -> int:
    stack.es.indices.refresh(index="pages")
    return int(stack.es.count(index="pages")["count"])


def _sound(acc: Accounting) -> None:
    assert acc.lost == [] and acc.duplicated == [] and acc.both == [] and acc.n_indexed == PAGES, acc.figures()


def test_resubmission_is_idempotent_and_versioned(stack: Stack, tmp_path) -> None:
    tag = "resubmit"
    started = time.monotonic()
    current = write_jsonl(tmp_path / "t2.jsonl", PAGES, tag, fetched_at=T2, variant="june")
    first, acc = _submit_and_account(stack, current, tag)
    _sound(acc)
    assert first["indexed"] == PAGES
    docs = stack.docs(tag)
    total = _count(stack)
    assert len(docs) == PAGES and {d["url"] for d in docs} == {url_of(i, tag) for i in range(PAGES)}
    ids = {d["url"]: d["_id"] for d in docs}

    # The same pages again: same documents, none added anywhere.
    again, acc_again = _submit_and_account(stack, current, tag)
    _sound(acc_again)
    assert again["indexed"] == PAGES and again["failed"] == 0
    after = stack.docs(tag)
    assert _count(stack) == total and {d["url"]: d["_id"] for d in after} == ids

    # An older fetch with other content: every page keeps its newer version.
    older = write_jsonl(tmp_path / "t1.jsonl", PAGES, tag, fetched_at=T1, variant="january")
    stale, acc_stale = _submit_and_account(stack, older, tag)
    _sound(acc_stale)
    assert stale["failed"] == 0 and stale["indexed"] == PAGES  # a stale page is done, not failed
    kept = stack.docs(tag)
    older_overwrote = sum(1 for d in kept if not (d["fetched_at"].startswith("2024-06-01") and "june" in d["title"])
                          or "january" in d["body"])
    assert _count(stack) == total and len(kept) == PAGES and older_overwrote == 0

    # A newer fetch replaces them, still without a new document.
    newer = write_jsonl(tmp_path / "t3.jsonl", PAGES, tag, fetched_at=T3, variant="september")
    _, acc_newer = _submit_and_account(stack, newer, tag)
    _sound(acc_newer)
    updated = stack.docs(tag)
    newer_kept_out = sum(1 for d in updated if not (d["fetched_at"].startswith("2024-09-01")
                                                      and "september" in d["title"]))
    assert _count(stack) == total and newer_kept_out == 0
    assert {d["url"]: d["_id"] for d in updated} == ids

    figures = acc_newer.figures()
    figures["duplicated"] = max(len(a.duplicated) for a in (acc, acc_again, acc_stale, acc_newer))
    figures["lost"] = max(len(a.lost) for a in (acc, acc_again, acc_stale, acc_newer))
    stack.figures("resubmission (same, older, newer fetch)", **figures, documents_added=_count(stack) - total,
                  older_overwrote=older_overwrote, newer_kept_out=newer_kept_out, recover_s="-",
                  total_s=round(time.monotonic() - started, 1))
