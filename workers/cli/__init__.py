"""The ``gleaner`` command line: one module per command, their rendering in ``*_view.py``."""

from __future__ import annotations

import typer

from workers.cli import failures, parse, process, schemas, search, setup, status, submit

app = typer.Typer(help="Gleaner: raw web pages in, clean, entity-tagged, searchable documents out.",
                  no_args_is_help=True, add_completion=False)
app.command()(submit.submit)
app.command()(parse.parse)
app.command()(process.process)
app.command()(status.status)
app.command()(search.search)
app.add_typer(failures.app, name="failures")
app.command()(setup.setup)
app.command(hidden=True)(schemas.schemas)

__all__ = ["app"]
