"""Choosing a field's value among its candidates: a logistic-regression scorer over explainable
features (which sources gave the value, how many agree, where it sits, how it looks).

A model is a small JSON file (``workers/stages/html/model/meta_<field>.json``: feature weights,
bias, threshold, training card), trained by ``ops/train/train_metadata.py``; it is loaded once
per process and per folder. ``GLEANER_MODEL_DIR`` (passed down as ``model_dir``) replaces a shipped
file of the same name, so cross-validation runs each fold with the models trained without it.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from workers.stages.model_files import model_path

__all__ = ["Candidate", "LinearGate", "LinearRanker", "MODEL_DIR", "load_ranker", "best"]

MODEL_DIR = Path(__file__).resolve().parent / "model"


@dataclass
class Candidate:
    """One possible value of a field, the features that describe it, and what to output."""

    key: Any
    value: Any
    features: dict[str, float] = field(default_factory=dict)
    score: float = 0.0


@dataclass(frozen=True)
class LinearGate:
    """Whether the page has the field at all, judged from its best candidate's features."""

    weights: dict[str, float]
    bias: float = 0.0
    threshold: float = 0.5

    def probability(self, features: dict[str, float]) -> float:
        return _sigmoid(self.bias + sum(self.weights.get(name, 0.0) * value for name, value in features.items()))


@dataclass(frozen=True)
class LinearRanker:
    weights: dict[str, float]
    bias: float = 0.0
    #: below this probability the best candidate is not output (the field stays empty)
    threshold: float = 0.0
    gate: LinearGate | None = None

    def probability(self, features: dict[str, float]) -> float:
        return _sigmoid(self.bias + sum(self.weights.get(name, 0.0) * value for name, value in features.items()))


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))


@lru_cache(maxsize=32)
def _load(path: str) -> LinearRanker | None:
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None
    gate = data.get("gate")
    return LinearRanker(
        weights={str(k): float(v) for k, v in data.get("weights", {}).items()},
        bias=float(data.get("bias", 0.0)),
        threshold=float(data.get("threshold", 0.0)),
        gate=LinearGate(
            weights={str(k): float(v) for k, v in gate.get("weights", {}).items()},
            bias=float(gate.get("bias", 0.0)), threshold=float(gate.get("threshold", 0.5)),
        ) if isinstance(gate, dict) else None,
    )


def load_ranker(field_name: str, model_dir: Path | None = None) -> LinearRanker | None:
    """The ranker of ``field_name`` (``meta_<field>.json``), ``None`` when there is no model file."""
    return _load(str(model_path(f"meta_{field_name}.json", MODEL_DIR, model_dir)))


def best(candidates: list[Candidate], ranker: LinearRanker | None, fallback: list[str] | None = None) -> Candidate | None:
    """The highest-scoring candidate above the ranker's threshold. Without a model, the first
    candidate that has any of the ``fallback`` features (in that order), else the first."""
    if not candidates:
        return None
    if ranker is None:
        for name in fallback or ():
            for cand in candidates:
                if cand.features.get(name):
                    return cand
        return candidates[0]
    for cand in candidates:
        cand.score = ranker.probability(cand.features)
    top = max(candidates, key=lambda c: c.score)
    if top.score < ranker.threshold:
        return None
    if ranker.gate is not None and ranker.gate.probability(top.features) < ranker.gate.threshold:
        return None
    return top
