"""The line classifier's model files: three gzipped LightGBM boosters (page type, line pass, context
pass) and the decision threshold, loaded once per process and per model folder.

The files ship in ``model/`` beside this module; a folder given at run time (settings ``model_dir``)
replaces any of them it holds (``workers.stages.model_files.model_path``). ``model/README.md`` is
the model card: training data, features, cross-validated figures.
"""

from __future__ import annotations

import gzip
import json
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, cast

import numpy as np

from workers.stages.model_files import model_path
from workers.stages.textdump.features import CONTEXT_FEATURES, LINE_FEATURES
from workers.stages.textdump.page_type import PAGE_FEATURES, PAGE_TYPE_COLUMNS

if TYPE_CHECKING:
    import lightgbm

__all__ = ["PAGE_MODEL", "LINE_MODEL", "CONTEXT_MODEL", "DECISION", "LineModel", "load_line_model", "line_inputs"]

SHIPPED = Path(__file__).parent / "model"
PAGE_MODEL = "textdump_pagetype.lgb.txt.gz"
LINE_MODEL = "textdump_lines.lgb.txt.gz"
CONTEXT_MODEL = "textdump_context.lgb.txt.gz"
DECISION = "textdump_decision.json"

_lock = threading.Lock()


@dataclass(frozen=True)
class LineModel:
    """The page-type model, both passes and the decision settings."""

    page: lightgbm.Booster  # multiclass over PAGE_TYPES
    line: lightgbm.Booster
    context: lightgbm.Booster
    threshold: float
    settings: dict

    def predict_page(self, row: np.ndarray) -> np.ndarray:
        return self.page.predict(row.reshape(1, -1), num_threads=1)[0]

    def predict_line(self, x: np.ndarray) -> np.ndarray:
        return cast(np.ndarray, self.line.predict(x, num_threads=1))

    def predict_context(self, x: np.ndarray) -> np.ndarray:
        return cast(np.ndarray, self.context.predict(x, num_threads=1))


def line_inputs(x: np.ndarray, page_probs: np.ndarray) -> np.ndarray:
    """The first pass's input: the line features and the page-type probabilities on every row."""
    return np.column_stack([x, np.broadcast_to(page_probs, (len(x), len(page_probs)))])


@lru_cache(maxsize=4)
def _load(page_file: Path, line_file: Path, context_file: Path, decision_file: Path) -> LineModel:
    import lightgbm

    def booster(path: Path) -> lightgbm.Booster:
        return lightgbm.Booster(model_str=gzip.decompress(path.read_bytes()).decode("utf-8"))

    page, line, context = booster(page_file), booster(line_file), booster(context_file)
    settings = json.loads(decision_file.read_text(encoding="utf-8"))
    n_line = len(LINE_FEATURES) + len(PAGE_TYPE_COLUMNS)
    want = (len(PAGE_FEATURES), n_line, n_line + len(CONTEXT_FEATURES))
    got = (page.num_feature(), line.num_feature(), context.num_feature())
    if got != want:
        raise ValueError(
            f"{line_file.parent}: the text-dump model files expect {got} features, this code makes {want}: "
            "retrain (ops/train/train_textdump.py) or fix model_dir")
    return LineModel(page=page, line=line, context=context, threshold=float(settings["threshold"]), settings=settings)


def load_line_model(model_dir: Path | None = None) -> LineModel:
    """The line model, from ``model_dir`` where it holds a file, else the shipped one (loaded once
    per process and folder; the lock keeps threads of one worker from loading it twice)."""
    with _lock:
        return _load(
            model_path(PAGE_MODEL, SHIPPED, model_dir),
            model_path(LINE_MODEL, SHIPPED, model_dir),
            model_path(CONTEXT_MODEL, SHIPPED, model_dir),
            model_path(DECISION, SHIPPED, model_dir),
        )
