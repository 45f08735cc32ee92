"""The producer's packing and in-order publishing (``workers/delivery/publisher.py``), with a
stand-in publish function: what reaches Redis is covered by the integration and fault tests."""

import random
import time

import pytest

from workers.delivery.publisher import Group, OrderedPublisher, pack_group
from workers.models import RawPage

pytestmark = pytest.mark.unit


def _groups(n_groups: int, per_group: int, size: int = 2000) -> list[Group]:
    groups, seq = [], 0
    for _ in range(n_groups):
        group = Group()
        for _ in range(per_group):
            group.add(RawPage(content=random.randbytes(size), source=f"p{seq}"), seq)
            seq += 1
        groups.append(group)
    return groups


def _run(publish, groups, *, bundle_bytes=10**6):
    sender = OrderedPublisher(publish, pack=lambda g: pack_group(g, batch_id="b", max_page_bytes=10**6, bundle_bytes=bundle_bytes),
                     max_in_flight=3)
    finished = []
    try:
        for group in groups:
            sender.send(group)
            finished.extend((g, f.result()) for g, f in sender.finished())
        finished.extend((g, f.result()) for g, f in sender.finished(wait=True))
    finally:
        sender.close()
    return finished


def test_groups_are_published_in_input_order():
    published: list[list[int]] = []

    def publish(bundle):
        time.sleep(random.uniform(0, 0.003))
        published.append([m["seq"] for m in bundle])

    finished = _run(publish, _groups(12, 5))
    assert [seq for bundle in published for seq in bundle] == list(range(60))
    assert [g.seqs for g, _ in finished] == [list(range(k * 5, k * 5 + 5)) for k in range(12)]
    assert all(p.sent_pages == 5 and p.error is None and p.bundles == [[]] for _, p in finished)


def test_a_group_over_the_byte_budget_goes_as_several_bundles():
    published: list[list[int]] = []
    finished = _run(lambda b: published.append([m["seq"] for m in b]), _groups(1, 6, size=3000), bundle_bytes=9000)
    assert [len(b) for b in published] == [2, 2, 2] and finished[0][1].sent_bundles == 3


def test_publishing_stops_at_the_first_failure_and_the_rest_is_a_suffix():
    published: list[int] = []

    def publish(bundle):
        if len(published) >= 14:  # Redis is gone from the 15th page on
            raise ConnectionError("Redis went away")
        published.extend(m["seq"] for m in bundle)

    # Groups of 4 pages packed 2 per bundle: the failure falls in the middle of the fourth group.
    finished = _run(publish, _groups(6, 4, size=3000), bundle_bytes=7000)
    sent = [p.sent_pages for _, p in finished]
    assert sent == [4, 4, 4, 2, 0, 0] and published == list(range(14))
    assert isinstance(finished[3][1].error, ConnectionError)
    assert all(p.error is None for k, (_, p) in enumerate(finished) if k != 3)
    unsent = [s for g, p in finished for s in g.sources[p.sent_pages:]]
    assert unsent == [f"p{i}" for i in range(14, 24)]
