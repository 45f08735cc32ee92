"""The three models of the text-dump cleaner, trained out of fold at every level.

- page type: LightGBM multiclass over ``PAGE_TYPES`` on ``page_features``;
- line pass: LightGBM on the line features plus the page-type probabilities;
- context pass: the same plus ``context_features`` of the line pass's probabilities.

A model "without W" is trained on the pages of every fold outside W. The inputs it learns from
are themselves out of fold: a training page of fold j gets its page-type probabilities from the
page-type model without W + {j}, and the context pass over fold j learns from line-pass
probabilities of the line model without W + {j}. So the models that score fold k (``without
{k}``) never saw a page of fold k's sites, directly or through another model's output.
"""

from __future__ import annotations

import sys
import time

import numpy as np

from ops.train.textdump_data import PageData
from workers.stages.textdump.body import cut_at_comments, join_lines, select_lines, smooth_article
from workers.stages.textdump.features import CONTEXT_FEATURES, LINE_FEATURES, context_features
from workers.stages.textdump.model import line_inputs
from workers.stages.textdump.page_type import PAGE_FEATURES, PAGE_TYPE_COLUMNS, PAGE_TYPES, page_features

__all__ = ["Trainer", "decided_body", "PARAMS", "ROUNDS_LINE", "ROUNDS_CONTEXT", "ROUNDS_PAGE", "THRESHOLD"]

THRESHOLD = 0.5
PARAMS = {
    "objective": "cross_entropy", "learning_rate": 0.05, "num_leaves": 31, "min_data_in_leaf": 40,
    "feature_fraction": 0.8, "bagging_fraction": 0.8, "bagging_freq": 1, "lambda_l2": 1.0,
    "num_threads": 1, "verbose": -1, "seed": 7, "deterministic": True, "force_row_wise": True,
}
PAGE_PARAMS = {
    "objective": "multiclass", "num_class": len(PAGE_TYPES), "learning_rate": 0.1, "num_leaves": 15,
    "min_data_in_leaf": 10, "feature_fraction": 0.8, "bagging_fraction": 0.8, "bagging_freq": 1,
    "lambda_l2": 1.0, "num_threads": 1, "verbose": -1, "seed": 7, "deterministic": True,
}
ROUNDS_LINE = 400
ROUNDS_CONTEXT = 200
ROUNDS_PAGE = 100
DUMP_WEIGHT = 3.0  # training weight of a ScrapingHub dump's lines against a WCXB render's (model card)
X1_FEATURES = LINE_FEATURES + PAGE_TYPE_COLUMNS
X2_FEATURES = X1_FEATURES + CONTEXT_FEATURES


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


class Trainer:
    """Memoised models "without W" over one set of training pages."""

    def __init__(self, data: list[PageData], dump_weight: float = DUMP_WEIGHT) -> None:
        self.data = data
        # the ScrapingHub dumps are real text dumps (the WCXB ones are renders): they may count more
        self.dump_weight = dump_weight
        self.weights = [p.w * (dump_weight if p.corpus == "scrapinghub" else 1.0) for p in data]
        self.page_rows = np.array([page_features(p.x) for p in data])
        self.page_rows_scored = np.array([page_features(p.x_scored) for p in data])
        self.labels = np.array([PAGE_TYPES.index(p.page_type) for p in data])
        self._page: dict[frozenset[int], object] = {}
        self._line: dict[frozenset[int], object] = {}
        self._context: dict[frozenset[int], object] = {}

    def _train(self, params: dict, x: np.ndarray, y: np.ndarray, w: np.ndarray | None, rounds: int,
               names: tuple[str, ...]):
        import lightgbm

        ds = lightgbm.Dataset(x, label=y, weight=w, feature_name=list(names), free_raw_data=True)
        return lightgbm.train(params, ds, num_boost_round=rounds)

    def page_model(self, without: frozenset[int]):
        if without not in self._page:
            keep = np.array([p.fold not in without for p in self.data])
            self._page[without] = self._train(PAGE_PARAMS, self.page_rows[keep], self.labels[keep], None,
                                              ROUNDS_PAGE, PAGE_FEATURES)
        return self._page[without]

    def page_probs(self, i: int, without: frozenset[int], scored: bool = False) -> np.ndarray:
        """Page-type probabilities of page ``i`` from a model that saw neither ``without`` nor its fold."""
        rows = self.page_rows_scored if scored else self.page_rows
        return self.page_model(without | {self.data[i].fold}).predict(rows[i:i + 1], num_threads=1)[0]

    def x1(self, i: int, without: frozenset[int], scored: bool = False) -> np.ndarray:
        page = self.data[i]
        x = page.x_scored if scored else page.x
        return line_inputs(x, self.page_probs(i, without, scored)).astype(np.float32)

    def _pages(self, without: frozenset[int]) -> list[int]:
        return [i for i, p in enumerate(self.data) if p.fold not in without]

    def line_model(self, without: frozenset[int]):
        if without not in self._line:
            idx = self._pages(without)
            t0 = time.perf_counter()
            x = np.concatenate([self.x1(i, without) for i in idx])
            y = np.concatenate([self.data[i].y for i in idx])
            w = np.concatenate([self.weights[i] for i in idx])
            self._line[without] = self._train(PARAMS, x, y, w, ROUNDS_LINE, X1_FEATURES)
            _log(f"  line model without folds {sorted(without)}: {len(y)} lines, {time.perf_counter() - t0:.0f} s")
        return self._line[without]

    def context_model(self, without: frozenset[int]):
        if without not in self._context:
            idx = self._pages(without)
            xs, ys, ws = [], [], []
            for j in sorted({self.data[i].fold for i in idx}):
                m1 = self.line_model(without | {j})
                for i in idx:
                    if self.data[i].fold == j:
                        x1 = self.x1(i, without)  # its page-type model: without + {j}
                        p1 = m1.predict(x1, num_threads=1)
                        xs.append(np.column_stack([x1, context_features(p1, self.data[i].lines)]).astype(np.float32))
                        ys.append(self.data[i].y)
                        ws.append(self.weights[i])
            self._context[without] = self._train(PARAMS, np.concatenate(xs), np.concatenate(ys), np.concatenate(ws),
                                                 ROUNDS_CONTEXT, X2_FEATURES)
        return self._context[without]

    def scored(self, i: int, without: frozenset[int], final: bool = False) -> tuple[str, np.ndarray, np.ndarray]:
        """(body, line probabilities, page-type probabilities) of page ``i`` by the models without
        ``without``; ``final``: the page-type model trained on all of them too (the shipped set)."""
        page = self.data[i]
        probs = (self.page_model(without).predict(self.page_rows_scored[i:i + 1], num_threads=1)[0] if final
                 else self.page_probs(i, without, scored=True))
        x1 = line_inputs(page.x_scored, probs).astype(np.float32)
        p1 = self.line_model(without).predict(x1, num_threads=1)
        x2 = np.column_stack([x1, context_features(p1, page.lines)]).astype(np.float32)
        p2 = self.context_model(without).predict(x2, num_threads=1)
        return decided_body(page.lines, p2, PAGE_TYPES[int(np.argmax(probs))]), p2, probs


def decided_body(lines: list, p2: np.ndarray, page_type: str) -> str:
    """The body the stage's decision step makes of the context pass's probabilities (as
    ``clean_text_dump`` does for a web page)."""
    if page_type == "article":
        p2 = smooth_article(lines, p2, THRESHOLD)
    kept = select_lines(lines, p2, THRESHOLD)
    if page_type == "article":
        kept = cut_at_comments(lines, kept)
    return join_lines(kept)
