#!/usr/bin/env python3
"""Main-content extraction benchmark (``make bench-extract``): Gleaner next to trafilatura, one run.

Every Gleaner figure on dev data is out of fold: the pages of fold k (five folds grouped by
registrable domain, ``ops/train/datasets.py``) are cleaned with the models trained without fold k
(``.cache/models/fold-k/``, through ``GLEANER_MODEL_DIR``). Missing fold models are trained first
(``ops/train/train_html.py --no-final``; the time it took is printed).

1. WCXB dev (1,497 pages, 7 page types): ``gleaner parse`` itself (the CLI, in chunks of 150 pages,
   start-up included), fold by fold, next to trafilatura default and favor_precision (comments
   off) on the same pages; word F1/P/R per page type, snippet rates, empty pages, metadata
   (title/author/date as ``gleaner parse`` gives them), page-type accuracy, pages/s. The tables
   and metrics are the reference scorer's (``tools/wcxb_score.py``).
2. ScrapingHub dev (HTML): shingle F1/P/R (``tools/extraction_score.py``'s metric) and pages/s
   (time inside the cleaning function), out of fold, with a model trained on WCXB only (its sites
   barely overlap), and trafilatura default/precision.
3. Text dumps (``textdump-dev``): the text-dump cleaner (``workers/stages/textdump``), out of fold
   (its fold models: ``ops/train/train_textdump.py cv``), next to trafilatura and jusText on the
   same dumps.

    python ops/bench/bench_extract.py [--sets wcxb,scrapinghub,text] [--limit N]

Timings are indicative unless the machine is quiet (run it under the heavy lock); CPU time (user+sys)
is printed beside the wall clock: it moves less when other work shares the machine.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import resource
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve()
REPO = HERE.parents[2]
for path in (str(REPO), str(HERE.parent)):
    if path not in sys.path:
        sys.path.insert(0, path)

from common import shared_dir  # noqa: E402

from ops.train.datasets import FOLDS, scrapinghub_pages, textdump_pages, wcxb_pages  # noqa: E402

MODELS = REPO / ".cache" / "models"
FOLD_MODEL = "html_blocks.lgb.txt.gz"
TEXTDUMP_FOLD_MODEL = "textdump_lines.lgb.txt.gz"


def _tool(name: str):
    spec = importlib.util.spec_from_file_location(f"_tool_{name}", shared_dir() / "tools" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def fold_dir(k: int) -> Path:
    return MODELS / f"fold-{k}"


def _train_if_missing(what: str, missing: list[int | str], present: str, command: list[str], how: str) -> None:
    """Run ``command`` (a training script) when some of its fold models are missing."""
    if not missing:
        print(f"{what}: {present} (present)")
        return
    print(f"{what} missing ({missing}): training them ({how}) ...", flush=True)
    started = time.time()
    subprocess.run(command, check=True, cwd=str(REPO))
    print(f"{what} trained in {time.time() - started:.0f} s")


def ensure_textdump_fold_models() -> None:
    """The text-dump cleaner's fold models (``ops/train/train_textdump.py cv``, which renders the
    WCXB pages with inscriptis, the ``train`` extra, on its first run)."""
    missing: list[int | str] = [k for k in range(FOLDS) if not (fold_dir(k) / TEXTDUMP_FOLD_MODEL).is_file()]
    _train_if_missing("text-dump fold models", missing, f"{MODELS}/fold-0..{FOLDS - 1}",
                      [sys.executable, "-m", "ops.train.train_textdump", "cv"], "ops/train/train_textdump.py cv")


def ensure_fold_models() -> None:
    missing: list[int | str] = [k for k in range(FOLDS) if not (fold_dir(k) / FOLD_MODEL).is_file()]
    if not (MODELS / "wcxb-only" / FOLD_MODEL).is_file():
        missing.append("wcxb-only")
    _train_if_missing("fold models", missing, f"{MODELS}/fold-0..{FOLDS - 1}, wcxb-only",
                      [sys.executable, str(REPO / "ops" / "train" / "train_html.py"), "--no-final", "--wcxb-only",
                       "--no-fit"], "ops/train/train_html.py --no-final --wcxb-only")


# ----------------------------------------------------------------------------- WCXB


def bench_wcxb(limit: int | None) -> None:
    tool = _tool("wcxb_score")
    data = shared_dir() / "bench" / "wcxb-dev"
    gt = tool.load(data)
    folds = {p.id: p.fold for p in wcxb_pages(data)}
    ids = sorted(gt)[:limit] if limit else sorted(gt)
    gt = {i: gt[i] for i in ids}
    print(f"\n== WCXB dev: {len(ids)} pages, Gleaner out of fold ({FOLDS} folds by domain) ==")
    out: dict = {}
    spent = 0.0
    cpu_before = _children_cpu()
    saved = os.environ.get("GLEANER_MODEL_DIR")
    try:
        for k in range(FOLDS):
            fold_ids = [i for i in ids if folds[i] == k]
            os.environ["GLEANER_MODEL_DIR"] = str(fold_dir(k))
            got, secs = tool.run_gleaner(data, fold_ids)
            out.update(got)
            spent += secs
    finally:
        if saved is None:
            os.environ.pop("GLEANER_MODEL_DIR", None)
        else:
            os.environ["GLEANER_MODEL_DIR"] = saved
    gleaner_cpu = _children_cpu() - cpu_before
    tool.report("gleaner parse (CV)", gt, out, spent)
    tool.metadata(gt, out)
    types = Counter(str((out.get(i) or {}).get("page_type")) == gt[i]["type"] for i in ids)
    print(f"  page_type accuracy (CV) {types[True] / len(ids):.3f} of {len(ids)}")
    cpu_before = time.process_time()
    traf, traf_s = tool.run_trafilatura(data, ids)
    traf_cpu = time.process_time() - cpu_before
    tool.report("trafilatura default", gt, traf, traf_s)
    prec, prec_s = tool.run_trafilatura(data, ids, favor_precision=True)
    tool.report("trafilatura favor_precision", gt, prec, prec_s)
    res = tool.RESULTS
    ratio = res["gleaner parse (CV)"]["pages_per_s"] / res["trafilatura default"]["pages_per_s"]
    print(f"\n  speed: gleaner parse {res['gleaner parse (CV)']['pages_per_s']:.1f} pages/s, trafilatura default "
          f"{res['trafilatura default']['pages_per_s']:.1f} pages/s: ratio {ratio:.2f} (goal >= 0.8)")
    print(f"  CPU time (user+sys; steadier than the wall clock on a shared machine): gleaner parse "
          f"{1000 * gleaner_cpu / len(ids):.1f} ms/page (processes, start-up included), trafilatura default "
          f"{1000 * traf_cpu / len(ids):.1f} ms/page (reading the files included): ratio "
          f"{traf_cpu / max(gleaner_cpu, 1e-9):.2f} (goal >= 0.8)")
    per_type = " ".join(
        f"{t} {res['gleaner parse (CV)'].get(t, float('nan')):.3f}/{res['trafilatura default'].get(t, float('nan')):.3f}"
        for t in tool.TYPES)
    print(f"  per type gleaner/trafilatura: {per_type}")
    print(f"wcxb_cv gleaner_F1 {res['gleaner parse (CV)']['ALL']:.3f} trafilatura_F1 "
          f"{res['trafilatura default']['ALL']:.3f} page_type_acc {types[True] / len(ids):.3f} speed_ratio {ratio:.2f}")


# ----------------------------------------------------------------------------- ScrapingHub


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


_CPU: dict[str, float] = {}  # CPU seconds of the last _timed call


def _timed(func, pages: list, texts: dict) -> tuple[dict, float]:
    outs, spent = {}, 0.0
    if pages:
        func(texts[pages[0].id], pages[0].url)  # warm-up, as extraction_score does
    cpu = 0.0
    for page in pages:
        started, cpu_started = time.perf_counter(), time.process_time()
        try:
            outs[page.id] = func(texts[page.id], page.url) or ""
        except Exception:  # noqa: BLE001 - a crash scores as an empty output
            outs[page.id] = ""
        spent += time.perf_counter() - started
        cpu += time.process_time() - cpu_started
    _CPU["last"] = cpu
    return outs, spent


def _shingle_row(tool, name: str, pages: list, outs: dict, spent: float) -> None:
    counts = [tool.page_counts(p.gold_body, outs.get(p.id, "")) for p in pages]
    precision, recall, f1 = tool.corpus_scores(counts)
    empty = sum(1 for p in pages if not tool.tokens(outs.get(p.id, "")))
    speed = len(pages) / spent if spent else float("nan")
    cpu = _CPU.get("last", 0.0)
    print(f"  {name:<34} F1 {f1:.3f} P {precision:.3f} R {recall:.3f} empty {empty:>3} pages {len(pages)} "
          f"pages_per_s {speed:.1f} cpu_pages_per_s {len(pages) / cpu if cpu else float('nan'):.1f}")


def bench_html_set(label: str, pages: list, html_cleaner, other: dict) -> None:
    tool = _tool("extraction_score")
    texts = {p.id: p.read() for p in pages}
    print(f"\n== {label}: {len(pages)} pages ==")
    outs, spent, cpu = {}, 0.0, 0.0
    for k in range(FOLDS):
        fold_pages = [p for p in pages if p.fold == k]
        got, secs = _timed(lambda text, url, k=k: html_cleaner(text, url, fold_dir(k)), fold_pages, texts)
        outs.update(got)
        spent += secs
        cpu += _CPU["last"]
    _CPU["last"] = cpu
    _shingle_row(tool, "gleaner (CV)", pages, outs, spent)
    if other.get("wcxb_only"):
        got, secs = _timed(lambda text, url: html_cleaner(text, url, MODELS / "wcxb-only"), pages, texts)
        _shingle_row(tool, "gleaner (model trained on WCXB only)", pages, got, secs)
    for name, func in other.get("baselines", {}).items():
        got, secs = _timed(lambda text, url, func=func: func(text), pages, texts)
        _shingle_row(tool, name, pages, got, secs)


def gleaner_html(text: str, url: str | None, model_dir: Path | None) -> str:
    from workers.stages.html import clean_html

    return clean_html(text, url or None, model_dir=model_dir).body


def gleaner_text(text: str, url: str | None, model_dir: Path | None) -> str:
    from workers.stages.textdump import clean_text_dump

    return clean_text_dump(text, url or None, model_dir=model_dir).body


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sets", default="wcxb,scrapinghub,text")
    ap.add_argument("--limit", type=int, help="WCXB: first N pages only (quick check)")
    args = ap.parse_args()
    sets = {s.strip() for s in args.sets.split(",") if s.strip()}
    print(f"shared: {shared_dir()}")
    if sets & {"wcxb", "scrapinghub"}:
        ensure_fold_models()
    if "text" in sets:
        ensure_textdump_fold_models()
    adapters = _tool("extraction_adapters")
    if "wcxb" in sets:
        bench_wcxb(args.limit)
    if "scrapinghub" in sets:
        bench_html_set("ScrapingHub dev (HTML), shingle F1", scrapinghub_pages(), gleaner_html, {
            "wcxb_only": True,
            "baselines": {"trafilatura default (comments off)": adapters.trafilatura_nocomments,
                          "trafilatura favor_precision": adapters.trafilatura_precision},
        })
    if "text" in sets:
        bench_html_set("Text dumps (textdump-dev), shingle F1", textdump_pages(), gleaner_text, {
            "baselines": {"trafilatura precision on the lines": adapters.text_trafilatura_precision,
                          "jusText on the lines": adapters.text_justext_default},
        })
    return 0


if __name__ == "__main__":
    sys.exit(main())
