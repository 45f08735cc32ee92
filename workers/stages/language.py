"""Language identification of a cleaned body (py3langid), not a guess from the charset.

py3langid finds its byte n-gram features by walking an automaton over the text one byte at a time
in Python: most of its cost. ``classify`` gives py3langid's own answer with that walk done by
numpy. The automaton is Aho-Corasick's (its state after a byte is the longest suffix of the text
read so far that begins a feature, never longer than ``STATE_WINDOW`` bytes), so the state after
any byte is the one reached from the start state on the ``STATE_WINDOW`` bytes that end there:
every position's state is found at once, in ``STATE_WINDOW`` array steps. The scores are then
computed as py3langid computes them; ``tests/unit/test_language.py`` checks that the answers are
py3langid's, and the window against the model. A py3langid whose internals differ is called as is.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import numpy as np
import py3langid
from py3langid import langid as _langid

__all__ = ["STATE_WINDOW", "classify", "detect_language"]

_SAMPLE_CHARS = 5000
#: the longest feature of py3langid's model in bytes (the deepest state of its automaton)
STATE_WINDOW = 6


@dataclass(frozen=True)
class _Tables:
    identifier: Any
    nextmove: np.ndarray
    rowbase: np.ndarray
    output: np.ndarray


_lock = threading.Lock()
_tables: list[_Tables | None] = []


def _load() -> _Tables | None:
    """py3langid's model as arrays; None when its internals are not the ones this module reads."""
    if _tables:
        return _tables[0]
    with _lock:
        if not _tables:
            try:
                ident = _langid._get_identifier()
                if ident._norm_probs or ident.min_confidence is not None:
                    raise AttributeError("probability output")
                tables: _Tables | None = _Tables(
                    ident,
                    np.frombuffer(ident.tk_nextmove, dtype=np.dtype(ident.tk_nextmove.typecode)),
                    np.asarray(ident._rowbase, dtype=np.int64),
                    np.asarray(ident.tk_output, dtype=np.int64),
                )
                for name in ("_encode", "_alias_pairs", "nb_ptc", "nb_pc", "nb_classes"):
                    getattr(ident, name)
            except (AttributeError, TypeError, ValueError):
                tables = None
            _tables.append(tables)
    return _tables[0]


def automaton_states(tables: _Tables, data: bytes) -> np.ndarray:
    """The automaton's state after each byte of ``data`` (what py3langid's byte walk visits)."""
    codes = np.frombuffer(data, dtype=np.uint8)
    n = len(codes)
    state = np.zeros(n, dtype=np.int64)
    for back in range(min(STATE_WINDOW, n) - 1, -1, -1):  # the byte ``back`` places before each position
        state[back:] = tables.nextmove[tables.rowbase[state[back:]] + codes[: n - back]]
    return state


def classify(text: str) -> str:
    """py3langid's language code for ``text`` (``py3langid.classify(text)[0]``)."""
    tables = _load()
    if tables is None:
        return str(py3langid.classify(text)[0])
    ident = tables.identifier
    data = ident._encode(text)
    features = tables.output[automaton_states(tables, data)]
    features = features[features >= 0]
    if len(features):
        # py3langid counts features in the order they first occur: the same order here, the same sums
        unique, first, counts = np.unique(features, return_index=True, return_counts=True)
        order = np.argsort(first, kind="stable")
        index = unique[order].astype(np.intp)
        scores = np.log1p(counts[order].astype(np.float32)) @ ident.nb_ptc[index] + ident.nb_pc
    else:
        scores = np.full(len(ident.nb_classes), _langid.RAW_FLOOR, dtype=np.float32)
    for i, j in ident._alias_pairs:
        scores[i] = max(scores[i], scores[j])
        scores[j] = _langid.RAW_FLOOR
    return str(ident.nb_classes[int(scores.argmax())])


def detect_language(text: str) -> str | None:
    """ISO 639-1 code of ``text``'s language, or None when the text is too short to tell."""
    sample = text[:_SAMPLE_CHARS]
    if len(sample.split()) < 5 and len(sample) < 40:
        return None
    return classify(sample) or None
