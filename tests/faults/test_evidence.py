"""The fault suite's own check, shown catching what it is there to catch: a page lost after the
pipeline counted it indexed, and a page indexed twice under two ids. Both faults are injected into
the real index of the fault stack; the batch's counters see neither, the marker lookup sees both."""

from __future__ import annotations

import pytest

from tests.faults.conftest import Stack
from tests.faults.evidence import account, look_up
from tests.faults.pages import marker, markers, write_jsonl

pytestmark = pytest.mark.faults

PAGES = 20


def test_the_accounting_catches_an_injected_loss_and_an_injected_duplicate(stack: Stack, tmp_path) -> None:
    tag = "injected"
    batch_id = stack.submit(write_jsonl(tmp_path / f"{tag}.jsonl", PAGES, tag), collection=tag)
    before = account(stack.es, stack.redis, markers(PAGES, tag), deadline_s=240)
    assert before.settled() and before.n_indexed == PAGES, before.figures()
    counted = stack.wait_batch(batch_id, timeout=60)

    # Injected loss: page 3's document disappears from the index.
    lost = marker(3, tag)
    (lost_id,) = look_up(stack.es, stack.redis, [lost]).indexed[lost]
    assert stack.es.delete(index="pages", id=lost_id, refresh=True)["result"] == "deleted"
    # Injected duplicate: page 7's document indexed a second time, under another id (as a page
    # submitted once with its URL and once without would be).
    twice = marker(7, tag)
    (doc_id,) = look_up(stack.es, stack.redis, [twice]).indexed[twice]
    source = stack.es.get(index="pages", id=doc_id)["_source"]
    stack.es.index(index="pages", id=f"{doc_id}-again", document=source, refresh=True)

    # The lost page never comes back: it is reported as lost at the deadline, not as a timeout.
    after = account(stack.es, stack.redis, markers(PAGES, tag), deadline_s=20)
    recount = stack.progress(batch_id)
    stack.figures("injected loss and duplicate", **after.figures(), counted_indexed=recount["indexed"],
                  counted_failed=recount["failed"], looked_up_after_s=after.waited_s)

    assert after.lost == [lost], after.figures()
    assert after.duplicated == [twice] and sorted(after.indexed[twice]) == sorted([doc_id, f"{doc_id}-again"])
    assert after.n_indexed == PAGES - 1 and after.both == []
    # What the batch's counters say: every page indexed once, before and after.
    assert counted["indexed"] == recount["indexed"] == PAGES and recount["failed"] == 0, recount
