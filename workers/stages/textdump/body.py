"""From line probabilities to the body: which lines are kept, and how they are joined."""

from __future__ import annotations

import numpy as np

from workers.stages.textdump.lines import Line
from workers.stages.textdump.patterns import BULLET_RE

__all__ = ["select_lines", "join_lines", "MIN_BODY_UNITS"]

# Below this many word units what the classifier kept is a stray blurb, not main content.
MIN_BODY_UNITS = 8.0


def select_lines(lines: list[Line], p: np.ndarray, threshold: float) -> list[Line]:
    """The lines whose probability of being main content reaches ``threshold``; none when they
    add up to less than ``MIN_BODY_UNITS`` words."""
    kept = [line for line, q in zip(lines, p.tolist(), strict=True) if q >= threshold]
    if sum(line.units for line in kept) < MIN_BODY_UNITS:
        return []
    return kept


def _listy(line: Line) -> bool:
    return line.bullet or line.numbered or line.columns >= 2


def join_lines(kept: list[Line]) -> str:
    """One paragraph per line; adjacent list items and table rows stay together in one block."""
    parts: list[str] = []
    prev: Line | None = None
    for line in kept:
        if parts:
            together = prev is not None and line.idx == prev.idx + 1 and not line.blank_before
            listy = prev is not None and _listy(line) and _listy(prev)
            parts.append("\n" if together and listy else "\n\n")
        parts.append(line.text)
        prev = line
    return "".join(parts)


def strip_bullet(text: str) -> str:
    return BULLET_RE.sub("", text, count=1).strip()
