"""How gleaner status shows its report, and when it says the service is healthy."""

import pytest

from tests.unit.cli.conftest import render
from workers.cli.status_view import render_status, status_ok

pytestmark = pytest.mark.unit


def test_status_renders_health_stages_failures_and_batches():
    report = {
        "redis": "ok", "redis_info": {"url": "redis://127.0.0.1:6379/0", "version": "7.0.15", "used_memory": 2_000_000,
                                      "aof_enabled": True},
        "elasticsearch": "green",
        "elasticsearch_info": {"url": "http://127.0.0.1:9200", "version": "9.5.3", "nodes": 1, "alias": "pages",
                               "indices": {"pages-000001": {"write_index": True, "documents": 25, "size_bytes": 1000}}},
        "documents": 25,
        "queues": {"parse": 3, "enrich": 0, "index": 0, "unacked": 2},
        "workers": {"parse": ["parse@vm"], "enrich": [], "index": ["index@vm"]},
        "worker_pools": {"parse@vm": {"concurrency": 2}, "index@vm": {"concurrency": 200}},
        "stages": {s: {"total": 10, "per_s_1m": 0.5, "per_s_5m": 0.25, "per_s_15m": 0.1, "per_minute": [0] * 14 + [30]}
                   for s in ("submit", "parse", "enrich", "index", "failed")},
        "failures": {"stored": 2, "retryable": 1, "by_reason": {"parse/binary_content": 1, "submit/refused_at_submit": 1}},
        "batches": [{"batch_id": "20261124T210501-1f2e3a", "collection": "demo", "submitted": 25, "parsed": 25,
                     "enriched": 25, "indexed": 24, "failed": 1, "complete": True, "started_at": None}],
    }
    text = "\n".join(render(part, width=120) for part in render_status(report, bundle_pages=32))
    for expected in ("Redis          ok  redis://127.0.0.1:6379/0 · 7.0.15 · 2.0 MB used · AOF on",
                     "green  http://127.0.0.1:9200 · 9.5.3 · 1 node · pages -> pages-000001",
                     "Documents      25", "none!", "200", "0.50", "0.25", "0.10", "█",
                     "unacked: 2", "bundle of up to 32 pages", "2 pages in the failure store (1 retryable)",
                     "parse/binary_content", "Recent batches", "20261124T210501-1f2e3a", "demo", "done", "25/25",
                     "indexed 24", "failed 1"):
        assert expected in text, expected
    stages = [line.split()[0] for line in text.splitlines() if line.split() and line.split()[0] in
              ("submitted", "parse", "enrich", "index", "failed")]
    assert stages == ["submitted", "parse", "enrich", "index", "failed"], "the pipeline's order"
    down = "\n".join(render(p) for p in render_status({"redis": "down: ConnectionError", "elasticsearch": "down: X"},
                                                       bundle_pages=32))
    assert "down: ConnectionError" in down and "down: X" in down


def test_status_is_ok_only_with_redis_elasticsearch_and_a_worker_per_queue():
    healthy = {"redis": "ok", "elasticsearch": "yellow", "workers": {"parse": ["p"], "enrich": ["e"], "index": ["i"]}}
    assert status_ok(healthy)
    assert not status_ok({**healthy, "redis": "down: ConnectionError"})
    assert not status_ok({**healthy, "elasticsearch": "red"})
    assert not status_ok({**healthy, "workers": {"parse": ["p"], "enrich": [], "index": ["i"]}})


def test_status_shows_the_share_of_duplicates():
    from workers.cli.status_view import duplicates_text

    near = {"documents": 1000, "placed": 1000, "duplicates": 260, "stories": 740, "duplicate_share": 0.26}
    assert render(duplicates_text(near), width=200).strip() == (
        "26.0% of 1,000 documents are copies of a story indexed earlier (260); 740 stories")
    before = render(duplicates_text({**near, "documents": 1200}), width=200)
    assert "200 documents from before clusters (gleaner setup places them)" in before
    assert "none placed" in render(duplicates_text({**near, "placed": 0, "duplicate_share": None}))
    assert "unknown (ApiError: x)" in render(duplicates_text({"error": "ApiError: x"}), width=200)
    assert duplicates_text(None) is None
    report = {"redis": "down: X", "elasticsearch": "green", "documents": 1000, "near_duplicates": near}
    text = "\n".join(render(part, width=200) for part in render_status(report, bundle_pages=32))
    assert "Duplicates     26.0% of 1,000 documents" in text
