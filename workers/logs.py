"""Worker log format: text or JSON lines, with each record's page fields (stage, source, ...)."""

from __future__ import annotations

import json
import logging
from datetime import datetime, timezone

_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime", "data"}


def _extras(record: logging.LogRecord) -> dict[str, object]:
    return {k: v for k, v in vars(record).items() if k not in _STANDARD and not k.startswith("_")}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **_extras(record),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class KeyValueFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("[%(asctime)s %(levelname)s %(processName)s] %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        extras = _extras(record)
        return line + ("".join(f" {k}={v}" for k, v in extras.items()) if extras else "")


# Libraries that log a line per request or per page at INFO/WARNING.
_QUIET = {"elastic_transport": logging.WARNING, "elasticsearch": logging.WARNING, "trafilatura": logging.ERROR,
          "htmldate": logging.ERROR, "courlan": logging.ERROR}


def install(json_lines: bool) -> None:
    formatter = JsonFormatter() if json_lines else KeyValueFormatter()
    for handler in logging.getLogger().handlers:
        handler.setFormatter(formatter)
    for name, level in _QUIET.items():
        logging.getLogger(name).setLevel(level)
