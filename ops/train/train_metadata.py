"""Train and evaluate the metadata rankers (title, authors, publication date) on the WCXB dev split.

Each ranker is a conditional logit (a logistic-regression scorer normalised over one page's
candidates) over the explainable features of ``workers/stages/html/metadata_*.py``. Evaluation
follows the project's rule: out-of-fold accuracy under the shared domain-grouped folds
(``ops/train/datasets.py``), next to the training fit and a fixed order of sources.

    .venv/bin/python ops/train/train_metadata.py --cv          # figures only
    .venv/bin/python ops/train/train_metadata.py --cv --write  # and fold models + shipped models
    .venv/bin/python ops/train/train_metadata.py --speed 5     # CPU ms/page, every 5th page, vs trafilatura
    .venv/bin/python ops/train/train_metadata.py --cv --eval-url declared  # trained with the page's URL,
        # scored with the URL the page declares (a file parsed without its URL), or none

Fold models go to .cache/models/fold-k/meta_<field>.json (``GLEANER_MODEL_DIR`` for fold k), the
model trained on every page to workers/stages/html/model/ with its card.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from datetime import date
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from ops.train.datasets import FOLDS, REPO  # noqa: E402
from ops.train.metadata_data import FIELDS, URL_MODES, PageCandidates, load_candidates  # noqa: E402
from workers.stages.html import metadata as metadata_entry  # noqa: E402
from workers.stages.html.metadata_ranker import MODEL_DIR, LinearGate, LinearRanker, best  # noqa: E402

TYPES = ["article", "forum", "product", "collection", "listing", "documentation", "service"]
FALLBACKS = {"title": metadata_entry.TITLE_FALLBACK, "authors": metadata_entry.AUTHOR_FALLBACK,
             "date": metadata_entry.DATE_FALLBACK}
L2 = {"title": 3.0, "authors": 1.0, "date": 3.0}  # chosen among 0.3, 1, 3, 10 on the out-of-fold accuracy
MIN_FEATURE_PAGES = 3  # a feature seen on fewer training pages gets no weight
#: with --gate: fields a page may not have (a title it always has) get a gate that leaves them
#: empty when the best candidate looks unlikely; off by default (it costs accuracy, see the report)
GATEABLE = ("authors", "date")
GATED: tuple[str, ...] = ()
GATE_KEEP = 0.998  # the gate's threshold keeps this share of the right answers of the training pages


def _has_gold(page: PageCandidates, name: str) -> bool:
    return page.gold[name] not in (None, "")


def fit(pages: list[PageCandidates], name: str, l2: float, iterations: int = 300) -> LinearRanker:
    """Conditional logit over each page's candidates, trained on the pages where one is right."""
    groups = [(p.candidates[name], p.labels[name]) for p in pages
              if _has_gold(p, name) and any(p.labels.get(name, ()))]
    counts: dict[str, int] = defaultdict(int)
    for cands, _ in groups:
        for feat in {f for c in cands for f in c.features}:
            counts[feat] += 1
    names = sorted(f for f, n in counts.items() if n >= MIN_FEATURE_PAGES)
    index = {f: i for i, f in enumerate(names)}
    rows, positive, group_of = [], [], []
    for g, (cands, labels) in enumerate(groups):
        for cand, label in zip(cands, labels):
            row = np.zeros(len(names))
            for feat, value in cand.features.items():
                if feat in index:
                    row[index[feat]] = value
            rows.append(row)
            positive.append(label)
            group_of.append(g)
    X = np.array(rows)
    pos = np.array(positive, dtype=bool)
    grp = np.array(group_of)
    n_groups = len(groups)
    w = np.zeros(len(names))
    # Newton steps on the conditional log-likelihood with an L2 penalty (few features: exact Hessian)
    for _ in range(iterations):
        s = X @ w
        s -= np.maximum.reduceat(s, np.flatnonzero(np.r_[True, grp[1:] != grp[:-1]]))[grp]
        e = np.exp(s)
        z_all = np.bincount(grp, e, n_groups)
        z_pos = np.bincount(grp, e * pos, n_groups)
        p_all = e / z_all[grp]
        p_pos = np.where(pos, e / np.maximum(z_pos[grp], 1e-300), 0.0)
        grad = X.T @ (p_all - p_pos) + l2 * w
        # Hessian of the log-partition minus that of the positive part (a valid curvature bound:
        # use the all-candidates part only, positive semi-definite)
        mean_all = np.zeros((n_groups, len(names)))
        np.add.at(mean_all, grp, X * p_all[:, None])
        H = (X * p_all[:, None]).T @ X - mean_all.T @ mean_all + l2 * np.eye(len(names))
        step = np.linalg.solve(H, grad)
        w -= step
        if np.abs(step).max() < 1e-6:
            break
    weights = {f: round(float(v), 6) for f, v in zip(names, w) if abs(v) > 1e-9}
    return LinearRanker(weights=weights, bias=0.0, threshold=0.0)


def fit_gate(pages: list[PageCandidates], name: str, ranker: LinearRanker, l2: float = 1.0) -> LinearGate:
    """Logistic regression on the best candidate's features: output it (it is right) or leave the
    field empty (the page has no gold value, or the best candidate is wrong)."""
    rows, labels = [], []
    for page in pages:
        cands = page.candidates.get(name, [])
        top = best(cands, ranker)
        if top is None:
            continue
        rows.append(top.features)
        labels.append(_has_gold(page, name) and page.labels[name][cands.index(top)])
    names = sorted({f for r in rows for f in r})
    index = {f: i for i, f in enumerate(names)}
    X = np.zeros((len(rows), len(names) + 1))
    X[:, -1] = 1.0  # bias
    for i, row in enumerate(rows):
        for feat, value in row.items():
            X[i, index[feat]] = value
    y = np.array(labels, dtype=float)
    w = np.zeros(X.shape[1])
    penalty = l2 * np.r_[np.ones(len(names)), 0.0]
    for _ in range(100):
        p = 1.0 / (1.0 + np.exp(-np.clip(X @ w, -50, 50)))
        grad = X.T @ (p - y) + penalty * w
        H = (X * (p * (1 - p))[:, None]).T @ X + np.diag(penalty + 1e-9)
        step = np.linalg.solve(H, grad)
        w -= step
        if np.abs(step).max() < 1e-6:
            break
    p = 1.0 / (1.0 + np.exp(-np.clip(X @ w, -50, 50)))
    right = np.sort(p[y == 1])
    threshold = float(right[int(len(right) * (1 - GATE_KEEP))]) if len(right) else 0.5
    return LinearGate(weights={f: round(float(v), 6) for f, v in zip(names, w[:-1]) if abs(v) > 1e-9},
                      bias=round(float(w[-1]), 6), threshold=round(threshold, 6))


def fit_field(pages: list[PageCandidates], name: str) -> LinearRanker:
    ranker = fit(pages, name, L2[name])
    if name in GATED:
        ranker = LinearRanker(ranker.weights, ranker.bias, ranker.threshold, fit_gate(pages, name, ranker))
    return ranker


def outputs_without_gold(pages: list[PageCandidates], name: str, rankers: dict[int, LinearRanker | None]) -> tuple[int, int]:
    """(pages given a value, pages) among the pages that have no gold value for the field."""
    without = [p for p in pages if not _has_gold(p, name)]
    return sum(best(p.candidates.get(name, []), rankers[p.fold]) is not None for p in without), len(without)


def choose(page: PageCandidates, name: str, ranker: LinearRanker | None):
    cands = page.candidates.get(name, [])
    chosen = best(cands, ranker, FALLBACKS[name])
    if chosen is None:
        return False
    return page.labels[name][cands.index(chosen)]


def accuracy(pages: list[PageCandidates], name: str, rankers: dict[int, LinearRanker | None]) -> dict[str, tuple[int, int]]:
    """(right, with gold) per page type and overall; ``rankers[fold]`` scores the pages of that fold."""
    out: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for page in pages:
        if not _has_gold(page, name):
            continue
        ok = choose(page, name, rankers[page.fold])
        for key in (page.page_type, "ALL"):
            out[key][0] += int(ok)
            out[key][1] += 1
    return {k: (v[0], v[1]) for k, v in out.items()}


def oracle(pages: list[PageCandidates], name: str) -> float:
    with_gold = [p for p in pages if _has_gold(p, name)]
    return sum(any(p.labels.get(name, ())) for p in with_gold) / max(len(with_gold), 1)


def _fmt(result: dict[str, tuple[int, int]]) -> str:
    parts = [f"{t} {result[t][0] / result[t][1]:.3f} ({result[t][1]})" for t in TYPES if t in result and result[t][1]]
    right, n = result.get("ALL", (0, 0))
    return f"ALL {right / max(n, 1):.3f} of {n} | " + ", ".join(parts)


def write_model(path: Path, ranker: LinearRanker, card: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"bias": ranker.bias, "threshold": ranker.threshold, "weights": dict(sorted(ranker.weights.items())),
               "card": card}
    if ranker.gate is not None:
        payload["gate"] = {"bias": ranker.gate.bias, "threshold": ranker.gate.threshold,
                           "weights": dict(sorted(ranker.gate.weights.items()))}
    path.write_text(json.dumps(payload, indent=1, ensure_ascii=False) + "\n")


def speed(step: int) -> None:
    """CPU time of ``extract_metadata`` (shipped models) and of trafilatura's default extraction on
    the same WCXB pages, each page parsed once beforehand (as ``clean_html`` does)."""
    import time

    import trafilatura

    from ops.train.datasets import wcxb_pages
    from workers.stages.html.dom import parse_html

    pages = wcxb_pages()[::step]
    htmls = [(p.read(), p.url) for p in pages]
    trees = [(parse_html(h), u) for h, u in htmls]
    started = time.process_time()
    for tree, url in trees:
        metadata_entry.extract_metadata(tree, url)
    meta_s = time.process_time() - started
    started = time.process_time()
    for html, _ in htmls:
        trafilatura.extract(html, include_comments=False)
    traf_s = time.process_time() - started
    n = len(pages)
    print(f"speed on {n} pages (CPU time): metadata {1000 * meta_s / n:.2f} ms/page, trafilatura default extract"
          f" {1000 * traf_s / n:.2f} ms/page, metadata / trafilatura {meta_s / traf_s:.3f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cv", action="store_true", help="print out-of-fold, fit and fixed-order accuracy")
    ap.add_argument("--write", action="store_true", help="write fold models (.cache/models/fold-k) and shipped models")
    ap.add_argument("--rebuild", action="store_true", help="recompute the candidates (else .cache/metadata)")
    ap.add_argument("--fields", default=",".join(FIELDS))
    ap.add_argument("--speed", type=int, metavar="STEP", help="time every STEP-th page and stop")
    ap.add_argument("--gate", action="store_true", help="train presence gates for authors and date too")
    ap.add_argument("--eval-url", choices=URL_MODES, default="page",
                    help="the URL the metadata reads on the scored pages (models are trained with the page's URL)")
    args = ap.parse_args()
    if args.write and args.eval_url != "page":
        ap.error("--write trains and scores with the page's URL: leave out --eval-url")
    if args.gate:
        global GATED
        GATED = GATEABLE
    if args.speed:
        speed(args.speed)
        return

    pages = load_candidates(rebuild=args.rebuild)
    scored = pages if args.eval_url == "page" else load_candidates(url_mode=args.eval_url)
    if scored is not pages:
        print(f"scored with the URL: {args.eval_url} (models trained with the page's URL)")
    seconds = sorted(p.seconds for p in pages)
    print(f"pages {len(pages)}, candidates per page: "
          + ", ".join(f"{n} {sum(len(p.candidates.get(n, [])) for p in pages) / len(pages):.1f}" for n in FIELDS)
          + f"; signals+candidates {1000 * sum(seconds) / len(seconds):.2f} ms/page mean,"
          f" {1000 * seconds[len(seconds) // 2]:.2f} median, {1000 * seconds[int(len(seconds) * 0.99)]:.2f} p99")
    if not (args.cv or args.write):
        return
    for name in args.fields.split(","):
        print(f"\n== {name}: right value among the candidates on {oracle(scored, name):.3f} of the pages with gold")
        fixed = accuracy(scored, name, {k: None for k in range(FOLDS)})
        print(f"  fixed source order     {_fmt(fixed)}")
        fold_models = {}
        for k in range(FOLDS):
            fold_models[k] = fit_field([p for p in pages if p.fold != k], name)
        cv = accuracy(scored, name, fold_models)
        full = fit_field(pages, name)
        fitted = accuracy(scored, name, {k: full for k in range(FOLDS)})
        print(f"  ranker, out-of-fold    {_fmt(cv)}")
        print(f"  ranker, training fit   {_fmt(fitted)}")
        if name in GATEABLE:
            given, n = outputs_without_gold(scored, name, fold_models)
            print(f"  pages without a gold {name} given one anyway (out-of-fold): {given} of {n}")
        gap = fitted["ALL"][0] / fitted["ALL"][1] - cv["ALL"][0] / cv["ALL"][1]
        print(f"  fit - CV gap {gap:+.3f}")
        if args.write:
            card = {
                "model": f"conditional logit ranker of {name} candidates (workers/stages/html/metadata_{name}*.py)",
                "trained_on": "WCXB dev split (shared/bench/wcxb-dev, CC-BY-4.0), pages with a gold value",
                "script": "ops/train/train_metadata.py --cv --write",
                "trained": date.today().isoformat(),
                "out_of_fold_accuracy": round(cv["ALL"][0] / cv["ALL"][1], 4),
                "training_fit_accuracy": round(fitted["ALL"][0] / fitted["ALL"][1], 4),
                "pages_with_gold": cv["ALL"][1],
            }
            for k, model in fold_models.items():
                write_model(REPO / ".cache" / "models" / f"fold-{k}" / f"meta_{name}.json", model,
                            {**card, "trained_on": card["trained_on"] + f", folds other than {k}"})
            write_model(MODEL_DIR / f"meta_{name}.json", full, card)
            print(f"  wrote {MODEL_DIR / f'meta_{name}.json'} and .cache/models/fold-*/meta_{name}.json")


if __name__ == "__main__":
    main()
