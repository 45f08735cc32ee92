"""What the delivery engine (``workers/delivery/bundles.py``) records of a page, with stand-ins for
Redis and the stores (its other decisions: ``tests/faults/test_delivery_config.py``)."""

from types import SimpleNamespace

import pytest

import workers.delivery.bundles as bundles
from workers.models import PageRef

pytestmark = pytest.mark.unit


class _Stores:
    def __init__(self) -> None:
        self.recorded: list[dict] = []
        self.finished: list[tuple] = []
        self.counted: list[tuple] = []

    def record(self, **kwargs):
        self.recorded.append(kwargs)

    def finish_many(self, batch_id, seqs, outcome):
        self.finished.append((batch_id, list(seqs), outcome))

    def stage_done(self, stage, batch_id, n=1):
        self.counted.append((stage, batch_id, n))


@pytest.fixture
def stores(monkeypatch):
    stores, sent = _Stores(), []
    monkeypatch.setattr(bundles, "failure_store", lambda: stores)
    monkeypatch.setattr(bundles, "progress_store", lambda: stores)
    monkeypatch.setattr(bundles, "_send", lambda route, messages: sent.append((route, messages)))
    stores.sent = sent
    return stores


def _task():
    request = SimpleNamespace(id="t", retries=0, delivery_info={}, chain=None)
    return SimpleNamespace(request=request, name="gleaner.parse")


def test_a_failure_is_recorded_about_the_page_the_stage_found_in_its_record(stores):
    message = {"source": "p.jsonl#4", "batch_id": "b", "seq": 3, "content_z": "...", "record": "jsonl"}
    found = PageRef(source="p.jsonl#4", url="https://x.org/in-the-record", collection="own", batch_id="b", seq=3)

    def work(messages):
        return bundles.BundleOutcome(failed=[(messages[0], bundles.PageFailure("too_short_after_cleaning", "3 words",
                                                                                 found))])

    bundles.deliver(_task(), "parse", [message], work, next_tasks=("enrich",))
    (record,) = stores.recorded
    assert (record["url"], record["collection"], record["source"]) == ("https://x.org/in-the-record", "own",
                                                                       "p.jsonl#4")
    assert record["payload"] == message, "the message as it came, to retry it"
    assert stores.finished == [("b", [3], "failed")] and not stores.sent


def test_pages_done_go_on_to_the_next_stage_and_count_for_their_batches(stores):
    messages = [{"source": f"p{i}", "batch_id": "b1" if i < 2 else "b2", "seq": i} for i in range(3)]
    bundles.deliver(_task(), "parse", messages, lambda ms: bundles.BundleOutcome(done=[(m, {"n": m["seq"]}) for m in ms]),
                    next_tasks=("enrich-task", "index-task"))
    assert stores.sent == [(("enrich-task", "index-task"), [{"n": 0}, {"n": 1}, {"n": 2}])]
    assert stores.counted == [("parse", "b1", 2), ("parse", "b2", 1)] and not stores.finished
