"""Worker log format: text or JSON lines (``GLEANER_LOG_JSON``), each line about a page carrying
the page's fields.

The page's fields are bound once per page, where it is handled (``page_context``: its
``batch_id``, ``seq``, ``source``, ``url`` and, once known, ``doc_id``), and every line written
meanwhile carries them, whoever writes it: a stage, a library, the delivery engine. Lines written
while a worker runs a task also get ``stage``, ``task_id``, ``retries`` and ``elapsed_ms`` (time
since the task started); Celery's own per-task lines (received, succeeded, retry) get ``stage``,
``task_id`` and ``duration_ms``.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from workers.models import PageRef

_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime", "data"}
# Fields of a line about a page, in the order they are written; any other extra follows them.
PAGE_FIELDS = ("stage", "doc_id", "batch_id", "seq", "source", "url")
TRAILING_FIELDS = ("task_id", "retries", "elapsed_ms", "duration_ms")
_context: ContextVar[dict[str, Any]] = ContextVar("gleaner_log_context", default={})  # noqa: B039 - never mutated
_started: dict[str, float] = {}  # task id -> perf_counter() when it started


@contextmanager
def bind(**fields: Any) -> Iterator[None]:
    """Every log line written inside the block carries ``fields`` (None values are left out)."""
    token = _context.set({**_context.get(), **{k: v for k, v in fields.items() if v is not None}})
    try:
        yield
    finally:
        _context.reset(token)


@contextmanager
def page_context(page: PageRef | None, **fields: Any) -> Iterator[None]:
    """Every log line written inside the block is about ``page``."""
    if page is None:
        with bind(**fields):
            yield
        return
    with bind(batch_id=page.batch_id, seq=page.seq, source=page.source, url=page.url, **fields):
        yield


def _extras(record: logging.LogRecord) -> dict[str, object]:
    extras = {k: v for k, v in vars(record).items() if k not in _STANDARD and not k.startswith("_")}
    ordered = {k: extras.pop(k) for k in PAGE_FIELDS if k in extras}
    trailing = {k: extras.pop(k) for k in TRAILING_FIELDS if k in extras}
    return {**ordered, **extras, **trailing}


def _set(record: logging.LogRecord, key: str, value: Any) -> None:
    if value is not None and key not in vars(record):
        setattr(record, key, value)


def _stage_of_task(name: object) -> str | None:
    from workers.pipeline import PIPELINE, task_name

    return next((stage.name for stage in PIPELINE if task_name(stage.name) == name), None)


class PageContextFilter(logging.Filter):
    """Adds the bound page fields and the current task's to every record (never drops one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            self._enrich(record)
        except Exception:  # noqa: BLE001 - logging must never fail because of context
            pass
        return True

    def _enrich(self, record: logging.LogRecord) -> None:
        for key, value in _context.get().items():
            _set(record, key, value)
        task = _current_task()
        if task is not None:
            request = task.request
            _set(record, "stage", _stage_of_task(task.name))
            _set(record, "task_id", request.id)
            if request.retries:
                _set(record, "retries", request.retries)
            started = _started.get(request.id or "")
            if started is not None:
                _set(record, "elapsed_ms", round((time.perf_counter() - started) * 1000, 1))
        data = record.args if isinstance(record.args, dict) else None
        if data and "id" in data and "name" in data:  # Celery's per-task lines
            _set(record, "stage", _stage_of_task(data["name"]))
            _set(record, "task_id", data["id"])
            if "runtime" in data:
                _set(record, "duration_ms", round(float(data["runtime"]) * 1000, 1))


def _current_task() -> Any:
    try:
        from celery._state import get_current_task
    except ImportError:  # pragma: no cover
        return None
    task = get_current_task()
    if task is None or getattr(task.request, "called_directly", True):
        return None
    return task


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "process": record.processName,
            "message": record.getMessage(),
            **_extras(record),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def _kv(value: object) -> str:
    text = str(value)
    if not text or any(c.isspace() for c in text) or '"' in text or "=" in text:
        return json.dumps(text, ensure_ascii=False)
    return text


class KeyValueFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("[%(asctime)s %(levelname)s %(processName)s] %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        extras = _extras(record)
        return line + "".join(f" {k}={_kv(v)}" for k, v in extras.items())


# Libraries that log a line per request or per page at INFO/WARNING.
_QUIET = {"elastic_transport": logging.WARNING, "elasticsearch": logging.WARNING, "trafilatura": logging.ERROR,
          "htmldate": logging.ERROR, "courlan": logging.ERROR}


def _task_started(task_id: str | None = None, **_: Any) -> None:
    if task_id:
        _started[task_id] = time.perf_counter()


def _task_ended(task_id: str | None = None, **_: Any) -> None:
    if task_id:
        _started.pop(task_id, None)


def install(json_lines: bool) -> None:
    formatter = JsonFormatter() if json_lines else KeyValueFormatter()
    for handler in logging.getLogger().handlers:
        handler.setFormatter(formatter)
        if not any(isinstance(f, PageContextFilter) for f in handler.filters):
            handler.addFilter(PageContextFilter())
    for name, level in _QUIET.items():
        logging.getLogger(name).setLevel(level)
    try:
        from celery.signals import task_postrun, task_prerun
    except ImportError:  # pragma: no cover
        return
    task_prerun.connect(_task_started, weak=False, dispatch_uid="gleaner-logs-prerun")
    task_postrun.connect(_task_ended, weak=False, dispatch_uid="gleaner-logs-postrun")
