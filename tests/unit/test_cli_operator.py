"""Formatting and selection helpers of the operator commands (no services)."""

from __future__ import annotations

import base64
import json
import logging
import zlib
from datetime import datetime, timedelta, timezone

import pytest
import typer
from rich.console import Console

from workers import cli, logs
from workers.models import FailureRecord
from workers.store.elastic import HIGHLIGHT_POST, HIGHLIGHT_PRE, search_body
from workers.store.progress import BatchProgress, window_rate

pytestmark = pytest.mark.unit


def render(renderable, width: int = 100) -> str:
    console = Console(width=width, record=True, color_system=None, file=open("/dev/null", "w"))
    console.print(renderable)
    return console.export_text()


# --- numbers --------------------------------------------------------------------------------

def test_number_formats():
    assert cli.fmt_rate(None) == "-" and cli.fmt_rate(0.04) == "0.04/s" and cli.fmt_rate(12.34) == "12.3/s"
    assert cli.fmt_rate(4321.2, " pages/s") == "4,321 pages/s"
    assert cli.fmt_duration(None) == "-" and cli.fmt_duration(7.4) == "0:00:07" and cli.fmt_duration(3723) == "1:02:03"
    assert cli.fmt_duration(2 * 86400 + 5) == "2d 0:00:05"
    assert cli.fmt_elapsed(3.21) == "3.2s" and cli.fmt_elapsed(125) == "2m 05s" and cli.fmt_elapsed(3720) == "1h 02m"
    assert cli.fmt_bytes(512) == "512 B" and cli.fmt_bytes(1_900_000) == "1.9 MB" and cli.fmt_bytes(None) == "-"
    assert cli.fmt_age(100.0, now=112.0) == "12s ago" and cli.fmt_age(0.0, now=300.0) == "5 min ago"
    assert cli.fmt_age(0.0, now=3 * 86400) == "3 days ago" and cli.fmt_age(None) == "-"
    assert cli.plural(1, "page") == "1 page" and cli.plural(1200, "page") == "1,200 pages"


def test_sparkline_scales_to_the_largest_and_marks_zero():
    assert cli.sparkline([0, 0]) == "··"
    line = cli.sparkline([0, 1, 5, 10])
    assert line[0] == "·" and line[-1] == "█" and len(line) == 4
    assert cli.sparkline([]) == ""


def test_rate_meter_uses_a_sliding_window():
    meter = cli.RateMeter(window_s=10)
    assert meter.rate() is None
    meter.add(0.0, 0)
    meter.add(0.5, 5)
    assert meter.rate() is None  # under a second of samples
    for t in range(1, 31):
        meter.add(float(t), t * 10)
    assert meter.rate() == pytest.approx(10.0)
    meter.add(31.0, 0)  # a counter that goes back restarts the meter
    assert meter.rate() is None


def test_window_rate_counts_the_oldest_minute_for_its_part_in_the_window():
    now = 60 * 1000 + 15  # 15 s into the current minute
    assert window_rate([60, 30], now, 1) == pytest.approx((30 + 60 * 0.75) / 60)
    assert window_rate([0, 0, 0], now, 2) == 0
    assert window_rate([120], now, 5) == pytest.approx(120 / 300)


# --- submit progress ------------------------------------------------------------------------

def _view(**kw) -> cli.BatchView:
    base = dict(batch_id="20261124T210501-1f2e3a", elapsed_s=12.0, submitting=False, submitted=100,
                bytes_submitted=2_000_000, parsed=90, enriched=80, indexed=70, failed=5,
                rates={"finished": 5.0, "submitted": 100.0})
    return cli.BatchView(**{**base, **kw})


def test_plain_progress_line():
    line = cli.plain_progress_line(_view())
    assert line == ("[0:00:12] 75/100 done | parsed 90 | enriched 80 | indexed 70 | failed 5 | 5.00 pages/s"
                    " | ETA 0:00:05")
    submitting = cli.plain_progress_line(_view(submitting=True, submitted=1_000_000))
    assert submitting.startswith("[0:00:12] submitting 1,000,000 pages (2.0 MB, 100 pages/s) | parsed 90")
    assert "ETA" not in submitting
    assert cli.plain_progress_line(_view(submitting=True, follow=False)) == \
        "[0:00:12] submitting 100 pages (2.0 MB, 100 pages/s)"


def test_eta_is_unknown_while_submitting_or_without_a_rate():
    assert _view().eta_s == pytest.approx(5.0)
    assert _view(submitting=True).eta_s is None
    assert _view(rates={}).eta_s is None
    assert _view(indexed=95).eta_s == 0.0


def test_live_display_renders_every_stage():
    text = render(cli.progress_renderable(_view()))
    for expected in ("submitted", "parsed", "enriched", "indexed", "failed", "90 / 100", "ETA 0:00:05",
                     "batch 20261124T210501-1f2e3a"):
        assert expected in text
    assert "submitting" in render(cli.progress_renderable(_view(submitting=True)))


class FakeProgress:
    def __init__(self) -> None:
        self.state = BatchProgress("b", submitted=0, parsed=0, enriched=0, indexed=0, failed=0, done_submitting=False)
        self.reads = 0

    def get(self, batch_id):
        self.reads += 1
        return self.state


def test_batch_monitor_reads_at_most_every_poll_interval_and_measures_rates():
    clock = [0.0]
    store = FakeProgress()
    monitor = cli.BatchMonitor(store, "b", poll_s=1.0, clock=lambda: clock[0])
    monitor.poll()
    monitor.poll()
    assert store.reads == 1
    for t in range(1, 11):
        clock[0] = float(t)
        store.state = BatchProgress("b", 100, parsed=10 * t, enriched=10 * t, indexed=9 * t, failed=t,
                                    done_submitting=True)
        monitor.poll()
    view = monitor.view()
    assert view.submitted == 100 and view.finished == 100 and view.rates["finished"] == pytest.approx(10.0)


class FakeSummary:
    def __init__(self, n: int) -> None:
        self.submitted, self.bytes_submitted = n, n * 1000


def test_batch_monitor_without_following_only_counts_the_submission():
    monitor = cli.BatchMonitor(FakeProgress(), "b", follow=False)
    monitor.on_submit(FakeSummary(500))
    assert monitor.poll() is None
    view = monitor.view()
    assert view.submitted == 500 and view.bytes_submitted == 500_000 and view.submitting
    monitor.end_submit(FakeSummary(700))
    assert not monitor.view().submitting and monitor.view().submitted == 700


# --- search ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("value", "expected"), [
    ("7d", "now-7d"), ("2w", "now-2w"), ("6M", "now-6M"), ("1y", "now-1y"), ("now-7d/d", "now-7d/d"),
    ("2020-09-23", "2020-09-23||/d"), ("2020-09", "2020-09||/M"), ("2020", "2020||/y"),
    ("2020-09-23T10:00:00Z", "2020-09-23T10:00:00Z"),
])
def test_date_bounds(value, expected):
    assert cli.parse_date_bound(value) == expected


@pytest.mark.parametrize("value", ["yesterday", "2020-13-45T99", "now-7x", "7 days"])
def test_bad_date_bounds_are_refused(value):
    with pytest.raises(typer.BadParameter):
        cli.parse_date_bound(value)


def test_search_body_filters_and_facets():
    body = search_body("gantz esper", persons=["Mark Esper"], organizations=["Pentagon"], locations=["Iran"],
                       sites=["www.JPost.com"], collections=["a", "b"], languages=["EN"], since="now-7d",
                       until="2020-09-23||/d", size=5, offset=10)
    query = body["query"]["bool"]
    assert query["must"][0]["simple_query_string"]["default_operator"] == "and"
    filters = json.dumps(query["filter"])
    for expected in ('"persons": {"value": "Mark Esper", "case_insensitive": true}', '"organizations"',
                     '"locations"', '"domain": {"value": "jpost.com"', '"*.jpost.com"', '"collection": ["a", "b"]',
                     '"language": ["en"]', '"published_at": {"gte": "now-7d", "lte": "2020-09-23||/d"}'):
        assert expected in filters, expected
    assert body["size"] == 5 and body["from"] == 10
    assert set(body["aggs"]) == {"persons", "organizations", "places", "sites"}
    assert body["aggs"]["places"]["terms"]["field"] == "locations" and body["aggs"]["sites"]["terms"]["field"] == "domain"
    assert body["_source"] == {"excludes": ["entities"]} and "sort" not in body
    everything = search_body("  ", with_entities=True)
    assert everything["query"]["bool"]["must"] == [{"match_all": {}}] and "_source" not in everything
    assert everything["sort"][0] == {"published_at": {"order": "desc", "missing": "_last"}}


def test_highlighted_terms_are_bold_on_a_terminal_and_bracketed_otherwise():
    fragment = f"{HIGHLIGHT_PRE}Gantz{HIGHLIGHT_POST} met\nwith {HIGHLIGHT_PRE}Esper{HIGHLIGHT_POST}."
    plain = cli.highlighted(fragment, styled=False)
    assert plain.plain == "[Gantz] met with [Esper]."
    styled = cli.highlighted(fragment, styled=True)
    assert styled.plain == "Gantz met with Esper." and [s.style for s in styled.spans] == ["bold yellow"] * 2


def test_a_hit_shows_title_site_date_url_and_snippet():
    hit = {"_id": "x", "_score": 3.5, "_source": {"title": "Gantz in US [talks]", "domain": "jpost.com",
                                                  "published_at": "2020-09-23T00:32:00Z", "language": "en",
                                                  "url": "https://www.jpost.com/x", "body": "long body"},
           "highlight": {"body": [f"{HIGHLIGHT_PRE}Gantz{HIGHLIGHT_POST} met", "later"]}}
    text = render(cli.render_hit(1, hit, styled=False))
    assert "1. Gantz in US [talks]" in text
    assert "jpost.com · 2020-09-23 · en · score 3.50" in text and "https://www.jpost.com/x" in text
    assert "[Gantz] met … later" in text
    no_highlight = {"_id": "y", "_score": None, "_source": {"body": "word " * 100, "source": "/tmp/a.txt"}}
    text = render(cli.render_hit(2, no_highlight, styled=False))
    assert "(no title)" in text and "/tmp/a.txt" in text and "…" in text


def test_facets_list_the_top_values():
    aggs = {"persons": {"buckets": [{"key": "Mark Esper", "doc_count": 3}]}, "sites": {"buckets": []}}
    text = render(cli.render_facets(aggs))
    assert "persons" in text and "Mark Esper (3)" in text and "sites" not in text
    assert cli.render_facets({}) is None


# --- failures -------------------------------------------------------------------------------

def _record(rid: str, stage="parse", error="binary_content", reason="not a web page: looks like PNG image",
            minutes_ago: int = 1, payload=None, **kw) -> FailureRecord:
    when = datetime.now(timezone.utc) - timedelta(minutes=minutes_ago)
    return FailureRecord(id=rid, stage=stage, error=error, reason=reason, source=kw.pop("source", f"/data/{rid}.html"),
                         first_failed_at=when, last_failed_at=when, payload=payload, **kw)


def _parse_payload(raw: bytes) -> dict:
    return {"content_z": base64.b64encode(zlib.compress(raw)).decode(), "size": len(raw), "source": "/x",
            "batch_id": "b"}


def test_select_and_group_failures():
    records = [_record("a1", payload=_parse_payload(b"x"), batch_id="b1", minutes_ago=5),
               _record("a2", payload=_parse_payload(b"x"), batch_id="b2", minutes_ago=1),
               _record("c1", stage="submit", error="refused_at_submit", reason="too big", collection="c")]
    assert [r.id for r in cli.select_failures(records, batch="b1")] == ["a1"]
    assert [r.id for r in cli.select_failures(records, reason="refused_at_submit", collection="c")] == ["c1"]
    assert [r.id for r in cli.select_failures(records, stage="parse")] == ["a1", "a2"]
    groups = cli.group_failures(records)
    assert [key for key, _ in groups] == [("parse", "binary_content"), ("submit", "refused_at_submit")]
    assert [r.id for r in groups[0][1]] == ["a2", "a1"], "newest first"
    assert cli.is_retryable(records[0]) and not cli.is_retryable(records[2])


def test_failure_groups_render_reason_ids_and_hints():
    records = [_record("a1aaaaaaaaaaaaaaaaaa", payload=_parse_payload(b"x")),
               _record("c1cccccccccccccccccc", stage="submit", error="refused_at_submit", reason="too big"),
               _record("d1dddddddddddddddddd", stage="enrich", error="internal_error", reason="boom", payload={"x": 1}),
               _record("d2dddddddddddddddddd", stage="enrich", error="internal_error", reason="bang", payload={"x": 1})]
    text = "\n".join(render(part) for part in cli.render_failure_groups(records, limit=1))
    assert text.startswith("4 failed pages, 3 retryable")
    assert "parse · binary_content · 1 page" in text and "not a web page: looks like PNG image" in text
    assert "a1aaaaaaaa" in text and "/data/a1aaaaaaaaaaaaaaaaaa.html" in text
    assert "submit · refused_at_submit · 1 page  (not retryable: resubmit the file)" in text
    assert "enrich · internal_error · 2 pages" in text and "... and 1 more (--reason internal_error --limit 0)" in text
    assert "gleaner failures show ID" in text
    assert cli.render_failure_groups([])[0].plain == "0 failed pages, 0 retryable"


def test_page_excerpt_of_each_stage():
    png = b"\x89PNG\r\n\x1a\n" + bytes(40)
    binary = cli.page_excerpt(_record("p", payload=_parse_payload(png)))
    assert binary.kind == "raw page" and binary.size == len(png) and binary.note == "binary: PNG image"
    assert binary.text.startswith("00000000  89 50 4e 47 0d 0a 1a 0a") and binary.data == png
    html = "<html><body><p>Caf\u00e9 short page</p></body></html>".encode("cp1252")
    text = cli.page_excerpt(_record("t", error="empty_after_cleaning", payload=_parse_payload(html)), max_chars=20)
    assert text.text == "<html><body><p>Café " and text.size == len(html) and text.data == html
    broken = cli.page_excerpt(_record("z", payload={"content_z": "!!not base64"}))
    assert broken.text == "" and "cannot be decoded" in broken.note
    enrich = cli.page_excerpt(_record("e", stage="enrich", error="internal_error",
                                      payload={"extraction": {"title": "T", "body": "Cleaned body."}}))
    assert enrich.kind == "cleaned body" and enrich.text == "T\n\nCleaned body." and enrich.size == len("Cleaned body.")
    index = cli.page_excerpt(_record("i", stage="index", error="rejected_by_index",
                                     payload={"doc_id": "x", "document": {"title": None, "body": "Doc body."}}))
    assert index.kind == "document body" and index.text == "Doc body."
    assert cli.page_excerpt(_record("s", stage="submit", error="refused_at_submit")) is None


def test_hexdump():
    assert cli.hexdump(b"AB\x00") == "00000000  41 42 00" + " " * 40 + " AB."
    assert len(cli.hexdump(bytes(1000)).splitlines()) == 8


# --- status ---------------------------------------------------------------------------------

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
    text = "\n".join(render(part, width=120) for part in cli.render_status(report))
    for expected in ("Redis          ok  redis://127.0.0.1:6379/0 · 7.0.15 · 2.0 MB used · AOF on",
                     "green  http://127.0.0.1:9200 · 9.5.3 · 1 node · pages -> pages-000001",
                     "Documents      25", "none!", "200", "0.50", "0.25", "0.10", "█",
                     "unacked: 2", "2 pages in the failure store (1 retryable)", "parse/binary_content",
                     "Recent batches", "20261124T210501-1f2e3a", "demo", "done", "25/25", "failed 1"):
        assert expected in text, expected
    down = "\n".join(render(p) for p in cli.render_status({"redis": "down: ConnectionError", "elasticsearch": "down: X"}))
    assert "down: ConnectionError" in down and "down: X" in down


def test_safe_url_hides_passwords():
    assert cli._safe_url("redis://:secret@redis:6379/0") == "redis://:***@redis:6379/0"
    assert cli._safe_url("http://elastic:pw@es:9200") == "http://elastic:***@es:9200"
    assert cli._safe_url("http://127.0.0.1:9200") == "http://127.0.0.1:9200"


# --- worker logs ----------------------------------------------------------------------------

def _celery_app():
    from celery import Celery

    app = Celery("gleaner-test", broker="memory://")
    app.conf.task_always_eager = True
    return app


@pytest.mark.parametrize("json_lines", [False, True])
def test_worker_lines_carry_the_page_fields(json_lines):
    import io

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    root = logging.getLogger()
    saved = [(h, h.formatter, list(h.filters)) for h in root.handlers]
    root.addHandler(handler)
    old_level = root.level
    root.setLevel(logging.INFO)
    try:
        logs.install(json_lines)
        app = _celery_app()
        log = logging.getLogger("gleaner.worker")

        @app.task(name="gleaner.enrich", bind=True)
        def enrich(self, message):
            log.info("page done", extra={"stage": "enrich", "source": message["source"], "duration_ms": 3.2})
            logging.getLogger("some.library").warning("a library speaks")
            return {"doc_id": message["doc_id"], "body": "x" * 5000}

        enrich.delay({"doc_id": "d0c1d", "source": "/data/a b.html", "batch_id": "B1", "seq": 4, "url": None,
                      "extraction": {"body": "..."}})
        log.info("outside any task")
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
        for h, formatter, filters in saved:  # pytest's own handlers
            h.setFormatter(formatter)
            h.filters[:] = filters
    lines = stream.getvalue().splitlines()
    by_message = {}
    for line in lines:
        if json_lines:
            entry = json.loads(line)
            by_message[entry["message"].split(":")[0]] = entry
        else:
            by_message[line.split("] ", 1)[1].split(" stage=")[0].split(":")[0]] = line
    if json_lines:
        done = by_message["page done"]
        assert (done["stage"], done["doc_id"], done["batch_id"], done["seq"], done["source"]) == \
            ("enrich", "d0c1d", "B1", 4, "/data/a b.html")
        assert done["duration_ms"] == 3.2 and done["elapsed_ms"] >= 0 and done["task_id"]
        library = by_message["a library speaks"]
        assert library["doc_id"] == "d0c1d" and library["stage"] == "enrich" and library["level"] == "WARNING"
        trace = next(v for k, v in by_message.items() if k.startswith("Task gleaner.enrich"))
        assert trace["message"].endswith("doc_id=d0c1d") and trace["duration_ms"] >= 0 and "xxxx" not in trace["message"]
        outside = by_message["outside any task"]
        assert "stage" not in outside and "doc_id" not in outside
        assert list(done)[:5] == ["time", "level", "logger", "process", "message"]
    else:
        done = next(line for line in lines if "page done" in line)
        assert ' stage=enrich doc_id=d0c1d batch_id=B1 seq=4 source="/data/a b.html" ' in done
        assert "duration_ms=3.2" in done and "elapsed_ms=" in done and "task_id=" in done
        assert all("xxxxx" not in line for line in lines)


def test_page_fields_of_each_message():
    assert logs.page_fields({"source": "s", "url": "u", "batch_id": "b", "seq": 0, "content_z": "..."}) == \
        {"batch_id": "b", "seq": 0, "source": "s", "url": "u"}
    assert logs.page_fields({"doc_id": "d", "seq": 3, "document": {"source": "s", "batch_id": "b", "url": None}}) == \
        {"doc_id": "d", "batch_id": "b", "seq": 3, "source": "s"}
    assert logs.page_fields(["not", "a", "dict"]) == {}


def test_status_is_ok_only_with_redis_elasticsearch_and_a_worker_per_queue():
    healthy = {"redis": "ok", "elasticsearch": "yellow", "workers": {"parse": ["p"], "enrich": ["e"], "index": ["i"]}}
    assert cli.status_ok(healthy)
    assert not cli.status_ok({**healthy, "redis": "down: ConnectionError"})
    assert not cli.status_ok({**healthy, "elasticsearch": "red"})
    assert not cli.status_ok({**healthy, "workers": {"parse": ["p"], "enrich": [], "index": ["i"]}})
