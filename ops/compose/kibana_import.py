#!/usr/bin/env python3
"""The compose stack's one-shot ``kibana-import`` step: wait for Kibana (bounded by
``GLEANER_KIBANA_WAIT_S``), then import ``ops/kibana/*.ndjson`` (same ids, overwritten: running it
again leaves the same objects). Exit 1 with what Kibana last answered when it was not available
in time or refused the objects."""

from __future__ import annotations

import sys


def _say(line: str) -> None:
    print(line, flush=True)


def main() -> int:
    from workers.config import get_settings
    from workers.store.kibana import KibanaError, import_saved_objects

    try:
        _say(import_saved_objects(get_settings(), progress=_say))
    except KibanaError as exc:
        _say(f"kibana-import failed: {exc}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
