"""Per-stage rates of the progress store (``workers/store/progress.py``; what Redis holds: the
integration suite)."""

import pytest

from workers.store.progress import RATE_SERIES, BatchProgress, window_rate

pytestmark = pytest.mark.unit


def test_window_rate_counts_the_oldest_minute_for_its_part_in_the_window():
    now = 60 * 1000 + 15  # 15 s into the current minute
    assert window_rate([60, 30], now, 1) == pytest.approx((30 + 60 * 0.75) / 60)
    assert window_rate([0, 0, 0], now, 2) == 0
    assert window_rate([120], now, 5) == pytest.approx(120 / 300)


def test_rates_and_batch_counters_follow_the_pipeline():
    assert RATE_SERIES == ("submit", "parse", "enrich", "index", "failed")
    batch = BatchProgress("b", submitted=10, parsed=9, enriched=8, indexed=6, failed=1, done_submitting=True)
    assert [batch.done(stage) for stage in ("parse", "enrich", "index")] == [9, 8, 6]
    assert batch.finished == 7 and not batch.complete
