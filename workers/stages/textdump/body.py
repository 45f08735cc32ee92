"""From line probabilities to the body: which lines are kept, and how they are joined."""

from __future__ import annotations

import math

import numpy as np

from workers.stages.textdump.lines import Line
from workers.stages.textdump.patterns import BULLET_RE

__all__ = ["select_lines", "smooth_article", "cut_at_comments", "prose_lines", "join_lines", "MIN_BODY_UNITS",
           "COMMENTS_CUT_UNITS", "SWITCH_COST"]

# Below this many word units what the classifier kept is a stray blurb, not main content.
MIN_BODY_UNITS = 8.0
# A short text of this many lines at most, with no page around it (a note, a one-paragraph story),
# keeps its running text when the classifier (which learned from whole pages) keeps nothing.
SHORT_TEXT_LINES = 20
PROSE_MIN_UNITS = 12.0
PROSE_MIN_STOP_RATIO = 0.2
# An article ends at a comments heading ("Comments", "Leave a reply", "[ 167 comments ]") below at
# least this many of its kept words: what follows are readers' comments. Chosen out of fold
# (ops/train/train_textdump.py, model card).
COMMENTS_CUT_UNITS = 200.0
# An article's lines are smoothed as a two-state sequence (content / not content): leaving or
# entering the content costs this much log-likelihood. Chosen out of fold (model card); the
# smoothing is for articles only: on listings and forums it loses (model card).
SWITCH_COST = 1.5


def select_lines(lines: list[Line], p: np.ndarray, threshold: float) -> list[Line]:
    """The lines whose probability of being main content reaches ``threshold``; none when they
    add up to less than ``MIN_BODY_UNITS`` words."""
    kept = [line for line, q in zip(lines, p.tolist(), strict=True) if q >= threshold]
    if sum(line.units for line in kept) < MIN_BODY_UNITS:
        return []
    return kept


def smooth_article(lines: list[Line], p: np.ndarray, threshold: float,
                   switch_cost: float = SWITCH_COST) -> np.ndarray:
    """``p`` with each line moved to the side of ``threshold`` that the most likely sequence of
    content / not-content states puts it on (Viterbi): a line's evidence is its log-probability
    against the threshold's, weighted by the square root of its length in words, and each change
    of state costs ``switch_cost`` (the page begins and ends outside its content, so entering it
    at the first line costs one too). A lone teaser line between paragraphs drops out, a short
    line inside the article's text stays."""
    n = len(p)
    if n == 0:
        return p
    weight = np.sqrt(np.maximum(np.array([line.units for line in lines]), 1.0))
    q = np.clip(p, 1e-6, 1.0 - 1e-6)
    t = min(max(threshold, 1e-6), 1.0 - 1e-6)  # evidence is measured against the threshold
    # state 0: not content, 1: content
    emit = np.column_stack([(np.log1p(-q) - math.log1p(-t)) * weight, (np.log(q) - math.log(t)) * weight])
    # the page starts and ends outside its content: entering it at the first line, or leaving it
    # after the last, costs a switch too
    outside = np.array([0.0, switch_cost])
    score = emit[0] - outside
    back = np.zeros((n, 2), dtype=np.int64)
    for i in range(1, n):
        stay, switch = score, score[::-1] - switch_cost
        back[i] = np.where(switch > stay, 1 - np.arange(2), np.arange(2))
        score = np.maximum(stay, switch) + emit[i]
    score = score - outside
    state = np.empty(n, dtype=np.int64)
    state[-1] = int(score[1] > score[0])
    for i in range(n - 1, 0, -1):
        state[i - 1] = back[i, state[i]]
    below = np.nextafter(threshold, 0.0)
    return np.where(state == 1, np.maximum(p, threshold), np.minimum(p, below))


def cut_at_comments(lines: list[Line], kept: list[Line], min_units: float = COMMENTS_CUT_UNITS) -> list[Line]:
    """``kept`` (an article's lines) up to the first comments heading that stands below at least
    ``min_units`` kept words; all of them when there is none."""
    if not kept:
        return kept
    chosen = {line.idx for line in kept}
    above = 0.0
    for line in lines[kept[0].idx:kept[-1].idx + 1]:
        if line.idx in chosen:
            above += line.units
        elif line.kind == "comments" and above >= min_units:
            return [k for k in kept if k.idx < line.idx]
    return kept


def prose_lines(lines: list[Line]) -> list[Line]:
    """The lines of running text of a short text (none for a longer page, or without prose)."""
    if len(lines) > SHORT_TEXT_LINES:
        return []
    kept = [line for line in lines
            if line.kind is None and not line.bullet and line.units >= PROSE_MIN_UNITS
            and line.stop_ratio >= PROSE_MIN_STOP_RATIO and line.sentences >= 1]
    return kept if sum(line.units for line in kept) >= MIN_BODY_UNITS else []


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
