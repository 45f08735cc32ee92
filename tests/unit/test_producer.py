"""The producer's backpressure and how it counts what it skips (what reaches Redis: the
integration and fault suites)."""

import pytest

from workers.producer import _reason_group, wait_for_room

pytestmark = pytest.mark.unit


def test_the_producer_waits_while_the_first_queue_is_full():
    depths = iter([12, 11, 10, 3])
    heard = []
    waited = wait_for_room(lambda: next(depths), 10, poll_s=0.01, on_wait=heard.append)
    assert heard == [12, 11] and waited >= 0.02
    assert wait_for_room(lambda: 10**9, 0) == 0.0, "0 means no limit"


def test_skipped_inputs_are_counted_by_their_reason_without_details():
    assert _reason_group("corrupt gzip file: Not a gzipped file (b'\\x1f\\x8c')") == "corrupt gzip file"
    assert _reason_group("page is larger than the 10,485,760-byte cap (GLEANER_MAX_PAGE_BYTES); if it holds "
                         "several pages, name it .jsonl") == "page is larger than the 10,485,760-byte cap"
