"""Worker log lines: the page's fields, bound once per page, on every line written meanwhile."""

from __future__ import annotations

import io
import json
import logging

import pytest

from workers import logs
from workers.models import PageRef

pytestmark = pytest.mark.unit


def _celery_app():
    from celery import Celery

    app = Celery("gleaner-test", broker="memory://")
    app.conf.task_always_eager = True
    return app


@pytest.fixture
def captured():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    root = logging.getLogger()
    saved = [(h, h.formatter, list(h.filters)) for h in root.handlers]
    root.addHandler(handler)
    old_level = root.level
    root.setLevel(logging.INFO)
    yield stream
    root.removeHandler(handler)
    root.setLevel(old_level)
    for h, formatter, filters in saved:  # pytest's own handlers
        h.setFormatter(formatter)
        h.filters[:] = filters


@pytest.mark.parametrize("json_lines", [False, True])
def test_worker_lines_carry_the_page_fields(captured, json_lines):
    logs.install(json_lines)
    app = _celery_app()
    log = logging.getLogger("gleaner.worker")
    page = PageRef(source="/data/a b.html", batch_id="B1", seq=4)

    @app.task(name="gleaner.enrich", bind=True)
    def enrich(self, messages):
        log.info("bundle started")
        with logs.page_context(page, doc_id="d0c1d"):
            log.info("page done", extra={"duration_ms": 3.2})
            logging.getLogger("some.library").warning("a library speaks")
        log.info("bundle done")

    enrich.delay([{"a": "bundle"}])
    log.info("outside any task")
    lines = captured.getvalue().splitlines()
    if json_lines:
        by_message = {json.loads(line)["message"].split(":")[0]: json.loads(line) for line in lines}
        done = by_message["page done"]
        assert (done["stage"], done["doc_id"], done["batch_id"], done["seq"], done["source"]) == \
            ("enrich", "d0c1d", "B1", 4, "/data/a b.html")
        assert done["duration_ms"] == 3.2 and done["elapsed_ms"] >= 0 and done["task_id"]
        library = by_message["a library speaks"]
        assert library["doc_id"] == "d0c1d" and library["stage"] == "enrich" and library["level"] == "WARNING"
        assert "doc_id" not in by_message["bundle done"] and by_message["bundle done"]["stage"] == "enrich", \
            "the page's fields are unbound after it"
        trace = next(v for k, v in by_message.items() if k.startswith("Task gleaner.enrich"))
        assert trace["stage"] == "enrich" and trace["duration_ms"] >= 0
        outside = by_message["outside any task"]
        assert "stage" not in outside and "doc_id" not in outside
        assert list(done)[:5] == ["time", "level", "logger", "process", "message"]
    else:
        done = next(line for line in lines if "page done" in line)
        assert ' stage=enrich doc_id=d0c1d batch_id=B1 seq=4 source="/data/a b.html" ' in done
        assert "duration_ms=3.2" in done and "elapsed_ms=" in done and "task_id=" in done


def test_bound_fields_never_override_a_line_s_own():
    record = logging.LogRecord("x", logging.INFO, "", 0, "m", (), None)
    record.stage = "parse"
    with logs.bind(stage="index", url=None, source="s"):
        logs.PageContextFilter().filter(record)
    assert record.stage == "parse" and record.source == "s" and not hasattr(record, "url")
