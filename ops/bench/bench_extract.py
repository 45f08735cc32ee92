#!/usr/bin/env python3
"""Main-text extraction benchmark: Gleaner's cleaners vs trafilatura and jusText, side by side.

Runs the shared scorer (``tools/extraction_score.py``) once per extractor and dev set, each in
its own process, and prints one table:

    set      extractor                  F1     P      R      pages/s
    html     gleaner clean_html         ...
    html     trafilatura precision      ...
    html     jusText                    ...
    text     gleaner clean_text_dump    ...
    ...

Data and tools come from the shared folder: ``../shared`` next to the repository root, or
``$GLEANER_SHARED_DIR``. Gleaner's adapters live in this file (``gleaner_html``,
``gleaner_text``) so the scorer can load them with ``--func this_file.py:NAME``; the others are
the shared adapters (``tools/extraction_adapters.py``). Always exits 0: a missing extractor or
data set is printed as ``n/a``.

    python ops/bench/bench_extract.py [--sets html,text] [--repeat N]
"""

from __future__ import annotations

import argparse
import importlib
import os
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve()
if str(HERE.parent) not in sys.path:  # also loaded by path, as the scorer's --func module
    sys.path.insert(0, str(HERE.parent))
from common import REPO, run_scorer, shared_dir  # noqa: E402

LAST_LINE = re.compile(r"F1 (?P<f1>[\d.]+) P (?P<p>[\d.]+) R (?P<r>[\d.]+) pages (?P<pages>\d+) pages_per_s (?P<speed>[\d.]+|nan|inf)")


def _repo_on_path() -> None:
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))


# ----------------------------------------------------------------------------- adapters (scorer --func)


def gleaner_html(html: str, url: str | None = None) -> str:
    """Gleaner's HTML stage, body only."""
    _repo_on_path()
    from workers.stages.clean_html import clean_html

    return clean_html(html, url or None).body


def gleaner_text(text: str, url: str | None = None) -> str:
    """Gleaner's text-dump stage, body only."""
    _repo_on_path()
    from workers.stages.textdump import clean_text_dump

    return clean_text_dump(text, url or None).body


# ----------------------------------------------------------------------------- runner


def _available(module: str, attr: str) -> bool:
    _repo_on_path()
    try:
        return hasattr(importlib.import_module(module), attr)
    except Exception:  # noqa: BLE001 - any import failure means "not there yet"
        return False


def score_extractor(scorer: Path, data: Path, func: str, pass_url: bool, repeat: int) -> dict | str:
    cmd = [sys.executable, str(scorer), "--data", str(data), "--func", func, "--bootstrap", "0", "--quiet"]
    if pass_url:
        cmd.append("--pass-url")
    if repeat > 1:
        cmd += ["--repeat", str(repeat)]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))
    return run_scorer(cmd, LAST_LINE, timeout=1800, env=env)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sets", default="html,text", help="comma-separated: html, text (default both)")
    ap.add_argument("--repeat", type=int, default=1, help="timing passes per extractor (speed of the first)")
    args = ap.parse_args()

    shared = shared_dir()
    scorer = shared / "tools" / "extraction_score.py"
    adapters = shared / "tools" / "extraction_adapters.py"
    me = str(HERE)
    plan = {
        "html": (
            shared / "bench" / "extraction-dev",
            [
                ("gleaner clean_html", f"{me}:gleaner_html", True, ("workers.stages.clean_html", "clean_html")),
                ("trafilatura precision", f"{adapters}:trafilatura_precision", False, None),
                ("jusText", f"{adapters}:justext_default", False, None),
            ],
        ),
        "text": (
            shared / "bench" / "textdump-dev",
            [
                ("gleaner clean_text_dump", f"{me}:gleaner_text", True, ("workers.stages.textdump", "clean_text_dump")),
                ("trafilatura precision", f"{adapters}:text_trafilatura_precision", False, None),
                ("jusText", f"{adapters}:text_justext_default", False, None),
            ],
        ),
    }

    print(f"shared: {shared}")
    header = f"{'set':<6} {'extractor':<25} {'F1':>6} {'P':>6} {'R':>6} {'pages':>6} {'pages/s':>8}"
    print(header)
    print("-" * len(header))
    for set_name in [s.strip() for s in args.sets.split(",") if s.strip()]:
        if set_name not in plan:
            print(f"{set_name:<6} unknown set")
            continue
        data, rows = plan[set_name]
        for label, func, pass_url, needs in rows:
            if not scorer.is_file() or not (data / "ground-truth.json").is_file():
                result: dict | str = "n/a (no shared data/tools)"
            elif needs and not _available(*needs):
                result = "n/a (not available)"
            else:
                result = score_extractor(scorer, data, func, pass_url, args.repeat)
            if isinstance(result, dict):
                print(
                    f"{set_name:<6} {label:<25} {float(result['f1']):>6.3f} {float(result['p']):>6.3f} "
                    f"{float(result['r']):>6.3f} {result['pages']:>6} {result['speed']:>8}",
                    flush=True,
                )
            else:
                print(f"{set_name:<6} {label:<25} {result}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
