"""Worker log format: text or JSON lines (``GLEANER_LOG_JSON``), each line about a page carrying
the page's fields.

Every line a worker writes while it runs a task gets, unless the line already has them:
``stage``, ``doc_id`` (when known), ``batch_id``, ``seq``, ``source``, ``url`` (read from the
task's message), ``task_id`` and ``elapsed_ms`` (time since the task started). Celery's own
per-task lines (received, succeeded, ignored, retry) get ``stage`` and ``task_id`` too, and their
return value, which for the parse stage is a whole cleaned page, is cut to its ``doc_id``.
"""

from __future__ import annotations

import json
import logging
import re
import time
from datetime import datetime, timezone
from typing import Any

_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime", "data"}
# Fields of a line about a page, in the order they are written; any other extra follows them.
PAGE_FIELDS = ("stage", "doc_id", "batch_id", "seq", "source", "url")
TRAILING_FIELDS = ("task_id", "retries", "elapsed_ms", "duration_ms")
_STAGE_TASKS = {"gleaner.parse": "parse", "gleaner.enrich": "enrich", "gleaner.index": "index"}
_DOC_ID_IN_REPR = re.compile(r"""['"]doc_id['"]:\s*['"]([0-9A-Za-z_-]+)['"]""")
_started: dict[str, float] = {}  # task id -> perf_counter() when it started


def _extras(record: logging.LogRecord) -> dict[str, object]:
    extras = {k: v for k, v in vars(record).items() if k not in _STANDARD and not k.startswith("_")}
    ordered = {k: extras.pop(k) for k in PAGE_FIELDS if k in extras}
    trailing = {k: extras.pop(k) for k in TRAILING_FIELDS if k in extras}
    return {**ordered, **extras, **trailing}


def page_fields(message: Any) -> dict[str, Any]:
    """The page fields of a stage's message (parse: the raw page; enrich: the parsed page;
    index: the document), leniently: a malformed message gives what it has."""
    if not isinstance(message, dict):
        return {}
    doc = message.get("document") if isinstance(message.get("document"), dict) else {}
    fields = {
        "doc_id": message.get("doc_id"),
        "batch_id": message.get("batch_id") or doc.get("batch_id"),
        "seq": message.get("seq"),
        "source": message.get("source") or doc.get("source"),
        "url": message.get("url") or doc.get("url"),
    }
    return {k: v for k, v in fields.items() if v is not None}


def _set(record: logging.LogRecord, key: str, value: Any) -> None:
    if value is not None and key not in vars(record):
        setattr(record, key, value)


class PageContextFilter(logging.Filter):
    """Adds the current task's page fields to every record (never drops one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            self._enrich(record)
        except Exception:  # noqa: BLE001 - logging must never fail because of context
            pass
        return True

    def _enrich(self, record: logging.LogRecord) -> None:
        data = record.args if isinstance(record.args, dict) else None
        task = _current_task()
        if task is not None:
            request = task.request
            _set(record, "stage", _STAGE_TASKS.get(task.name))
            args = request.args or ()
            for key, value in page_fields(args[0] if args else None).items():
                _set(record, key, value)
            _set(record, "task_id", request.id)
            if request.retries:
                _set(record, "retries", request.retries)
            started = _started.get(request.id or "")
            if started is not None:
                _set(record, "elapsed_ms", round((time.perf_counter() - started) * 1000, 1))
        if data and "id" in data and "name" in data:  # Celery's per-task lines
            _set(record, "stage", _STAGE_TASKS.get(str(data["name"])))
            _set(record, "task_id", data["id"])
            if "return_value" in data:
                summary = dict(data)
                summary["return_value"] = _summarize(str(data["return_value"]))
                if "runtime" in data:
                    _set(record, "duration_ms", round(float(data["runtime"]) * 1000, 1))
                doc_id = _DOC_ID_IN_REPR.search(str(data["return_value"]))
                if doc_id:
                    _set(record, "doc_id", doc_id.group(1))
                record.args = summary


def _summarize(value: str) -> str:
    match = _DOC_ID_IN_REPR.search(value)
    if match:
        return f"doc_id={match.group(1)}"
    return value if len(value) <= 120 else value[:117] + "..."


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
