"""Block features: one row of explainable numbers per text block.

Text statistics come from one vectorized pass over the page's code points (letters, digits,
upper case, punctuation, word starts, sentence ends) summed per block; vocabulary hits from one
regex pass over the page. Structure comes from the segmentation: the holder's tag, heading level,
context flags, class/id vocabulary of the holder and of all ancestors, how often the tag path
repeats on the page, the share of the page's words and links inside each of the nearest
ancestors, the neighbouring blocks, similarity to the <title> and <h1>, and page-wide figures
(including the page-type probabilities).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np

from workers.stages.html.segment import ANCESTOR_LEVELS, N_FLAGS, Segmented
from workers.stages.html.vocab import N_CLASS_GROUPS, N_TEXT_GROUPS, TEXT_GROUPS, text_group_hits

__all__ = ["BlockText", "FEATURE_NAMES", "block_features", "block_text_stats", "context_features", "CONTEXT_NAMES"]

TAGS = (
    "p", "div", "li", "td", "th", "h1", "h2", "h3", "h4", "h5", "h6", "span", "a", "section", "article", "dd",
    "dt", "pre", "blockquote", "figcaption", "caption", "label", "button", "header", "footer", "nav", "aside",
    "main", "form", "ul", "ol", "table", "tr", "body", "center", "summary", "address", "legend", "font",
)
TAG_CODE = {tag: i + 1 for i, tag in enumerate(TAGS)}
PAGE_TYPES = ("article", "forum", "product", "collection", "listing", "documentation", "service")

_STOPWORDS_FILE = Path(__file__).resolve().parents[1] / "data" / "stopwords.txt"


def _stopwords() -> frozenset[str]:
    words: set[str] = set()
    for line in _STOPWORDS_FILE.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#") and "\t" in line:
            words.update(w for w in line.split("\t", 1)[1].split() if len(w) > 1)
    return frozenset(words)


_STOPWORDS = _stopwords()
_TOKEN = re.compile(r"\w+")
_SEPARATORS = frozenset("|•·»›/>–—")
#: the separators counted in a block's text ("Home | News", "Sport • Football")
_SEPARATOR_CODES = np.array([ord(c) for c in "|•·»›"], dtype=np.uint32)

# code point classes (below 128; everything above counts as a letter)
_ASCII = np.zeros(128, dtype=np.int8)
for _c in range(128):
    ch = chr(_c)
    if ch.isdigit():
        _ASCII[_c] = 1
    elif ch.isupper():
        _ASCII[_c] = 2
    elif ch.islower():
        _ASCII[_c] = 3
    elif ch in ".!?":
        _ASCII[_c] = 4
    elif ch in ",;:":
        _ASCII[_c] = 5
    elif ch in "|/>-*#=+_~<[](){}\\@&%$^`'\"":
        _ASCII[_c] = 6
    elif ch.isspace():
        _ASCII[_c] = 7
    else:
        _ASCII[_c] = 6


class BlockText:
    """Per-block text statistics of a page (arrays, one entry per block)."""

    __slots__ = ("chars", "words", "digits", "upper", "letters", "sent_ends", "commas", "punct", "stop",
                 "groups", "ends_punct", "starts_upper", "separators", "tokens")

    def __init__(self, seg: Segmented):
        texts = [b.text for b in seg.blocks]
        n = len(texts)
        joined = "\n".join(texts)
        lengths = np.fromiter((len(t) for t in texts), dtype=np.int64, count=n)
        starts = np.zeros(n, dtype=np.int64)
        if n > 1:
            starts[1:] = np.cumsum(lengths[:-1] + 1)
        codes = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        cls = np.where(codes < 128, _ASCII[np.minimum(codes, 127)], 3).astype(np.int8)
        wordy = (cls == 1) | (cls == 2) | (cls == 3)
        word_start = wordy.copy()
        word_start[1:] &= ~wordy[:-1]
        sent_end = cls == 4
        sent_end[:-1] &= ~wordy[1:]

        def per_block(mask: np.ndarray) -> np.ndarray:
            if n == 0:
                return np.zeros(0)
            return np.add.reduceat(mask.astype(np.int32), starts) if len(mask) else np.zeros(n)

        self.chars = lengths.astype(np.float64)
        self.words = per_block(word_start).astype(np.float64)
        self.digits = per_block(cls == 1).astype(np.float64)
        self.upper = per_block(cls == 2).astype(np.float64)
        self.letters = per_block((cls == 2) | (cls == 3)).astype(np.float64)
        self.sent_ends = per_block(sent_end).astype(np.float64)
        self.commas = per_block(cls == 5).astype(np.float64)
        self.punct = per_block(cls == 6).astype(np.float64)
        self.separators = per_block(np.isin(codes, _SEPARATOR_CODES)).astype(np.float64)
        self.ends_punct = np.fromiter((t[-1] in ".!?:\"”'…)" for t in texts), dtype=np.float64, count=n)
        self.starts_upper = np.fromiter((t[0].isupper() for t in texts), dtype=np.float64, count=n)
        block_end = starts + lengths
        stop = _STOPWORDS
        findall, is_stop = _TOKEN.findall, stop.__contains__
        self.stop = np.fromiter((sum(map(is_stop, findall(t.lower()))) for t in texts), dtype=np.float64, count=n)
        groups = np.zeros((n, N_TEXT_GROUPS), dtype=np.float32)
        for g, hits in enumerate(text_group_hits(joined.lower())):
            if hits:
                groups[np.searchsorted(block_end, np.asarray(hits), side="right"), g] = 1.0
        self.groups = groups
        self.tokens = None


def block_text_stats(seg: Segmented) -> BlockText:
    return BlockText(seg)


def ancestor_matrix(seg: Segmented) -> np.ndarray:
    """(blocks x ``ANCESTOR_LEVELS``) element indexes of each block's holder and nearest block-level
    ancestors, -1 past the root."""
    pad = (-1,) * ANCESTOR_LEVELS
    rows = [b.ancestors if len(b.ancestors) == ANCESTOR_LEVELS else (b.ancestors + pad)[:ANCESTOR_LEVELS]
            for b in seg.blocks]
    return np.array(rows, dtype=np.int64).reshape(len(rows), ANCESTOR_LEVELS)


def _jaccard(tokens: set[str], other: set[str]) -> float:
    if not tokens or not other:
        return 0.0
    return len(tokens & other) / len(tokens | other)


#: the main container at share s: the deepest element holding at least s% of the page's text words
MAIN_SHARES = (50, 80)


def _names() -> list[str]:
    names = [
        "log_chars", "log_words", "avg_word_len", "digit_ratio", "upper_ratio", "punct_ratio", "log_sent_ends",
        "sent_per_word", "comma_per_word", "ends_punct", "starts_upper", "link_ratio", "stop_ratio",
        "breaks_per_word", "sep_per_word",
    ]
    names += [f"text_{g}" for g in TEXT_GROUPS]
    names += ["tag", "heading", "depth", "rel_depth"]
    names += [f"flag_{i}" for i in range(N_FLAGS)]
    names += [f"near_{i}" for i in range(N_CLASS_GROUPS)]
    names += [f"any_{i}" for i in range(N_CLASS_GROUPS)]
    names += ["rep_blocks_sig", "rep_holder_sigc", "rep_parent_sigc", "rep_grand_sigc", "rep_holder_sig"]
    for level in range(ANCESTOR_LEVELS):
        names += [f"anc{level}_word_share", f"anc{level}_link_ratio", f"anc{level}_log_blocks", f"anc{level}_density"]
    for share in MAIN_SHARES:
        names += [f"main{share}_inside", f"main{share}_rel_depth", f"main{share}_word_share"]
    names += ["pos", "words_before_share", "after_h1", "blocks_from_h1", "title_jaccard", "h1_jaccard", "is_h1"]
    for off in (-3, -2, -1, 1, 2, 3):
        names += [f"nb{off}_log_words", f"nb{off}_link_ratio", f"nb{off}_same_parent", f"nb{off}_heading"]
    names += ["win_log_text_words", "dup_blocks", "page_log_blocks", "page_log_words", "page_link_ratio", "page_max_log_words"]
    names += [f"ptype_{t}" for t in PAGE_TYPES]
    return names


FEATURE_NAMES = _names()
N_FEATURES = len(FEATURE_NAMES)
CATEGORICAL = [FEATURE_NAMES.index("tag")]


def _bits(values: np.ndarray, n_bits: int) -> np.ndarray:
    return ((values[:, None] >> np.arange(n_bits, dtype=np.int64)[None, :]) & 1).astype(np.float32)


def block_features(seg: Segmented, stats: BlockText, page_type_probs: np.ndarray) -> np.ndarray:
    """The feature matrix of a page's blocks (rows in block order, columns ``FEATURE_NAMES``)."""
    blocks = seg.blocks
    n = len(blocks)
    X = np.zeros((n, N_FEATURES), dtype=np.float32)
    if n == 0:
        return X
    words = stats.words
    safe_words = np.maximum(words, 1.0)
    chars = np.maximum(stats.chars, 1.0)
    link_chars = np.fromiter((b.link_chars for b in blocks), dtype=np.float64, count=n)
    link_ratio = link_chars / chars
    col = 0

    def put(values: Any) -> None:
        nonlocal col
        values = np.asarray(values, dtype=np.float32)
        if values.ndim == 1:
            X[:, col] = values
            col += 1
        else:
            X[:, col : col + values.shape[1]] = values
            col += values.shape[1]

    put(np.log1p(stats.chars))
    put(np.log1p(words))
    put(stats.letters / safe_words)
    put(stats.digits / chars)
    put(stats.upper / np.maximum(stats.letters, 1.0))
    put(stats.punct / chars)
    put(np.log1p(stats.sent_ends))
    put(stats.sent_ends / safe_words)
    put(stats.commas / safe_words)
    put(stats.ends_punct)
    put(stats.starts_upper)
    put(link_ratio)
    put(stats.stop / safe_words)
    put(np.fromiter((b.line_breaks for b in blocks), dtype=np.float64, count=n) / safe_words)
    put(stats.separators / safe_words)
    put(stats.groups)

    el_tag = seg.el_tag
    holders = np.fromiter((b.holder for b in blocks), dtype=np.int64, count=n)
    put(np.fromiter((TAG_CODE.get(el_tag[h], 0) if h >= 0 else 0 for h in holders), dtype=np.float64, count=n))
    put(np.fromiter((b.heading for b in blocks), dtype=np.float64, count=n))
    depth = np.fromiter((b.depth for b in blocks), dtype=np.float64, count=n)
    put(depth)
    weighted_depth = float(np.average(depth, weights=words)) if words.sum() > 0 else float(depth.mean())
    put(depth - weighted_depth)
    put(_bits(np.fromiter((b.flags for b in blocks), dtype=np.int64, count=n), N_FLAGS))
    put(_bits(np.fromiter((b.near_mask for b in blocks), dtype=np.int64, count=n), N_CLASS_GROUPS))
    put(_bits(np.fromiter((b.any_mask for b in blocks), dtype=np.int64, count=n), N_CLASS_GROUPS))

    # repetition of the tag path
    el_sig, el_sigc, el_parent = seg.el_sig, seg.el_sigc, seg.el_parent
    sig_counts: dict[int, int] = {}
    for s in el_sig:
        sig_counts[s] = sig_counts.get(s, 0) + 1
    sigc_counts: dict[int, int] = {}
    for s in el_sigc:
        sigc_counts[s] = sigc_counts.get(s, 0) + 1
    block_sig_counts: dict[int, int] = {}
    holder_sigs = [el_sig[h] if h >= 0 else 0 for h in holders]
    for s in holder_sigs:
        block_sig_counts[s] = block_sig_counts.get(s, 0) + 1

    def up(h: int) -> int:
        return el_parent[h] if h >= 0 else -1

    parents = [up(h) for h in holders]
    grands = [up(p) for p in parents]
    put(np.log1p([block_sig_counts[s] for s in holder_sigs]))
    put(np.log1p([sigc_counts[el_sigc[h]] if h >= 0 else 0 for h in holders]))
    put(np.log1p([sigc_counts[el_sigc[p]] if p >= 0 else 0 for p in parents]))
    put(np.log1p([sigc_counts[el_sigc[g]] if g >= 0 else 0 for g in grands]))
    put(np.log1p([sig_counts[el_sig[h]] if h >= 0 else 0 for h in holders]))

    # containers: the holder and its nearest block-level ancestors
    cum_words = np.concatenate(([0.0], np.cumsum(words)))
    cum_links = np.concatenate(([0.0], np.cumsum(link_ratio * words)))
    page_words = max(cum_words[-1], 1.0)
    el_first = np.asarray(seg.el_first, dtype=np.int64)
    el_end = np.asarray(seg.el_end, dtype=np.int64)
    ancestors = ancestor_matrix(seg)
    for level in range(ANCESTOR_LEVELS):
        anc = ancestors[:, level]
        present = anc >= 0
        safe = np.where(present, anc, 0)
        first = np.where(present, el_first[safe] if len(el_first) else 0, np.arange(n))
        end = np.where(present, el_end[safe] if len(el_end) else 0, np.arange(n) + 1)
        sub_words = cum_words[end] - cum_words[first]
        sub_links = cum_links[end] - cum_links[first]
        sub_blocks = np.maximum(end - first, 1)
        put(sub_words / page_words)
        put(sub_links / np.maximum(sub_words, 1.0))
        put(np.log1p(sub_blocks))
        put(sub_words / sub_blocks)

    # main containers (readability's idea without its weights): the deepest element that holds at
    # least a given share of the page's text (words outside links)
    n_el = len(el_first)
    el_depth = np.zeros(n_el, dtype=np.int64)
    for e, parent in enumerate(el_parent):
        if parent >= 0:
            el_depth[e] = el_depth[parent] + 1
    text_words = words * (1.0 - link_ratio)
    cum_text = np.concatenate(([0.0], np.cumsum(text_words)))
    el_text = cum_text[el_end] - cum_text[el_first] if n_el else np.zeros(0)
    total_text = max(cum_text[-1], 1.0)
    block_index = np.arange(n)
    holder_depth = np.fromiter((b.depth for b in blocks), dtype=np.float64, count=n)
    for share in MAIN_SHARES:
        candidates = np.nonzero(el_text >= share / 100.0 * total_text)[0] if n_el else np.zeros(0, dtype=np.int64)
        if len(candidates):
            main = candidates[np.argmax(el_depth[candidates])]
            inside = (block_index >= el_first[main]) & (block_index < el_end[main])
            put(inside)
            put(holder_depth - el_depth[main])
            put(np.full(n, (cum_words[el_end[main]] - cum_words[el_first[main]]) / page_words))
        else:
            put(np.zeros(n))
            put(np.zeros(n))
            put(np.zeros(n))

    # position, headline
    index = np.arange(n, dtype=np.float64)
    put(index / max(n - 1, 1))
    put(cum_words[:-1] / page_words)
    h1_index = next((i for i, b in enumerate(blocks) if b.heading == 1), -1)
    put(index > h1_index if h1_index >= 0 else np.full(n, 0.5))
    put(np.clip(index - h1_index, -50, 50) if h1_index >= 0 else np.full(n, -99.0))
    title_tokens = set(_TOKEN.findall(seg.title.lower()))
    h1_tokens = set(_TOKEN.findall(seg.h1.lower()))
    title_sim = [0.0] * n
    h1_sim = [0.0] * n
    if title_tokens or h1_tokens:
        findall = _TOKEN.findall
        for i in np.flatnonzero(words <= 40).tolist():
            tokens = set(findall(blocks[i].text.lower()))
            title_sim[i] = _jaccard(tokens, title_tokens)
            h1_sim[i] = _jaccard(tokens, h1_tokens)
    put(title_sim)
    put(h1_sim)
    put(index == h1_index)

    # neighbours
    log_words = np.log1p(words)
    headings = np.fromiter((b.heading for b in blocks), dtype=np.float64, count=n)
    parent_ids = np.asarray(parents, dtype=np.int64)
    for off in (-3, -2, -1, 1, 2, 3):
        src = index.astype(np.int64) + off
        valid = (src >= 0) & (src < n)
        srcc = np.clip(src, 0, n - 1)
        put(np.where(valid, log_words[srcc], -1.0))
        put(np.where(valid, link_ratio[srcc], -1.0))
        put(np.where(valid, parent_ids[srcc] == parent_ids, False))
        put(np.where(valid, headings[srcc], -1.0))
    lo = np.clip(index.astype(np.int64) - 5, 0, n)
    hi = np.clip(index.astype(np.int64) + 6, 0, n)
    put(np.log1p(cum_text[hi] - cum_text[lo]))
    # the same text elsewhere on the page (menus in the header and the footer, "Reply" under every post)
    seen: dict[str, int] = {}
    keys = [b.text.lower() for b in blocks]
    for key in keys:
        seen[key] = seen.get(key, 0) + 1
    put(np.log([seen[key] for key in keys]))

    # page
    put(np.full(n, np.log1p(n)))
    put(np.full(n, np.log1p(page_words)))
    put(np.full(n, float((link_ratio * words).sum() / page_words)))
    put(np.full(n, float(log_words.max())))
    put(np.broadcast_to(np.asarray(page_type_probs, dtype=np.float32), (n, len(PAGE_TYPES))))
    assert col == N_FEATURES, (col, N_FEATURES)
    return X


# ----------------------------------------------------------------------------- second pass

CONTEXT_NAMES = (
    [f"p_nb{off}" for off in (-3, -2, -1, 1, 2, 3)]
    + [f"p_anc{level}" for level in range(1, ANCESTOR_LEVELS)]
    + ["p_self", "p_page_max", "p_page_kept_share", "p_rank", "p_win"]
)


def context_features(seg: Segmented, words: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Second-pass features: the first pass's scores around each block and in its containers."""
    n = len(p)
    C = np.zeros((n, len(CONTEXT_NAMES)), dtype=np.float32)
    if n == 0:
        return C
    index = np.arange(n)
    col = 0
    for off in (-3, -2, -1, 1, 2, 3):
        src = index + off
        valid = (src >= 0) & (src < n)
        C[:, col] = np.where(valid, p[np.clip(src, 0, n - 1)], -1.0)
        col += 1
    weight = np.maximum(words, 1.0)
    cum_pw = np.concatenate(([0.0], np.cumsum(p * weight)))
    cum_w = np.concatenate(([0.0], np.cumsum(weight)))
    el_first = np.asarray(seg.el_first, dtype=np.int64)
    el_end = np.asarray(seg.el_end, dtype=np.int64)
    ancestors = ancestor_matrix(seg)
    for level in range(1, ANCESTOR_LEVELS):
        anc = ancestors[:, level]
        present = anc >= 0
        safe = np.where(present, anc, 0)
        first = np.where(present, el_first[safe] if len(el_first) else 0, index)
        end = np.where(present, el_end[safe] if len(el_end) else 0, index + 1)
        C[:, col] = (cum_pw[end] - cum_pw[first]) / np.maximum(cum_w[end] - cum_w[first], 1.0)
        col += 1
    C[:, col] = p
    C[:, col + 1] = p.max()
    C[:, col + 2] = float((weight * (p > 0.5)).sum() / weight.sum())
    C[:, col + 3] = (np.argsort(np.argsort(-p)) / max(n - 1, 1)).astype(np.float32)
    lo = np.clip(index - 5, 0, n)
    hi = np.clip(index + 6, 0, n)
    C[:, col + 4] = (cum_pw[hi] - cum_pw[lo]) / np.maximum(cum_w[hi] - cum_w[lo], 1.0)
    return C
