"""The learned parts of the HTML stage: page type and block scores, and which blocks to keep.

Model files (trained by ``ops/train/train_html.py``; see ``model/README.md``) are loaded once per
process and per model folder. A folder given at run time (``GLEANER_MODEL_DIR``) replaces any
shipped file of the same name (``workers/stages/model_files.py``).
"""

from __future__ import annotations

import gzip
import json
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, cast

import numpy as np

from workers.stages.html.features import CONTEXT_NAMES, FEATURE_NAMES, PAGE_TYPES, context_features
from workers.stages.html.page_type import PAGE_TYPE_FEATURE_NAMES
from workers.stages.model_files import model_path

if TYPE_CHECKING:
    import lightgbm

    from workers.stages.html.segment import Segmented

__all__ = ["HtmlModels", "SETTINGS_FILE", "THRESHOLD", "keep_blocks", "load_models"]

MODEL_DIR = Path(__file__).resolve().parent / "model"
PAGE_TYPE_FILE = "html_page_type.lgb.txt.gz"
BLOCKS_FILE = "html_blocks.lgb.txt.gz"
BLOCKS_CTX_FILE = "html_blocks_ctx.lgb.txt.gz"
SETTINGS_FILE = "html_blocks.json"
#: a block is kept when its score (the expected share of its words that is main content) reaches the
#: threshold of the page's type (chosen in training on out-of-fold scores), else this
THRESHOLD = 0.5
#: when no block reaches the threshold, blocks scoring at least this share of the best score are kept...
RESCUE_SHARE = 0.6
#: ... provided the best score reaches this (below it the page has no main content)
RESCUE_MIN = 0.15

_PTYPE_COLS = slice(FEATURE_NAMES.index("ptype_article"), FEATURE_NAMES.index("ptype_article") + len(PAGE_TYPES))


@dataclass
class HtmlModels:
    page_type: lightgbm.Booster
    blocks: lightgbm.Booster
    blocks_ctx: lightgbm.Booster | None
    thresholds: dict[str, float]  # per page type, and "default"

    def threshold_for(self, page_type: str) -> float:
        return self.thresholds.get(page_type, self.thresholds.get("default", THRESHOLD))

    def page_type_probs(self, page_features: np.ndarray) -> np.ndarray:
        return self.page_type.predict(page_features[None, :], num_threads=1)[0]

    def block_scores(self, seg: Segmented, X: np.ndarray, words: np.ndarray, page_type_probs: np.ndarray) -> np.ndarray:
        if len(X) == 0:
            return np.zeros(0)
        X[:, _PTYPE_COLS] = page_type_probs
        # one page: threads would cost more than they save
        p = cast(np.ndarray, self.blocks.predict(X, num_threads=1))
        if self.blocks_ctx is not None:
            p = cast(np.ndarray, self.blocks_ctx.predict(np.hstack([X, context_features(seg, words, p)]), num_threads=1))
        return p


def keep_blocks(scores: np.ndarray, words: np.ndarray, threshold: float = THRESHOLD) -> np.ndarray:
    """Which blocks are main content: those with words scoring at least ``threshold``; on a page
    where none does, the best-scoring ones, unless even the best is so low that nothing is content."""
    scores = np.where(words > 0, scores, 0.0)
    keep = scores >= threshold
    if not keep.any() and len(scores) and scores.max() >= RESCUE_MIN:
        keep = scores >= RESCUE_SHARE * scores.max()
    return keep


_lock = threading.Lock()
_loaded: dict[Path | None, HtmlModels] = {}


def _check(settings: dict, name: str, expected: list[str]) -> None:
    if list(settings.get(name) or expected) != list(expected):
        raise RuntimeError(f"{SETTINGS_FILE}: the model was trained with other {name} than this code computes; "
                           "retrain it (ops/train/train_html.py)")


def load_models(override_dir: Path | None = None) -> HtmlModels:
    """The models for ``override_dir`` (or the shipped ones), loaded once per process."""
    key = Path(override_dir) if override_dir else None
    models = _loaded.get(key)
    if models is not None:
        return models
    with _lock:
        models = _loaded.get(key)
        if models is None:
            import lightgbm  # 0.3 s of imports, paid by processes that parse HTML only

            def booster(name: str) -> lightgbm.Booster:
                text = gzip.decompress(model_path(name, MODEL_DIR, key).read_bytes()).decode("utf-8")
                return lightgbm.Booster(model_str=text)

            settings = json.loads(model_path(SETTINGS_FILE, MODEL_DIR, key).read_text())
            _check(settings, "features", FEATURE_NAMES)
            _check(settings, "context_features", list(CONTEXT_NAMES))
            _check(settings, "page_type_features", PAGE_TYPE_FEATURE_NAMES)
            ctx = booster(BLOCKS_CTX_FILE) if settings.get("second_pass") else None
            thresholds = {str(k): float(v) for k, v in (settings.get("thresholds") or {}).items()}
            models = HtmlModels(booster(PAGE_TYPE_FILE), booster(BLOCKS_FILE), ctx, thresholds)
            _loaded[key] = models
    return models
