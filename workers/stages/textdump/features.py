"""Feature matrices of the line classifier: every column is a named, explainable fact of a line,
of its neighbours or of its place on the page.

Two passes. ``line_features``: what a line says and how it is laid out (length, wording,
punctuation, list and table layout, indentation against the page's text indentation, chrome cues,
repeats), where it sits, and the same facts summed over windows of neighbours. ``context_features``:
the first pass's probabilities of the neighbours (the main content is mostly one contiguous
stretch, so a line between two article paragraphs is likely article too).
"""

from __future__ import annotations

import math
import re
from collections import Counter

import numpy as np

from workers.stages.textdump.lines import Line
from workers.stages.textdump.patterns import KINDS, WORD_RE

__all__ = ["LINE_FEATURES", "CONTEXT_FEATURES", "line_features", "context_features"]

_BASE = (
    "units_log", "chars_log", "indent", "stop_ratio", "cap_ratio", "upper_ratio", "title_case", "avg_word",
    "digit_ratio", "punct_ratio", "comma_ratio", "sent_end", "colon_end", "sentences", "columns", "has_url",
    "ellipsis", "starts_lower", "quote", "separators", "has_date", "has_year", "bullet", "numbered",
    "blank_before", "blank_after", "cjk", "dup_log", "glued",
) + tuple(f"kind_{k}" for k in KINDS)
_PAGE = (
    "rel_pos", "words_before", "page_lines_log", "page_units_log", "indent_off", "on_text_indent",
    "indent_rank", "block_lines", "block_units_log", "pos_in_block", "prose_score", "in_best_run",
    "run_dist", "run_share", "sections_above", "sections_below", "legal_above", "legal_below",
    "comments_above", "since_section_log", "until_section_log", "since_header_log", "until_header_log",
    "slug_cover", "slug_title_dist", "slug_par_indent_same", "slug_par_dist", "header_par_indent_same",
    "header_par_dist",
)
_NEIGHBOUR_COLS = ("units_log", "stop_ratio", "sent_end", "bullet", "chrome", "same_indent", "columns")
_OFFSETS = (-2, -1, 1, 2)
_WINDOW_COLS = ("prose", "units_log", "bullet", "chrome", "sent_end", "title_case", "short", "has_date", "reldate",
                "dup", "glued", "headline_like", "sentences", "long")
_WINDOWS = (3, 10, 30)
LINE_FEATURES: tuple[str, ...] = (
    _BASE + _PAGE
    + tuple(f"{c}_{o:+d}" for o in _OFFSETS for c in _NEIGHBOUR_COLS)
    + tuple(f"win{w}_{c}" for w in _WINDOWS for c in _WINDOW_COLS)
)
_P_OFFSETS = (-3, -2, -1, 1, 2, 3)
_P_WINDOWS = (3, 10, 30)
CONTEXT_FEATURES: tuple[str, ...] = (
    ("p",) + tuple(f"p_{o:+d}" for o in _P_OFFSETS) + tuple(f"pwin{w}" for w in _P_WINDOWS)
    + ("p_max_above", "p_max_below", "p_in_run", "p_run_dist", "p_run_share", "p_rank")
    + ("seg_units_log", "seg_share", "seg_is_main", "seg_rank", "seg_mean_p", "seg_main_dist", "seg_main_indent",
       "seg_count", "seg_line_units_log", "seg_long_share", "seg_long_share_vs_max")
    + ("core_overlap", "top_overlap")
)
# The lines whose words make the page's topic for ``top_overlap``: the most probable ones.
TOP_LINES = 8
# Segments of the second pass: stretches of lines the first pass reads as content, split where at
# least this many lines in a row are not.
SEGMENT_GAP = 3

_KIND_INDEX = {k: i for i, k in enumerate(KINDS)}
_B = {name: i for i, name in enumerate(_BASE)}
_CHROME_SCORE = {"section": -4.0, "comments": -4.0, "legal": -4.0, "caption": -1.5, "social": -1.5,
                 "furniture": -1.0, "byline": -1.0, "reldate": -1.0}


def _base_row(line: Line) -> list[float]:
    row = [
        math.log1p(line.units), math.log1p(line.chars), float(line.indent), line.stop_ratio, line.cap_ratio,
        line.upper_ratio, line.title_case, line.avg_word, line.digit_ratio, line.punct_ratio, line.comma_ratio,
        float(line.sent_end), float(line.colon_end), float(line.sentences), float(line.columns),
        float(line.has_url), float(line.ellipsis), float(line.starts_lower), float(line.quote),
        float(line.separators), float(line.has_date), float(line.has_year), float(line.bullet),
        float(line.numbered), float(line.blank_before), float(line.blank_after), line.cjk, math.log(line.dup),
        float(line.glued),
    ]
    kinds = [0.0] * len(KINDS)
    if line.kind is not None:
        kinds[_KIND_INDEX[line.kind]] = 1.0
    return row + kinds


def _prose_score(line: Line) -> float:
    """A hand-made prior of "article text" (> 0) against chrome (< 0), for the run statistics."""
    if line.kind is not None:
        return _CHROME_SCORE[line.kind]
    if line.units < 8:
        return -0.3 - 0.4 * line.bullet - 0.3 * (line.dup > 1) + 0.3 * (line.sent_end and line.units >= 4)
    if line.cjk > 0.3:
        q = 0.6 + 0.4 * line.sent_end
    else:
        q = 0.5 * min(line.stop_ratio / 0.25, 1.0) + 0.3 * line.sent_end + 0.2 * (1.0 - line.cap_ratio)
    q -= 0.15 * line.bullet + 0.3 * (line.dup > 1)
    return min(line.units, 80.0) * 0.2 * (q - 0.45)


def _best_run(scores: np.ndarray) -> tuple[int, int, float]:
    """Maximum-sum contiguous run (Kadane): (start, end_exclusive, sum)."""
    best, best_a, best_b = 0.0, 0, 0
    cur, cur_a = 0.0, 0
    for i, s in enumerate(scores.tolist()):
        if cur <= 0.0:
            cur, cur_a = s, i
        else:
            cur += s
        if cur > best:
            best, best_a, best_b = cur, cur_a, i + 1
    return best_a, best_b, best


def _run_columns(scores: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray, float]:
    """In the best run (0/1), signed distance to it (lines / page length), its share of the positives."""
    a, b, total = _best_run(scores)
    idx = np.arange(n)
    inside = ((idx >= a) & (idx < b)).astype(np.float64)
    dist = np.where(idx < a, idx - a, np.where(idx >= b, idx - b + 1, 0)) / max(n, 1)
    positive = float(np.clip(scores, 0, None).sum())
    return inside, dist, (total / positive if positive > 0 else 0.0)


def _window_mean(col: np.ndarray, w: int) -> np.ndarray:
    """Mean of ``col`` over the ``w`` lines on each side (the line included), clipped at the page edges."""
    n = len(col)
    c = np.concatenate(([0.0], np.cumsum(col)))
    idx = np.arange(n)
    lo = np.maximum(idx - w, 0)
    hi = np.minimum(idx + w + 1, n)
    return (c[hi] - c[lo]) / (hi - lo)


def _shift(col: np.ndarray, off: int, fill: float) -> np.ndarray:
    out = np.full_like(col, fill)
    if off < 0:
        out[-off:] = col[:off]
    elif off > 0:
        out[:-off] = col[off:]
    return out


def _text_indent(lines: list[Line]) -> int:
    """The indentation of the page's running text: weighted mode over prose-like lines."""
    weight: dict[int, float] = {}
    for line in lines:
        if line.units >= 8 and line.stop_ratio >= 0.15 and line.kind is None and not line.bullet:
            weight[line.indent] = weight.get(line.indent, 0.0) + line.units
    return max(weight, key=weight.__getitem__) if weight else 0


def _since(flags: np.ndarray, reverse: bool = False) -> np.ndarray:
    """Lines since the last flagged line (or until the next one when ``reverse``); n+1 if none."""
    n = len(flags)
    out = np.empty(n)
    last = None
    rng = range(n - 1, -1, -1) if reverse else range(n)
    for i in rng:
        if flags[i]:
            last = i
        out[i] = abs(i - last) if last is not None else n + 1
    return out


def _header_flags(lines: list[Line]) -> np.ndarray:
    """Article headers: a dateline or byline with a headline-shaped line at most 4 lines above it."""
    n = len(lines)
    flags = np.zeros(n, dtype=bool)
    last_headline = -10
    for i, line in enumerate(lines):
        meta = line.kind == "byline" or (line.has_date and line.units <= 14)
        if meta and i - last_headline <= 4:
            flags[i] = True
        elif (line.kind is None and not line.bullet and 3 <= line.units <= 30 and not line.has_date
              and (not line.sent_end or line.text.endswith("?"))):
            last_headline = i
    return flags


_SLUG_SPLIT_RE = re.compile(r"[^\w]+|_")
_SLUG_NOISE = frozenset("www html htm php aspx asp index article articles story stories news post posts amp "
                        "com org net blog page".split())


def _slug_columns(lines: list[Line], url: str | None) -> tuple[np.ndarray, np.ndarray]:
    """How much of the URL's slug a line holds, and each line's signed distance (share of the page)
    to the line that holds most of it (the headline, usually); NaN without a URL or a match."""
    n = len(lines)
    nan = np.full(n, np.nan)
    if not url:
        return nan, nan
    path = url.split("://", 1)[-1].partition("/")[2].split("?", 1)[0]
    slug = {w for w in _SLUG_SPLIT_RE.split(path.lower()) if len(w) > 2 and not w.isdigit()} - _SLUG_NOISE
    if len(slug) < 2:
        return nan, nan
    cover = np.zeros(n)
    for i, line in enumerate(lines):
        if line.units <= 60:
            words = {w for w in WORD_RE.findall(line.text.lower()) if len(w) > 2}
            cover[i] = len(words & slug) / len(slug)
    best = int(np.argmax(cover))
    if cover[best] < 0.4:
        return cover, nan
    return cover, (np.arange(n) - best) / n


# The first paragraph after a headline is looked for this many lines below it.
PARAGRAPH_WINDOW = 10


def _paragraph_columns(lines: list[Line], start: int | None) -> tuple[np.ndarray, np.ndarray]:
    """Whether a line shares the indentation of the article's first paragraph (the first prose
    line at most ``PARAGRAPH_WINDOW`` lines below ``start``, a headline), and its signed distance
    to it (share of the page); NaN when there is no such paragraph."""
    n = len(lines)
    nan = np.full(n, np.nan)
    if start is None:
        return nan, nan
    for j in range(start + 1, min(n, start + 1 + PARAGRAPH_WINDOW)):
        line = lines[j]
        if line.units >= 15 and line.stop_ratio >= 0.15 and line.kind is None:
            indents = np.array([x.indent for x in lines])
            return (indents == line.indent).astype(np.float64), (np.arange(n) - j) / n
    return nan, nan


def line_features(lines: list[Line], url: str | None = None) -> np.ndarray:
    """The first-pass feature matrix, one row per line, columns ``LINE_FEATURES`` (``url``: the
    page's address when known; its slug points at the headline)."""
    n = len(lines)
    if n == 0:
        return np.zeros((0, len(LINE_FEATURES)))
    base = np.array([_base_row(line) for line in lines], dtype=np.float64)
    units = np.array([line.units for line in lines])
    indents = base[:, _B["indent"]]
    kinds = base[:, len(_BASE) - len(KINDS):]
    chrome = kinds.sum(axis=1)
    section = kinds[:, _KIND_INDEX["section"]] + kinds[:, _KIND_INDEX["comments"]]
    legal = kinds[:, _KIND_INDEX["legal"]]
    comments = kinds[:, _KIND_INDEX["comments"]]
    stop = base[:, _B["stop_ratio"]]
    sent_end = base[:, _B["sent_end"]]
    bullet = base[:, _B["bullet"]]
    units_log = base[:, _B["units_log"]]

    idx = np.arange(n)
    total_units = max(units.sum(), 1.0)
    text_indent = _text_indent(lines)
    distinct = sorted(set(indents.tolist()))
    rank = {v: i for i, v in enumerate(distinct)}
    block_id = np.cumsum([1 if line.blank_before else 0 for line in lines])
    block_lines = np.bincount(block_id)[block_id].astype(np.float64)
    block_units = np.bincount(block_id, weights=units)[block_id]
    pos_in_block = np.zeros(n)
    for i in range(1, n):
        if block_id[i] == block_id[i - 1]:
            pos_in_block[i] = pos_in_block[i - 1] + 1
    scores = np.array([_prose_score(line) for line in lines])
    headers = _header_flags(lines)
    slug_cover, slug_dist = _slug_columns(lines, url)
    in_run, run_dist, run_share = _run_columns(scores, n)
    n_sections = max(section.sum(), 1.0)
    n_legal = max(legal.sum(), 1.0)
    page = np.column_stack([
        idx / max(n - 1, 1), (np.cumsum(units) - units) / total_units,
        np.full(n, math.log1p(n)), np.full(n, math.log1p(total_units)),
        indents - text_indent, (indents == text_indent).astype(np.float64),
        np.array([rank[v] for v in indents.tolist()], dtype=np.float64),
        block_lines, np.log1p(block_units), pos_in_block, scores, in_run, run_dist, np.full(n, run_share),
        (np.cumsum(section) - section) / n_sections, (section.sum() - np.cumsum(section)) / n_sections,
        (np.cumsum(legal) - legal) / n_legal, (legal.sum() - np.cumsum(legal)) / n_legal,
        (np.cumsum(comments) - comments > 0).astype(np.float64),
        np.log1p(_since(section > 0)), np.log1p(_since(section > 0, reverse=True)),
        np.log1p(_since(headers)), np.log1p(_since(headers, reverse=True)), slug_cover, slug_dist,
        *_paragraph_columns(lines, int(np.argmax(slug_cover)) if not np.isnan(slug_dist).all() else None),
        *_paragraph_columns(lines, int(np.argmax(headers)) if headers.any() else None),
    ])

    neighbour_src = {
        "units_log": (units_log, 0.0), "stop_ratio": (stop, 0.0), "sent_end": (sent_end, 0.0),
        "bullet": (bullet, 0.0), "chrome": (chrome, 0.0), "columns": (base[:, _B["columns"]], 0.0),
    }
    neighbours = []
    for off in _OFFSETS:
        for col in _NEIGHBOUR_COLS:
            if col == "same_indent":
                neighbours.append((_shift(indents, off, -1.0) == indents).astype(np.float64))
            else:
                src, fill = neighbour_src[col]
                neighbours.append(_shift(src, off, fill))
    prose = ((units >= 8) & (stop >= 0.15) & (chrome == 0)).astype(np.float64)
    window_src = {"prose": prose, "units_log": units_log, "bullet": bullet, "chrome": chrome, "sent_end": sent_end,
                  "title_case": base[:, _B["title_case"]], "short": (units < 8).astype(np.float64), "has_date": base[:, _B["has_date"]],
                  "reldate": kinds[:, _KIND_INDEX["reldate"]], "dup": (base[:, _B["dup_log"]] > 0).astype(np.float64),
                  "glued": np.minimum(base[:, _B["glued"]], 1.0),
                  "headline_like": ((units >= 3) & (units <= 16) & (sent_end == 0) & (chrome == 0)).astype(np.float64),
                  "sentences": np.minimum(base[:, _B["sentences"]], 4.0), "long": (units >= 30).astype(np.float64)}
    windows = [_window_mean(window_src[c], w) for w in _WINDOWS for c in _WINDOW_COLS]
    return np.column_stack([base, page, np.column_stack(neighbours), np.column_stack(windows)])


def context_features(p: np.ndarray, lines: list[Line]) -> np.ndarray:
    """The second-pass columns ``CONTEXT_FEATURES`` from the first pass's probabilities ``p``."""
    n = len(p)
    if n == 0:
        return np.zeros((0, len(CONTEXT_FEATURES)))
    units = np.array([line.units for line in lines])
    weight = np.log1p(units)
    cols = [p] + [_shift(p, off, 0.0) for off in _P_OFFSETS]
    wsum = np.maximum(weight, 1e-6)
    for w in _P_WINDOWS:
        cols.append(_window_mean(p * wsum, w) / _window_mean(wsum, w))
    above = np.maximum.accumulate(np.concatenate(([0.0], p[:-1])))
    below = np.maximum.accumulate(np.concatenate(([0.0], p[::-1][:-1])))[::-1]
    in_run, run_dist, run_share = _run_columns((p - 0.5) * weight, n)
    order = np.argsort(-p, kind="stable")
    rank = np.empty(n)
    rank[order] = np.arange(n) / max(n - 1, 1)
    cols += [above, below, in_run, run_dist, np.full(n, run_share), rank]
    cols += _segment_columns(p, units, np.array([line.indent for line in lines], dtype=np.float64))
    cols += _topic_columns(p, lines)
    return np.column_stack(cols)


def _overlap(lines: list[Line], members: np.ndarray) -> np.ndarray:
    """Share of each line's content words found in another line of ``members`` (a mask)."""
    df: Counter[str] = Counter()
    for line, member in zip(lines, members.tolist(), strict=True):
        if member:
            df.update(line.content)
    out = np.zeros(len(lines))
    for i, (line, member) in enumerate(zip(lines, members.tolist(), strict=True)):
        if line.content:
            own = 1 if member else 0
            out[i] = sum(1 for w in line.content if df[w] > own) / len(line.content)
    return out


def _topic_columns(p: np.ndarray, lines: list[Line]) -> list[np.ndarray]:
    """How much of a line's wording the likely content shares: an article's paragraphs talk about
    the same people and things, the teasers around it about other stories."""
    top = np.zeros(len(p), dtype=bool)
    top[np.argsort(-p, kind="stable")[:TOP_LINES]] = True
    return [_overlap(lines, p >= 0.5), _overlap(lines, top)]


def _segment_columns(p: np.ndarray, units: np.ndarray, indents: np.ndarray) -> list[np.ndarray]:
    """Where a line stands among the stretches of content the first pass sees: the size of its
    stretch, its share and rank, whether it is the main (largest) one, how far from the main one,
    and whether it shares the main one's indentation. A teaser box or a comment thread after an
    article is a smaller stretch of its own; on a listing the items are the main stretch."""
    n = len(p)
    hit = p >= 0.5
    seg = np.full(n, -1)
    current, gap = -1, SEGMENT_GAP
    for i in range(n):
        if hit[i]:
            if gap >= SEGMENT_GAP:
                current += 1
            gap = 0
            seg[i] = current
        else:
            gap += 1
            if gap < SEGMENT_GAP and current >= 0:
                seg[i] = current
    count = current + 1
    zeros = np.zeros(n)
    if count == 0:
        return [zeros, zeros, zeros, zeros, zeros, np.ones(n), zeros, zeros, zeros, zeros, zeros]
    inside = seg >= 0
    mass = np.bincount(seg[inside], weights=(units * hit)[inside], minlength=count)
    mean_p = np.bincount(seg[inside], weights=p[inside], minlength=count) / np.maximum(
        np.bincount(seg[inside], minlength=count), 1)
    main = int(np.argmax(mass))
    order = np.argsort(-mass, kind="stable")
    seg_rank = np.empty(count)
    seg_rank[order] = np.arange(count)
    total = max(mass.sum(), 1e-9)
    main_lines = np.flatnonzero(seg == main)
    a, b = main_lines[0], main_lines[-1]
    idx = np.arange(n)
    dist = np.where(idx < a, idx - a, np.where(idx > b, idx - b, 0)) / max(n, 1)
    main_hits = (seg == main) & hit
    values, weights = np.unique(indents[main_hits], return_counts=True)
    main_indent = values[np.argmax(weights)] if len(values) else 0.0
    safe = np.where(inside, seg, 0)
    # paragraphs of an article are long; teasers, comments and menus are short lines
    hit_lines = np.maximum(np.bincount(seg[inside], weights=hit[inside].astype(np.float64), minlength=count), 1)
    line_units = mass / hit_lines
    long_share = np.bincount(seg[inside], weights=(hit & (units >= 30))[inside].astype(np.float64), minlength=count) / hit_lines
    return [
        np.where(inside, np.log1p(mass[safe]), 0.0), np.where(inside, mass[safe] / total, 0.0),
        (seg == main).astype(np.float64), np.where(inside, seg_rank[safe], count), np.where(inside, mean_p[safe], 0.0),
        dist, (indents == main_indent).astype(np.float64), np.full(n, float(count)),
        np.where(inside, np.log1p(line_units[safe]), 0.0), np.where(inside, long_share[safe], 0.0),
        np.where(inside, long_share[safe] - long_share.max(), -1.0),
    ]
