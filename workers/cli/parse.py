"""``gleaner parse``: clean pages offline, one JSON object per page."""

from __future__ import annotations

import json

import typer

from workers.cli.output import PathsArg, err, print_json
from workers.config import get_settings


def parse(paths: PathsArg) -> None:
    """Offline: clean pages, print one JSON object per page (no services needed)."""
    from workers.offline import PageFailure, parse_inputs

    failed = 0
    for item in parse_inputs(paths, get_settings()):
        if isinstance(item, PageFailure):
            failed += 1
            err.print_json(json.dumps(item.as_dict()))
            continue
        print_json({"source": item.source, "url": item.url, "id": item.doc_id, "kind": item.kind,
                    **item.extraction.model_dump(mode="json"), "language": item.language})
    raise typer.Exit(1 if failed else 0)
