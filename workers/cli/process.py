"""``gleaner process``: every stage in this process, printing what would be indexed."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Annotated

import typer

from workers.cli.output import PathsArg, err, print_json
from workers.config import get_settings

if TYPE_CHECKING:
    from workers.offline import PageFailure, ProcessedPage


def process(
    paths: PathsArg,
    index: Annotated[bool, typer.Option("--index", help="Also write the documents to Elasticsearch.")] = False,
) -> None:
    """Offline: all stages in this process; prints exactly what would be indexed."""
    from workers.offline import PageFailure, index_documents, process_inputs

    settings = get_settings()
    failed = 0

    def printed(items: Iterable[ProcessedPage | PageFailure]) -> Iterator[ProcessedPage]:
        nonlocal failed
        for item in items:
            if isinstance(item, PageFailure):
                failed += 1
                err.print(json.dumps(item.as_dict(), ensure_ascii=False), highlight=False, soft_wrap=True)
                continue
            print_json(item.document.model_dump(mode="json"))
            yield item

    documents = printed(process_inputs(paths, settings))
    if not index:
        for _ in documents:
            pass
    else:
        for result in index_documents(documents, settings):
            if isinstance(result, PageFailure):
                failed += 1
                err.print(f"index failed for {result.source}: {result.error}: {result.reason}", highlight=False,
                          soft_wrap=True)
    raise typer.Exit(1 if failed else 0)
