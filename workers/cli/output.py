"""Where the command line writes, and the options every command shares."""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import typer
from rich.console import Console

#: messages, progress and errors (stderr), so that stdout carries only results
err = Console(stderr=True, soft_wrap=True)
#: results
out = Console(highlight=False)

PathsArg = Annotated[list[str], typer.Argument(help="Files, folders, globs, .warc[.gz]/.wet[.gz], .jsonl, or - for stdin.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output, one JSON object per line.")]


def print_json(obj: Any) -> None:
    """One JSON object on one line of stdout."""
    sys.stdout.write(json.dumps(obj, ensure_ascii=False, default=str) + "\n")


def live_display() -> bool:
    """A live display only when both stdout and stderr are terminals."""
    return err.is_terminal and out.is_terminal and not err.is_dumb_terminal
