#!/usr/bin/env python3
"""Plain-text news items through the parse stage: how many become documents, and how well the
headline, the dateline and the story come out.

Items: the 216 Reuters stories of ``../shared/bench/entities-dev/conll/txt`` (CoNLL-2003 dev,
with results tables and standings lists; ``gold/*.json`` says ``kind`` prose/list and holds the
headline as ``title``). Evaluation only: nothing is trained on them.

Per item: rejected or not (and why), title equal to the gold headline, published_at and the
dateline's place found, and the body: every word after the headline and dateline present, in
order (``body_exact``), and nothing else. Last line:
``items N documents D rejected R (list L, prose P) title T date D place P body B ms_per_item M``.

    .venv/bin/python ops/bench/bench_text_items.py [--show-failures]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from workers.models import RawPage  # noqa: E402
from workers.errors import PermanentPageError  # noqa: E402
from workers.stages.parse import ParseLimits, parse_page  # noqa: E402
from workers.stages.textdump.model import load_line_model  # noqa: E402

WORD = re.compile(r"\w+")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "bench" / "entities-dev" / "conll")
    ap.add_argument("--model-dir", type=Path, default=None, help="model files replacing the shipped ones")
    ap.add_argument("--show-failures", action="store_true")
    args = ap.parse_args()
    limits = ParseLimits()
    rejected: Counter[tuple[str, str]] = Counter()
    kinds: Counter[str] = Counter()
    title_ok = date_ok = place_ok = body_ok = 0
    spent = 0.0
    files = sorted((args.data / "txt").glob("*.txt"))
    load_line_model(args.model_dir)  # loaded once per process, as a worker does: not part of the timing
    for path in files:
        gold = json.loads((args.data / "gold" / f"{path.stem}.json").read_text())
        kinds[gold["kind"]] += 1
        text = path.read_text(encoding="utf-8")
        started = time.perf_counter()
        try:
            ex = parse_page(RawPage(content=text.encode(), source=path.name, kind="text"), limits=limits,
                            model_dir=args.model_dir).extraction
        except PermanentPageError as err:
            spent += time.perf_counter() - started
            rejected[(err.code, gold["kind"])] += 1
            if args.show_failures:
                print(f"REJECTED {path.stem} {gold['kind']} {err.code}: {err}")
            continue
        spent += time.perf_counter() - started
        title_ok += ex.title == gold["title"]
        date_ok += ex.published_at is not None
        place_ok += ex.dateline is not None
        # the story: every line after the headline (and a byline) and the dateline, in order
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        start = next((i + 1 for i, line in enumerate(lines[:4]) if re.search(r"\d{4}-\d{2}-\d{2}\s*$", line)), 1)
        want = WORD.findall(" ".join(lines[start:]))
        got = WORD.findall(ex.body)
        exact = got == want
        body_ok += exact
        if args.show_failures and (not exact or ex.title != gold["title"] or ex.published_at is None):
            print(f"DIFF {path.stem}: title={ex.title!r} date={ex.published_at} place={ex.dateline!r} "
                  f"body_exact={exact}")
    n = len(files)
    rej = sum(rejected.values())
    by_kind = Counter()
    for (code, kind), count in rejected.items():
        by_kind[kind] += count
    print("rejected by reason:", dict(rejected) or "none")
    print(f"items {n} documents {n - rej} rejected {rej} (list {by_kind['list']}, prose {by_kind['prose']}) "
          f"title {title_ok / max(1, n - rej):.3f} date {date_ok / max(1, n - rej):.3f} "
          f"place {place_ok / max(1, n - rej):.3f} body {body_ok / max(1, n - rej):.3f} "
          f"ms_per_item {1000 * spent / max(1, n):.1f}")


if __name__ == "__main__":
    main()
