"""Scores of block predictions, with the reference scorers' own metrics: WCXB word F1
(``tools/wcxb_score.py``: ``word_prf``, ``snip``) per page type, ScrapingHub shingle F1
(``tools/extraction_score.py``: ``page_counts``, ``corpus_scores``), page-type accuracy."""

from __future__ import annotations

import importlib.util
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from ops.train.datasets import shared_dir  # noqa: E402
from workers.stages.html.features import PAGE_TYPES  # noqa: E402
from workers.stages.html.model import keep_blocks  # noqa: E402
from workers.stages.html.render import render  # noqa: E402

TYPES = list(PAGE_TYPES)


def _tool(name: str):
    path = shared_dir() / "tools" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"_tool_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


wcxb_tool = _tool("wcxb_score")
shingle_tool = _tool("extraction_score")


def wcxb_table(name: str, pages: list[tuple[str, str, str, tuple, tuple]]) -> dict:
    """pages: (page_type, gold, prediction, with_snippets, without_snippets). Prints and returns F1 per type."""
    by = defaultdict(list)
    for ptype, gold, pred, with_, without in pages:
        row = (*wcxb_tool.word_prf(pred, gold), wcxb_tool.snip(pred, list(with_)), wcxb_tool.snip(pred, list(without)),
               not pred)
        by[ptype].append(row)
        by["ALL"].append(row)
    print(f"  {name}")
    print(f"    {'type':<14}{'n':>5}{'F1':>8}{'P':>8}{'R':>8}{'with':>8}{'without':>9}{'empty':>7}")
    out = {}
    for t in TYPES + ["ALL"]:
        rows = by.get(t)
        if not rows:
            continue
        m = [sum(r[k] for r in rows) / len(rows) for k in range(5)]
        out[t] = m[2]
        print(f"    {t:<14}{len(rows):>5}{m[2]:>8.3f}{m[0]:>8.3f}{m[1]:>8.3f}{m[3]:>8.1%}{m[4]:>9.1%}"
              f"{sum(r[5] for r in rows):>7}")
    return out


def shingle_f1(pairs: list[tuple[str, str]]) -> tuple[float, float, float]:
    """(P, R, F1) over (gold, prediction) pairs, as extraction_score.py computes them."""
    counts = [shingle_tool.page_counts(gold, pred) for gold, pred in pairs]
    return shingle_tool.corpus_scores(counts)


THRESHOLD_GRID = np.round(np.arange(0.2, 0.701, 0.05), 2)


def f1_by_threshold(rows, scores: dict, grid=THRESHOLD_GRID) -> dict:
    """key -> word F1 of the page at each threshold of ``grid``."""
    out = {}
    for r in rows:
        key = r.id + r.dataset
        out[key] = np.asarray([
            wcxb_tool.word_prf(render(r.seg, keep_blocks(scores[key], r.tokens, t)), r.gold)[2] for t in grid
        ])
    return out


def tune_thresholds(keys: list[str], table: dict, types: dict, grid=THRESHOLD_GRID, min_pages: int = 20) -> dict:
    """The threshold of each predicted page type that gives its pages the best mean F1 (``default``:
    the best over all pages, used for a type with fewer than ``min_pages`` pages)."""
    best = {"default": float(grid[np.argmax(np.mean([table[k] for k in keys], axis=0))])}
    for i, page_type in enumerate(PAGE_TYPES):
        mine = [table[k] for k in keys if int(np.argmax(types[k])) == i]
        best[page_type] = float(grid[np.argmax(np.mean(mine, axis=0))]) if len(mine) >= min_pages else best["default"]
    return best


def threshold_of(thresholds: dict, type_probs: np.ndarray) -> float:
    return thresholds.get(PAGE_TYPES[int(np.argmax(type_probs))], thresholds["default"])


def report(title: str, rows, scores: dict, types: dict, thresholds: dict) -> dict:
    """Prints and returns the figures; ``thresholds``: key -> {page type: threshold} of that page's model."""
    print(f"\n{title}")
    wcxb, shub = [], []
    right, total = 0, 0
    confusion = defaultdict(int)
    for r in rows:
        key = r.id + r.dataset
        keep = keep_blocks(scores[key], r.tokens, threshold_of(thresholds[key], types[key]))
        text = render(r.seg, keep)
        if r.dataset == "wcxb":
            wcxb.append((r.page_type, r.gold, text, r.with_snippets, r.without_snippets))
            guess = PAGE_TYPES[int(np.argmax(types[key]))]
            right += guess == r.page_type
            total += 1
            confusion[(r.page_type, guess)] += 1
        else:
            shub.append((r.gold, text))
    out: dict = {}
    if wcxb:
        out["wcxb"] = wcxb_table("WCXB dev: word F1 (per page, averaged)", wcxb)
        out["page_type_accuracy"] = right / total
        print(f"    page type accuracy {right / total:.3f} of {total}")
        for t in TYPES:
            row = {g: confusion[(t, g)] for g in TYPES if confusion[(t, g)]}
            print(f"      {t:<14} -> {row}")
    if shub:
        p, rcl, f1 = shingle_f1(shub)
        out["scrapinghub"] = {"F1": f1, "P": p, "R": rcl, "pages": len(shub)}
        print(f"  ScrapingHub dev: shingle F1 {f1:.3f} P {p:.3f} R {rcl:.3f} pages {len(shub)}")
    return out
