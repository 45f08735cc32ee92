#!/usr/bin/env python3
"""Train the HTML main-content models and report them under domain-grouped cross-validation.

Models (LightGBM text files, gzipped):
- ``html_page_type.lgb.txt.gz``: page type (7 WCXB types) from URL, declarations and page statistics;
- ``html_blocks.lgb.txt.gz``: first pass, the share of a block's words that is main content;
- ``html_blocks_ctx.lgb.txt.gz``: second pass, the same with the first pass's scores around the block
  and in its containers as extra features (stacked on out-of-fold first-pass scores);
- ``html_blocks.json``: the decision thresholds (per predicted page type, chosen on out-of-fold
  scores) and the feature names the models expect.

Data: the WCXB dev split and the ScrapingHub dev pages (``ops/train/datasets.py``), five folds
grouped by registrable domain (``fold_of``). For fold k every model is trained without fold k's
sites (page-type scores and first-pass scores of the training pages come from inner folds, so no
training row sees a model fitted on itself) and written to ``.cache/models/fold-k/``; then all
dev pages train the shipped models (``workers/stages/html/model/``).

    python ops/train/train_html.py                 # CV report, fold models, final models
    python ops/train/train_html.py --no-final      # CV report and fold models only
    python ops/train/train_html.py --folds 0,1     # some folds only (quick experiments)

Prints out-of-fold (CV) and training-fit figures: WCXB word F1 per page type, ScrapingHub
shingle F1, page-type accuracy (also of pages given without their URL, as ``gleaner parse`` of a
file: typed from the URL the page declares).
"""

from __future__ import annotations

import argparse
import gzip
import json
import pickle
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import lightgbm as lgb  # noqa: E402

from ops.train.datasets import FOLDS, scrapinghub_pages, wcxb_pages  # noqa: E402
from ops.train.html_data import PageRows, load_rows  # noqa: E402
from ops.train.html_scores import f1_by_threshold, report, tune_thresholds  # noqa: E402
from workers.stages.html.features import (  # noqa: E402
    CATEGORICAL, CONTEXT_NAMES, FEATURE_NAMES, PAGE_TYPES, BlockText, context_features,
)
from workers.stages.html.model import BLOCKS_CTX_FILE, BLOCKS_FILE, PAGE_TYPE_FILE, SETTINGS_FILE, THRESHOLD  # noqa: E402
from workers.stages.html.dom import parse_html  # noqa: E402
from workers.stages.html.page_type import PAGE_TYPE_FEATURE_NAMES, declared_url, page_type_features  # noqa: E402

SHIPPED = REPO / "workers" / "stages" / "html" / "model"
FOLD_DIR = REPO / ".cache" / "models"
PTYPE_COLS = slice(FEATURE_NAMES.index("ptype_article"), FEATURE_NAMES.index("ptype_article") + len(PAGE_TYPES))

BLOCK_PARAMS = dict(
    objective="cross_entropy", learning_rate=0.06, num_leaves=63, min_data_in_leaf=40, feature_fraction=0.6,
    bagging_fraction=0.7, bagging_freq=1, lambda_l2=1.0, max_bin=127, num_threads=1, verbose=-1, seed=7,
)
BLOCK_ROUNDS = 350
PTYPE_PARAMS = dict(
    objective="multiclass", num_class=len(PAGE_TYPES), learning_rate=0.05, num_leaves=15, min_data_in_leaf=10,
    feature_fraction=0.5, bagging_fraction=0.8, bagging_freq=1, lambda_l2=1.0, num_threads=1, verbose=-1, seed=7,
)
PTYPE_ROUNDS = 300
#: the second pass trains on first-pass scores from models fitted on the other half of the folds
STACK_GROUPS = 2
#: a block's weight: its tokens relative to the page's gold size (a page counts by its F1)
WEIGHT_CAP = 3.0


# ----------------------------------------------------------------------------- page type


def add_declared_url_features(rows: list[PageRows]) -> None:
    """Each page's page-type features as the stage computes them when the page comes without its URL
    (from the URL the page declares, ``declared_url``), in ``page_X_declared``."""
    pages = {p.id + "wcxb": p for p in wcxb_pages()} | {p.id + "scrapinghub": p for p in scrapinghub_pages()}
    for r in rows:
        tree = parse_html(pages[r.id + r.dataset].read())
        url = declared_url(tree) if tree is not None else None
        r.page_X_declared = r.page_X if url == r.url else page_type_features(r.seg, BlockText(r.seg), url)


def fit_page_type(rows: list[PageRows]) -> lgb.Booster:
    X = np.vstack([r.page_X for r in rows])
    y = np.asarray([PAGE_TYPES.index(r.page_type) for r in rows])
    data = lgb.Dataset(X, y, feature_name=PAGE_TYPE_FEATURE_NAMES, free_raw_data=True)
    return lgb.train(PTYPE_PARAMS, data, PTYPE_ROUNDS)


def predict_page_type(model: lgb.Booster, rows: list[PageRows], declared: bool = False) -> np.ndarray:
    """Page-type probabilities of ``rows`` (``declared``: as if each page came without its URL)."""
    if not rows:
        return np.zeros((0, len(PAGE_TYPES)))
    return model.predict(np.vstack([getattr(r, "page_X_declared", r.page_X) if declared else r.page_X for r in rows]))


def inner_oof(rows: list[PageRows], fit, predict, groups: int | None = None) -> list:
    """Out-of-fold predictions for ``rows`` over the folds they span (one model per fold left out),
    or over ``groups`` groups of those folds (cheaper: each model sees fewer rows)."""
    out: list = [None] * len(rows)
    folds = sorted({r.fold for r in rows})
    group_of = {f: (i % groups if groups else i) for i, f in enumerate(folds)}
    for k in sorted(set(group_of.values())):
        train = [r for r in rows if group_of[r.fold] != k]
        test_idx = [i for i, r in enumerate(rows) if group_of[r.fold] == k]
        model = fit(train)
        preds = predict(model, [rows[i] for i in test_idx])
        for i, p in zip(test_idx, preds):
            out[i] = p
    return out


# ----------------------------------------------------------------------------- blocks


def weights(row: PageRows) -> np.ndarray:
    return np.minimum(row.tokens / max(row.gold_tokens, 50), WEIGHT_CAP)


def stage1_matrix(rows: list[PageRows], ptypes) -> np.ndarray:
    mats = []
    for r, probs in zip(rows, ptypes):
        X = r.X.copy()
        X[:, PTYPE_COLS] = probs
        mats.append(X)
    return np.vstack(mats) if mats else np.zeros((0, len(FEATURE_NAMES)), dtype=np.float32)


def fit_blocks(X: np.ndarray, rows: list[PageRows], names: list[str]) -> lgb.Booster:
    y = np.concatenate([r.label for r in rows])
    w = np.concatenate([weights(r) for r in rows])
    keep = w > 0
    data = lgb.Dataset(X[keep], y[keep], weight=w[keep], feature_name=names, categorical_feature=CATEGORICAL,
                       free_raw_data=True)
    return lgb.train(BLOCK_PARAMS, data, BLOCK_ROUNDS)


def split_pages(values: np.ndarray, rows: list[PageRows]) -> list[np.ndarray]:
    out, start = [], 0
    for r in rows:
        out.append(values[start : start + len(r.label)])
        start += len(r.label)
    return out


def stage2_matrix(rows: list[PageRows], X1: np.ndarray, p1: list[np.ndarray]) -> np.ndarray:
    ctx = [context_features(r.seg, r.tokens.astype(np.float64), p) for r, p in zip(rows, p1)]
    C = np.vstack(ctx) if ctx else np.zeros((0, len(CONTEXT_NAMES)), dtype=np.float32)
    return np.hstack([X1, C])


class FoldModels:
    """The three models of one training set."""

    def __init__(self, page_type: lgb.Booster, blocks: lgb.Booster, blocks_ctx: lgb.Booster | None):
        self.page_type, self.blocks, self.blocks_ctx = page_type, blocks, blocks_ctx

    def save(self, folder: Path, thresholds: dict, trained_on: str) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        for name, model in ((PAGE_TYPE_FILE, self.page_type), (BLOCKS_FILE, self.blocks),
                            (BLOCKS_CTX_FILE, self.blocks_ctx)):
            if model is not None:
                text = model.model_to_string().encode("utf-8")
                (folder / name).write_bytes(gzip.compress(text, compresslevel=9, mtime=0))
        write_settings(folder, thresholds, trained_on, self.blocks_ctx is not None)


def write_settings(folder: Path, thresholds: dict, trained_on: str, second_pass: bool) -> None:
    (folder / SETTINGS_FILE).write_text(json.dumps({
        "thresholds": thresholds, "features": FEATURE_NAMES, "context_features": list(CONTEXT_NAMES),
        "page_type_features": PAGE_TYPE_FEATURE_NAMES, "page_types": list(PAGE_TYPES), "second_pass": second_pass,
        "trained_on": trained_on,
    }, indent=1) + "\n")


def train_all(rows: list[PageRows], second_pass: bool, log=print) -> FoldModels:
    """Every model on ``rows``, stacking inputs from inner folds of ``rows``."""
    t0 = time.time()
    ptype_oof = inner_oof(rows, fit_page_type, predict_page_type)
    ptype_model = fit_page_type(rows)
    X1 = stage1_matrix(rows, ptype_oof)
    names1 = FEATURE_NAMES
    blocks_model = fit_blocks(X1, rows, names1)
    log(f"    page type + first pass: {time.time() - t0:.0f} s")
    ctx_model = None
    if second_pass:
        ptype_of = {id(r): p for r, p in zip(rows, ptype_oof)}

        def fit1(train_rows):
            return fit_blocks(stage1_matrix(train_rows, [ptype_of[id(r)] for r in train_rows]), train_rows, names1)

        def predict1(model, test_rows):
            X = stage1_matrix(test_rows, [ptype_of[id(r)] for r in test_rows])
            return split_pages(model.predict(X), test_rows)

        p1_oof = inner_oof(rows, fit1, predict1, groups=STACK_GROUPS)
        X2 = stage2_matrix(rows, X1, p1_oof)
        ctx_model = fit_blocks(X2, rows, names1 + list(CONTEXT_NAMES))
        log(f"    second pass: {time.time() - t0:.0f} s")
    return FoldModels(ptype_model, blocks_model, ctx_model)


def predict_rows(models: FoldModels, rows: list[PageRows]) -> tuple[list[np.ndarray], np.ndarray]:
    """Block scores and page-type probabilities of ``rows`` with ``models``."""
    ptypes = predict_page_type(models.page_type, rows)
    X1 = stage1_matrix(rows, ptypes)
    p = models.blocks.predict(X1) if len(X1) else np.zeros(0)
    if models.blocks_ctx is not None:
        p1 = split_pages(p, rows)
        p = models.blocks_ctx.predict(stage2_matrix(rows, X1, p1)) if len(X1) else p
    return split_pages(p, rows), ptypes


# ----------------------------------------------------------------------------- model card


def _type_table(by_type: dict, fit: dict | None) -> list[str]:
    lines = ["| page type | CV word F1 | training fit | gap |", "|---|---|---|---|"]
    for t in [*PAGE_TYPES, "ALL"]:
        if t in by_type:
            f = fit.get(t) if fit else None
            lines.append(f"| {t} | {by_type[t]:.3f} | {f:.3f} | {f - by_type[t]:+.3f} |" if f is not None
                         else f"| {t} | {by_type[t]:.3f} | | |")
    return lines


def write_card(path: Path, figures: dict, argv: str) -> None:
    """The model card beside the shipped models: data, method, figures (CV and fit)."""
    cv, fit = figures.get("cv", {}), figures.get("fit", {})
    lines = [
        "# HTML main-content models",
        "",
        "Trained by `ops/train/train_html.py" + (f" {argv}" if argv else "") + "` (LightGBM "
        f"{lgb.__version__}); the stage reads them through `workers/stages/html/model.py`.",
        "",
        "- `html_page_type.lgb.txt.gz`: page type (article, forum, product, collection, listing, documentation,",
        "  service) from the URL, the page's declarations (JSON-LD `@type`, `og:type`), tag counts and block",
        "  statistics (`page_type.py`).",
        "- `html_blocks.lgb.txt.gz`, `html_blocks_ctx.lgb.txt.gz`: the share of a text block's words that is main",
        "  content, in two passes (`features.py`; the second adds the first pass's scores around the block and",
        "  in its containers). Labels: each block's share of tokens aligned with the page's gold main content.",
        "- `html_blocks.json`: feature names, whether the second pass runs, and the threshold per predicted",
        "  page type.",
        "",
        "**Trained on** the development pages only: the WCXB dev split (`../shared/bench/wcxb-dev`, 1,497 pages",
        "of 1,295 domains, CC-BY-4.0, M. Foley, WCXB v1.0) and the ScrapingHub article-extraction dev pages",
        "(`../shared/bench/extraction-dev`, 73 pages). No test split, no other data.",
        "",
        "**Figures** (five folds grouped by registrable domain, `ops/train/datasets.py`; CV = each page scored",
        "by models trained without its fold; training fit = fold "
        f"{figures.get('fit_fold', 0)}'s models on their own training pages):",
        "",
        *_type_table(cv.get("wcxb", {}), fit.get("wcxb")),
        "",
        f"- page-type accuracy: CV {cv.get('page_type_accuracy', float('nan')):.3f}, fit "
        f"{fit.get('page_type_accuracy', float('nan')):.3f}"
        + (f"; CV of pages given without their URL (typed from the URL they declare): "
           f"{cv['page_type_accuracy_no_url']:.3f}" if "page_type_accuracy_no_url" in cv else ""),
    ]
    if "scrapinghub" in cv:
        lines.append(f"- ScrapingHub dev shingle F1: CV {cv['scrapinghub']['F1']:.3f}"
                     + (f", fit {fit['scrapinghub']['F1']:.3f}" if "scrapinghub" in fit else ""))
    if "wcxb_only" in figures and "scrapinghub" in figures["wcxb_only"]:
        lines.append(f"- ScrapingHub dev shingle F1 of a model trained on WCXB only: "
                     f"{figures['wcxb_only']['scrapinghub']['F1']:.3f}")
    final = figures.get("thresholds", {}).get("final")
    if final:
        lines.append("- thresholds (chosen on the out-of-fold scores): "
                     + ", ".join(f"{k} {v:.2f}" for k, v in final.items()))
    lines += ["", "`make bench-extract` measures the same under `gleaner parse` itself, next to trafilatura.", ""]
    path.write_text("\n".join(lines))


# ----------------------------------------------------------------------------- main


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--folds", help="comma-separated folds to run (default all)")
    ap.add_argument("--no-final", action="store_true", help="skip the final models (all dev pages)")
    ap.add_argument("--no-fit", action="store_true", help="skip the training-fit figures")
    ap.add_argument("--single-pass", action="store_true", help="no second (context) pass")
    ap.add_argument("--threshold", type=float, default=THRESHOLD)
    ap.add_argument("--json", type=Path, help="write the figures here")
    ap.add_argument("--models-out", type=Path, default=FOLD_DIR, help=f"fold models go here (default {FOLD_DIR})")
    ap.add_argument("--params", type=json.loads, default={},
                    help='JSON overrides of the block model parameters, e.g. \'{"num_leaves": 31, "rounds": 500}\'')
    ap.add_argument("--ptype-params", type=json.loads, default={}, help="JSON overrides of the page-type parameters")
    ap.add_argument("--wcxb-only", action="store_true",
                    help="also train a model on the WCXB pages only (models-out/wcxb-only) and score ScrapingHub with it")
    args = ap.parse_args()
    global BLOCK_ROUNDS, PTYPE_ROUNDS
    BLOCK_ROUNDS = int(args.params.pop("rounds", BLOCK_ROUNDS))
    PTYPE_ROUNDS = int(args.ptype_params.pop("rounds", PTYPE_ROUNDS))
    BLOCK_PARAMS.update(args.params)
    PTYPE_PARAMS.update(args.ptype_params)
    print(f"block model: {BLOCK_ROUNDS} rounds {BLOCK_PARAMS}\npage-type model: {PTYPE_ROUNDS} rounds {PTYPE_PARAMS}")

    t0 = time.time()
    rows = load_rows("wcxb") + load_rows("scrapinghub")
    print(f"rows: {len(rows)} pages, {sum(len(r.label) for r in rows)} blocks ({time.time() - t0:.0f} s)", flush=True)
    add_declared_url_features(rows)
    print(f"page-type features as without the URLs (from the URLs the pages declare) ({time.time() - t0:.0f} s)",
          flush=True)
    folds = [int(k) for k in args.folds.split(",")] if args.folds else list(range(FOLDS))
    second = not args.single_pass

    oof_scores: dict[str, np.ndarray] = {}
    oof_types: dict[str, np.ndarray] = {}
    fit_scores: dict[str, np.ndarray] = {}
    fit_types: dict[str, np.ndarray] = {}
    no_url_right: list[bool] = []
    fixed = {"default": args.threshold}
    trained_on = {k: f"WCXB dev + ScrapingHub dev pages outside fold {k} (ops/train/datasets.py fold_of)" for k in folds}
    for k in folds:
        train = [r for r in rows if r.fold != k]
        test = [r for r in rows if r.fold == k]
        print(f"fold {k}: train {len(train)} pages, test {len(test)}", flush=True)
        models = train_all(train, second)
        models.save(args.models_out / f"fold-{k}", fixed, trained_on[k])
        scores, types = predict_rows(models, test)
        for r, s, t in zip(test, scores, types):
            oof_scores[r.id + r.dataset], oof_types[r.id + r.dataset] = s, t
        wcxb_test = [r for r in test if r.dataset == "wcxb"]
        no_url_right += [PAGE_TYPES[int(np.argmax(p))] == r.page_type
                         for r, p in zip(wcxb_test, predict_page_type(models.page_type, wcxb_test, declared=True))]
        if not args.no_fit and k == folds[0]:
            scores, types = predict_rows(models, train)
            for r, s, t in zip(train, scores, types):
                fit_scores[r.id + r.dataset], fit_types[r.id + r.dataset] = s, t
        print(f"  done in {time.time() - t0:.0f} s", flush=True)

    with (args.models_out / "oof.pkl").open("wb") as fh:  # for looking at the predictions afterwards
        pickle.dump({"scores": oof_scores, "types": oof_types}, fh)
    scored = [r for r in rows if r.id + r.dataset in oof_scores]
    keys = [r.id + r.dataset for r in scored]
    figures = {"cv_fixed": report(f"CV (out of fold), threshold {args.threshold}", scored, oof_scores, oof_types,
                                  {key: fixed for key in keys})}
    # thresholds per predicted page type: fold k's are chosen on the other folds' pages only
    table = f1_by_threshold(scored, oof_scores)
    fold_of_key = {r.id + r.dataset: r.fold for r in scored}
    per_fold = {}
    for k in folds:
        per_fold[k] = tune_thresholds([key for key in keys if fold_of_key[key] != k], table, oof_types)
        write_settings(args.models_out / f"fold-{k}", per_fold[k], trained_on[k], second)
        print(f"  fold {k} thresholds (chosen on the other folds): {per_fold[k]}")
    final_thresholds = tune_thresholds(keys, table, oof_types)
    figures["thresholds"] = {"per_fold": per_fold, "final": final_thresholds}
    figures["cv"] = report("CV (out of fold), thresholds per page type chosen on the other folds", scored,
                           oof_scores, oof_types, {key: per_fold[fold_of_key[key]] for key in keys})
    if no_url_right:
        figures["cv"]["page_type_accuracy_no_url"] = float(np.mean(no_url_right))
        print(f"  page type accuracy (CV) of pages given without their URL: {np.mean(no_url_right):.3f}")
    if fit_scores:
        figures["fit_fold"] = folds[0]
        fitted = [r for r in rows if r.id + r.dataset in fit_scores]
        figures["fit"] = report(f"training fit (fold {folds[0]}'s model on its own training pages)", fitted,
                                fit_scores, fit_types, {r.id + r.dataset: per_fold[folds[0]] for r in fitted})
    if args.wcxb_only:
        print("model trained on the WCXB pages only, scored on the ScrapingHub pages", flush=True)
        wcxb = [r for r in rows if r.dataset == "wcxb"]
        shub = [r for r in rows if r.dataset == "scrapinghub"]
        wcxb_thresholds = tune_thresholds([k for k in keys if k.endswith("wcxb")], table, oof_types)
        models = train_all(wcxb, second)
        models.save(args.models_out / "wcxb-only", wcxb_thresholds, "all WCXB dev pages (1,497), no ScrapingHub page")
        scores, types = predict_rows(models, shub)
        figures["wcxb_only"] = report("WCXB-only model on ScrapingHub dev", shub,
                                      {r.id + r.dataset: s for r, s in zip(shub, scores)},
                                      {r.id + r.dataset: t for r, t in zip(shub, types)},
                                      {r.id + r.dataset: wcxb_thresholds for r in shub})
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1))

    if not args.no_final:
        print("final models: all dev pages", flush=True)
        models = train_all(rows, second)
        models.save(SHIPPED, final_thresholds, "all WCXB dev pages (1,497) and ScrapingHub dev pages (73)")
        write_card(SHIPPED / "README.md", figures, " ".join(sys.argv[1:]))
        print(f"  written to {SHIPPED} ({time.time() - t0:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
