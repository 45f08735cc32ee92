"""Train and cross-validate the text-dump cleaner's models (workers/stages/textdump).

    nice -n 10 .venv/bin/python -m ops.train.train_textdump features   # dumps, labels, features (cached)
    nice -n 10 .venv/bin/python -m ops.train.train_textdump cv         # domain-grouped CV + fold models
    nice -n 10 .venv/bin/python -m ops.train.train_textdump fit        # final models into the package, fit
    nice -n 10 .venv/bin/python -m ops.train.train_textdump all        # features, cv, fit, evaluate
    nice -n 10 .venv/bin/python -m ops.train.train_textdump cv fit evaluate   # several steps, one process
    nice -n 10 .venv/bin/python -m ops.train.train_textdump evaluate   # fold models through clean_text_dump
    nice -n 10 .venv/bin/python -m ops.train.train_textdump rescore    # CV figures of cv's saved probabilities
                                                                        # through the current decision step

Data (``ops/train/textdump_data.py``): the WCXB dev pages rendered to text dumps with inscriptis
and the ScrapingHub dev text dumps, each line labelled from the gold main content. Never the
Reuters (CoNLL) text: that is evaluation material only.

Models (``ops/train/textdump_models.py``): page type, line pass, context pass, each trained out
of fold at every level. Folds are the one shared assignment (``ops.train.datasets.fold_of``,
grouped by site).

``cv`` prints, out of fold: the ScrapingHub text-dump shingle F1 (the scorer of
``../shared/tools/extraction_score.py``), the WCXB dump word F1 per page type and the page-type
accuracy, and writes each fold's models to ``.cache/models/fold-k/`` (``GLEANER_MODEL_DIR``).
``fit`` trains on every page, writes the package's model files and prints the fit on the same
pages. ``evaluate`` runs every dev dump through ``clean_text_dump`` with its fold's models.
"""

from __future__ import annotations

import argparse
import gzip
import importlib.util
import json
import os
import pickle
import re
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, os.fspath(Path(__file__).resolve().parents[2]))  # also run as a file by the scorer

from ops.train.datasets import FOLDS, REPO, shared_dir  # noqa: E402
from ops.train.textdump_data import PageData, build_features, dump_of, load_features, training_pages  # noqa: E402
from ops.train.textdump_models import (  # noqa: E402
    DUMP_WEIGHT, PARAMS, ROUNDS_CONTEXT, ROUNDS_LINE, ROUNDS_PAGE, THRESHOLD, X1_FEATURES, X2_FEATURES, Trainer,
    decided_body,
)
from workers.stages.textdump.body import COMMENTS_CUT_UNITS, SWITCH_COST  # noqa: E402
from workers.stages.textdump.lines import read_lines  # noqa: E402
from workers.stages.textdump.model import CONTEXT_MODEL, DECISION, LINE_MODEL, PAGE_MODEL, SHIPPED  # noqa: E402
from workers.stages.textdump.page_type import PAGE_TYPES  # noqa: E402

FOLD_MODELS = REPO / ".cache" / "models"
CV_FIGURES = FOLD_MODELS / "textdump_cv_figures.json"  # written by ``cv``, read by a later ``fit`` for the card
OOF_PROBS = "textdump_oof_probs.pkl"
NOTES_HEADING = "## Tried and not kept"  # the model card's hand-written tail, kept by ``fit``  # ``cv``'s out-of-fold line probabilities, for ``rescore``


def _scorers():
    spec = importlib.util.spec_from_file_location("extraction_score", shared_dir() / "tools" / "extraction_score.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    spec2 = importlib.util.spec_from_file_location("wcxb_eval", shared_dir() / "bench" / "wcxb-dev" / "evaluate.py")
    mod2 = importlib.util.module_from_spec(spec2)
    spec2.loader.exec_module(mod2)
    return mod, mod2


def report(name: str, outputs: dict[tuple[str, str], str], data: list[PageData],
           types: dict[tuple[str, str], str] | None = None) -> dict:
    """Print and return the figures of ``outputs`` ((corpus, id) -> body) and of the predicted
    page ``types``."""
    shingle, wcxb = _scorers()
    counts = [shingle.page_counts(p.gold, outputs[(p.corpus, p.id)]) for p in data if p.corpus == "scrapinghub"]
    sp, sr, sf = shingle.corpus_scores(counts)
    empty = sum(1 for p in data if p.corpus == "scrapinghub" and not outputs[(p.corpus, p.id)].strip())
    per_type: dict[str, list[float]] = defaultdict(list)
    for p in data:
        if p.corpus == "wcxb":
            per_type[p.page_type].append(wcxb.word_f1(outputs[(p.corpus, p.id)], p.gold)[2])
    all_wcxb = [f for fs in per_type.values() for f in fs]
    figures = {
        "textdump_shingle_F1": round(sf, 4), "textdump_P": round(sp, 4), "textdump_R": round(sr, 4),
        "textdump_empty": empty, "textdump_pages": len(counts),
        "wcxb_dump_word_F1": round(float(np.mean(all_wcxb)), 4), "wcxb_pages": len(all_wcxb),
        "wcxb_by_type": {t: round(float(np.mean(fs)), 4) for t, fs in sorted(per_type.items())},
    }
    if types:
        figures["page_type_accuracy"] = round(float(np.mean([types[(p.corpus, p.id)] == p.page_type for p in data])), 4)
    print(f"{name}: textdump shingle F1 {sf:.3f} P {sp:.3f} R {sr:.3f} (pages {len(counts)}, empty {empty}); "
          f"WCXB dumps word F1 {figures['wcxb_dump_word_F1']:.3f} ({len(all_wcxb)} pages) "
          + " ".join(f"{t} {f:.3f}" for t, f in figures["wcxb_by_type"].items())
          + (f"; page type accuracy {figures['page_type_accuracy']:.3f}" if types else ""))
    return figures


def _save(trainer: Trainer, without: frozenset[int], folder: Path, figures: dict | None = None) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, booster in ((PAGE_MODEL, trainer.page_model(without)), (LINE_MODEL, trainer.line_model(without)),
                          (CONTEXT_MODEL, trainer.context_model(without))):
        text = booster.model_to_string().encode("utf-8")
        partial = folder / f".{name}.partial"  # replaced in one step: a worker never reads half a file
        partial.write_bytes(gzip.compress(text, compresslevel=9, mtime=0))
        os.replace(partial, folder / name)
    decision = {"threshold": THRESHOLD, "dump_weight": trainer.dump_weight, "page_types": list(PAGE_TYPES), "line_features": list(X1_FEATURES),
                "context_features": list(X2_FEATURES[len(X1_FEATURES):])}
    if figures:
        decision["figures"] = figures
    (folder / DECISION).write_text(json.dumps(decision, indent=1) + "\n", encoding="utf-8")


def cross_validate(trainer: Trainer) -> dict:
    outputs: dict[tuple[str, str], str] = {}
    types: dict[tuple[str, str], str] = {}
    line_probs: dict[tuple[str, str], np.ndarray] = {}
    for k in range(FOLDS):
        without = frozenset({k})
        for i, p in enumerate(trainer.data):
            if p.fold == k:
                body, p2, probs = trainer.scored(i, without)
                outputs[(p.corpus, p.id)] = body
                types[(p.corpus, p.id)] = PAGE_TYPES[int(np.argmax(probs))]
                line_probs[(p.corpus, p.id)] = p2
        _save(trainer, without, FOLD_MODELS / f"fold-{k}")
        print(f"fold {k} done", file=sys.stderr, flush=True)
    figures = report("CV (out of fold, grouped by site)", outputs, trainer.data, types)
    CV_FIGURES.write_text(json.dumps(figures, indent=1) + "\n", encoding="utf-8")
    with (FOLD_MODELS / OOF_PROBS).open("wb") as fh:
        pickle.dump({"line_probs": line_probs, "types": types}, fh, protocol=pickle.HIGHEST_PROTOCOL)
    return figures


def rescore(data: list[PageData]) -> dict:
    """The CV figures again from ``cv``'s saved out-of-fold line probabilities, through the
    current decision step (``decided_body``): for a change of the decision step alone."""
    with (FOLD_MODELS / OOF_PROBS).open("rb") as fh:
        oof = pickle.load(fh)
    outputs = {(p.corpus, p.id): decided_body(p.lines, oof["line_probs"][(p.corpus, p.id)], oof["types"][(p.corpus, p.id)])
               for p in data}
    figures = report("CV (out of fold, grouped by site; saved probabilities, current decision step)", outputs,
                     data, oof["types"])
    CV_FIGURES.write_text(json.dumps(figures, indent=1) + "\n", encoding="utf-8")
    return figures


def fit(trainer: Trainer, cv_figures: dict | None) -> dict:
    outputs: dict[tuple[str, str], str] = {}
    types: dict[tuple[str, str], str] = {}
    for i, p in enumerate(trainer.data):
        body, _, probs = trainer.scored(i, frozenset(), final=True)
        outputs[(p.corpus, p.id)] = body
        types[(p.corpus, p.id)] = PAGE_TYPES[int(np.argmax(probs))]
    figures = report("fit (trained on these pages)", outputs, trainer.data, types)
    _save(trainer, frozenset(), SHIPPED, {"cv": cv_figures, "fit": figures})
    _write_card(trainer, cv_figures, figures)
    return figures


def _figure_rows(figures: dict | None) -> str:
    if not figures:
        return "| (not run) | | | | |"
    types = " / ".join(f"{t} {f:.3f}" for t, f in figures["wcxb_by_type"].items())
    return (f"| {figures['textdump_shingle_F1']:.3f} | {figures['textdump_P']:.3f} | {figures['textdump_R']:.3f} "
            f"| {figures['wcxb_dump_word_F1']:.3f} | {types} | {figures.get('page_type_accuracy', float('nan')):.3f} |")


def _write_card(trainer: Trainer, cv: dict | None, fit_figures: dict) -> None:
    import lightgbm

    data = trainer.data
    m1, m2 = trainer.line_model(frozenset()), trainer.context_model(frozenset())
    corpora = defaultdict(int)
    for p in data:
        corpora[(p.corpus, p.page_type)] += 1
    wcxb = sum(v for (c, _), v in corpora.items() if c == "wcxb")
    gain = sorted(zip(X1_FEATURES, m1.feature_importance("gain")), key=lambda x: -x[1])[:12]
    gain2 = sorted(zip(X2_FEATURES, m2.feature_importance("gain")), key=lambda x: -x[1])[:12]
    total1, total2 = sum(m1.feature_importance("gain")), sum(m2.feature_importance("gain"))
    card = f"""# Text-dump line classifier (model card)

Files: `{PAGE_MODEL}` (page type: the 7 WCXB types from page-wide shares of the lines),
`{LINE_MODEL}` (first pass: line features and the page-type probabilities), `{CONTEXT_MODEL}`
(second pass: the first pass's probabilities of the neighbours and of the page's stretches of
content added), `{DECISION}` (threshold {THRESHOLD}, feature names, figures). On a page read as an
article the lines' probabilities are smoothed as a two-state sequence (`body.py` `smooth_article`:
Viterbi, log-probabilities against the threshold weighted by the square root of a line's words,
switch cost {SWITCH_COST}) and the body ends at a comments heading below at least
{COMMENTS_CUT_UNITS:.0f} kept words (`body.py` `cut_at_comments`; the figures below include both). LightGBM
{lightgbm.__version__}; the passes learn cross-entropy on the share of each line found in the gold
main content ({ROUNDS_LINE} + {ROUNDS_CONTEXT} trees of at most {PARAMS['num_leaves']} leaves), the page
type is multiclass ({ROUNDS_PAGE} rounds). Written by `ops/train/train_textdump.py`
(`nice -n 10 .venv/bin/python -m ops.train.train_textdump cv fit`; `features` first when the
feature code changes, `evaluate` for the end-to-end figures of the stage with the fold models,
`rescore` for the CV figures of `cv`'s saved out-of-fold probabilities through the current
decision step).

## Training data
- WCXB dev split (`shared/bench/wcxb-dev`, CC-BY-4.0): {wcxb} HTML pages of 7 page types rendered to
  text dumps with inscriptis {_inscriptis_version()} `get_text(html)` (default config; runs of blank
  lines collapsed, trailing spaces removed), exactly as the ScrapingHub text dumps were made; lines
  labelled by word 3-gram overlap with the gold `main_content`.
- ScrapingHub article-extraction dev dumps (`shared/bench/textdump-dev`, MIT): {corpora[('scrapinghub', 'article')]} pages, gold `articleBody`;
  their lines weigh {trainer.dump_weight:g} times a render's in training (`--dump-weight`).
- {sum(len(p.lines) for p in data):,} lines in all; a quarter of the pages are trained without their URL.
- Never the Reuters (CoNLL-2003/CoNLL++) text: that is evaluation material only.

## Figures
Cross-validation grouped by site (`ops/train/datasets.py`: 5 folds, a site's pages all in one
fold; the second pass of fold k learned from first-pass probabilities of models that never saw
fold k either). Text dumps: shingle F1 of `shared/tools/extraction_score.py`; WCXB dumps: the
benchmark's word F1 (on text dumps of its HTML pages, not comparable to HTML extraction figures).

| | text dumps F1 | P | R | WCXB dumps word F1 | by page type | page type accuracy |
|---|---|---|---|---|---|---|
| CV (out of fold) {_figure_rows(cv)}
| fit (shipped models, on the pages they learned from) {_figure_rows(fit_figures)}

## Most used features (share of gain)
First pass: {", ".join(f"{n} {g / total1:.0%}" for n, g in gain)}.

Second pass: {", ".join(f"{n} {g / total2:.0%}" for n, g in gain2)}.
"""
    card_file = SHIPPED / "README.md"
    old = card_file.read_text(encoding="utf-8") if card_file.is_file() else ""
    if NOTES_HEADING in old:  # the hand-written notes (what was tried and not kept) stay
        card += "\n" + old[old.index(NOTES_HEADING):]
    card_file.write_text(card, encoding="utf-8")


def _inscriptis_version() -> str:
    try:
        from importlib.metadata import version

        return version("inscriptis")
    except Exception:  # noqa: BLE001 - the card still says which config was used
        return "2.7"


def _norm(text: str | None) -> str:
    import unicodedata

    return " ".join(re.findall(r"\w+", unicodedata.normalize("NFKC", text or "").lower()))


def evaluate_end_to_end() -> dict:
    """Every dev dump through ``clean_text_dump`` with its fold's models (out of fold): the
    ScrapingHub shingle F1, the WCXB word F1 and metadata exactness (title, authors, date, with
    the normalisation of ``shared/tools/wcxb_score.py``), and how often the news-item reading
    took a web page."""
    from workers.stages.textdump import clean_text_dump
    from workers.stages.textdump.item import find_item

    shingle, wcxb = _scorers()
    counts, f1s = [], defaultdict(list)
    meta_n, meta_ok = defaultdict(int), defaultdict(int)
    items = 0
    for corpus, page in training_pages():
        text = dump_of(page, corpus)
        folder = FOLD_MODELS / f"fold-{page.fold}"
        ex = clean_text_dump(text, page.url, model_dir=folder)
        lines = read_lines(text)
        items += find_item(lines, np.ones(len(lines)), 0.5) is not None
        if corpus == "scrapinghub":
            counts.append(shingle.page_counts(page.gold_body, ex.body))
            continue
        f1s[page.page_type].append(wcxb.word_f1(ex.body, page.gold_body)[2])
        if page.gold_title:
            meta_n["title"] += 1
            meta_ok["title"] += _norm(ex.title) == _norm(page.gold_title)
        if page.gold_author:
            meta_n["author"] += 1
            got = {_norm(a) for a in ex.authors}
            want = [a for a in re.split(r"\s*(?:,| and |&)\s*", page.gold_author) if a.strip()]
            meta_ok["author"] += bool(got) and all(_norm(a) in got for a in want)
        if page.gold_date:
            meta_n["date"] += 1
            meta_ok["date"] += str(ex.published_at or "")[:10] == str(page.gold_date)[:10]
    sp, sr, sf = shingle.corpus_scores(counts)
    allf = [f for fs in f1s.values() for f in fs]
    figures = {
        "textdump_shingle_F1": round(sf, 4), "textdump_P": round(sp, 4), "textdump_R": round(sr, 4),
        "wcxb_dump_word_F1": round(float(np.mean(allf)), 4),
        "wcxb_by_type": {t: round(float(np.mean(fs)), 4) for t, fs in sorted(f1s.items())},
        "wcxb_dump_metadata": {k: round(meta_ok[k] / meta_n[k], 4) for k in meta_n},
        "read_as_news_item": items,
    }
    print(f"end to end, out of fold: textdump shingle F1 {sf:.3f} P {sp:.3f} R {sr:.3f}; WCXB dumps word F1 "
          f"{figures['wcxb_dump_word_F1']:.3f}; WCXB dump metadata "
          + ", ".join(f"{k} {v:.3f} of {meta_n[k]}" for k, v in figures["wcxb_dump_metadata"].items())
          + f"; web pages read as news items: {items}")
    return figures


def main() -> None:
    global FOLD_MODELS, CV_FIGURES
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("steps", nargs="+", choices=["features", "cv", "rescore", "fit", "all", "evaluate"],
                    help="one or more steps, run in this order in one process (cv fit shares the fold models)")
    ap.add_argument("--fold-models", type=Path, default=FOLD_MODELS,
                    help="where cv writes (and evaluate reads) the fold models")
    ap.add_argument("--dump-weight", type=float, default=DUMP_WEIGHT,
                    help="training weight of the ScrapingHub dumps' lines (WCXB renders: 1)")
    args = ap.parse_args()
    steps = set(args.steps)
    FOLD_MODELS, CV_FIGURES = args.fold_models, args.fold_models / CV_FIGURES.name
    if "all" in steps:
        steps = {"features", "cv", "fit", "evaluate"}
    data = None
    if "features" in steps:
        data = build_features()
        print(f"{len(data)} pages, {sum(len(p.lines) for p in data)} lines")
    if "rescore" in steps and "cv" not in steps:
        data = data if data is not None else load_features()
        rescore(data)
    if steps & {"cv", "fit"}:
        trainer = Trainer(data if data is not None else load_features(), args.dump_weight)
        cv_figures = None
        if "cv" in steps:
            cv_figures = cross_validate(trainer)
        elif CV_FIGURES.is_file():
            cv_figures = json.loads(CV_FIGURES.read_text(encoding="utf-8"))
        if "fit" in steps:
            fit_figures = fit(trainer, cv_figures)
            if cv_figures:
                gap = fit_figures["textdump_shingle_F1"] - cv_figures["textdump_shingle_F1"]
                gap_w = fit_figures["wcxb_dump_word_F1"] - cv_figures["wcxb_dump_word_F1"]
                print(f"gap fit - CV: textdump shingle F1 {gap:+.3f}, WCXB dumps word F1 {gap_w:+.3f}")
    if "evaluate" in steps:
        evaluate_end_to_end()


if __name__ == "__main__":
    main()


def fold_body(text: str, url: str | None = None) -> str:
    """The body as the parse stage of the page's fold gives it (its fold's models, trained without
    its site): the ``--func`` of ``../shared/tools/extraction_score.py`` for an out-of-fold figure.

        .venv/bin/python ../shared/tools/extraction_score.py --data ../shared/bench/textdump-dev \\
            --func ops/train/train_textdump.py:fold_body --pass-url
    """
    from ops.train.datasets import fold_of, site_of
    from workers.stages.textdump import clean_text_dump

    folder = FOLD_MODELS / f"fold-{fold_of(site_of(url))}"
    if not (folder / LINE_MODEL).is_file():
        raise FileNotFoundError(f"{folder / LINE_MODEL}: run `python -m ops.train.train_textdump cv` first")
    return clean_text_dump(text, url, model_dir=folder).body
