"""Training material for the text-dump line classifier: plain-text dumps with a gold label per line.

Dumps are made exactly as the ScrapingHub text dumps were (inscriptis 2.7 ``get_text(html)`` with its
default config, runs of blank lines collapsed to one, trailing spaces removed) from the HTML pages of
the WCXB dev split; the ScrapingHub dev dumps (``textdump_pages()``) are used as they are. Renders
are cached under ``.cache/textdump/renders/`` (inscriptis is slow on big pages).

A line is labelled by how much of it the gold main content holds (``line_labels``): the share of its
word 3-grams found in the gold text; a line of one or two words counts when it continues the gold
text across a line boundary (a subhead between two paragraphs), not when its words merely occur
somewhere in the gold ("Home", "News").
"""

from __future__ import annotations

import hashlib
import pickle
import re
import sys
import time
from dataclasses import dataclass

import numpy as np

from ops.train.datasets import REPO, DevPage, textdump_pages, wcxb_pages
from workers.stages.textdump.features import line_features
from workers.stages.textdump.lines import Line, read_lines

CACHE = REPO / ".cache" / "textdump" / "renders"
FEATURES_FILE = REPO / ".cache" / "textdump" / "features.pkl"
# a WCXB render longer than this many lines is cut for training (a few listings run to thousands)
MAX_TRAIN_LINES = 3000
_BLANKS_RE = re.compile(r"\n{3,}")
_TOKEN_RE = re.compile(r"\w+")


@dataclass
class PageData:
    """One training page: its lines, their features and labels."""

    corpus: str
    id: str
    site: str
    fold: int
    page_type: str
    gold: str
    lines: list[Line]
    x: np.ndarray  # line features, float32 (for training: a quarter of the pages without their URL)
    x_eval: np.ndarray | None  # line features with the URL, where ``x`` was made without it
    y: np.ndarray  # label: share of the line in the gold main content
    w: np.ndarray  # training weight

    @property
    def x_scored(self) -> np.ndarray:
        """The features a page is scored with: always with its URL, as the scorer passes it."""
        return self.x if self.x_eval is None else self.x_eval



def render_dump(html: str) -> str:
    """The plain-text dump of an HTML page, made as the ScrapingHub dumps were."""
    from inscriptis import get_text  # training-only dependency (extra "train")

    text = get_text(html)
    text = "\n".join(line.rstrip() for line in text.split("\n"))
    return _BLANKS_RE.sub("\n\n", text).strip("\n") + "\n"


def dump_of(page: DevPage, corpus: str) -> str:
    """The dump of a dev page: rendered (and cached) for an HTML page, read for a text dump."""
    if page.path.suffix == ".txt":
        return page.read()
    cached = CACHE / corpus / f"{page.id}.txt"
    if cached.is_file():
        return cached.read_text(encoding="utf-8")
    text = render_dump(page.read())
    cached.parent.mkdir(parents=True, exist_ok=True)
    cached.write_text(text, encoding="utf-8")
    return text


def training_pages() -> list[tuple[str, DevPage]]:
    """(corpus, page) for every page the line classifier learns from: WCXB dev (all page types,
    rendered) and the ScrapingHub dev text dumps."""
    return [("wcxb", p) for p in wcxb_pages()] + [("scrapinghub", p) for p in textdump_pages()]


def _tokens(text: str) -> list[str]:
    return _TOKEN_RE.findall(text.lower())


def line_labels(lines: list[str], gold: str) -> list[float]:
    """Share (0..1) of each line that belongs to the gold main content (blank lines: 0)."""
    gold_tokens = _tokens(gold)
    grams = {tuple(gold_tokens[i : i + 3]) for i in range(len(gold_tokens) - 2)}
    gold_seq = " " + " ".join(gold_tokens) + " "
    toks = [_tokens(line) for line in lines]
    nonblank = [i for i, t in enumerate(toks) if t]
    out = [0.0] * len(lines)
    for k, i in enumerate(nonblank):
        t = toks[i]
        if len(t) >= 3:
            hits = sum(1 for j in range(len(t) - 2) if tuple(t[j : j + 3]) in grams)
            out[i] = hits / (len(t) - 2)
            continue
        prev = toks[nonblank[k - 1]][-2:] if k > 0 else []
        nxt = toks[nonblank[k + 1]][:2] if k + 1 < len(nonblank) else []
        joined = " " + " ".join(t) + " "
        if joined not in gold_seq:
            continue
        if (prev and " " + " ".join(prev + t) + " " in gold_seq) or (nxt and " " + " ".join(t + nxt) + " " in gold_seq):
            out[i] = 1.0
        elif len(gold_tokens) <= len(t) + 2:
            out[i] = 1.0
    return out


def _without_url(page_id: str) -> bool:
    """A quarter of the pages train without their URL: the parse stage does not always know it."""
    return int(hashlib.sha1(page_id.encode()).hexdigest(), 16) % 4 == 0


def _weights(lines: list[Line]) -> np.ndarray:
    return np.sqrt(np.array([max(line.units, 1.0) for line in lines]))


def build_features() -> list[PageData]:
    """Lines, labels and features of every training page (cached in ``FEATURES_FILE``)."""
    data: list[PageData] = []
    t0 = time.perf_counter()
    for n, (corpus, page) in enumerate(training_pages(), 1):
        lines = read_lines(dump_of(page, corpus))
        if corpus == "wcxb" and len(lines) > MAX_TRAIN_LINES:
            lines = lines[:MAX_TRAIN_LINES]
        if not lines:
            continue
        y = np.array(line_labels([line.text for line in lines], page.gold_body), dtype=np.float32)
        x_eval = line_features(lines, page.url).astype(np.float32)
        x = line_features(lines, None).astype(np.float32) if _without_url(page.id) else x_eval
        data.append(PageData(corpus, page.id, page.site, page.fold, page.page_type or "article", page.gold_body,
                             lines, x, None if x is x_eval else x_eval, y, _weights(lines)))
        if n % 200 == 0:
            print(f"features {n} pages, {time.perf_counter() - t0:.0f} s", file=sys.stderr, flush=True)
    FEATURES_FILE.parent.mkdir(parents=True, exist_ok=True)
    with FEATURES_FILE.open("wb") as fh:
        pickle.dump(data, fh, protocol=pickle.HIGHEST_PROTOCOL)
    return data


def load_features() -> list[PageData]:
    if not FEATURES_FILE.is_file():
        return build_features()
    with FEATURES_FILE.open("rb") as fh:
        return pickle.load(fh)


def main() -> None:
    """Render (and cache) every WCXB dev page: ``python -m ops.train.textdump_data``."""
    pages = training_pages()
    for n, (corpus, page) in enumerate(pages, 1):
        dump_of(page, corpus)
        if n % 100 == 0:
            print(f"{n}/{len(pages)}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
