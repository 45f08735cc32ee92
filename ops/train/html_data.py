"""Training rows for the HTML models: every dev page cut into blocks by the parse stage's own code,
with its features and a label per block taken from the page's gold main content.

Label of a block: the share of its tokens that the gold text holds at the same place, found by
aligning the page's token sequence (all blocks in order) with the gold's (difflib; ordered
matches only, so a "Home" link is not content because the gold mentions "home" somewhere).

Segmentations and labels are cached in ``.cache/html/`` and rebuilt when the stage's parsing or
segmentation code changes (the cache key is a hash of those modules); features are computed on
every load.
"""

from __future__ import annotations

import hashlib
import pickle
import re
import sys
import time
from dataclasses import dataclass
from difflib import SequenceMatcher
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from ops.train.datasets import DevPage, scrapinghub_pages, wcxb_pages  # noqa: E402
from workers.stages.html import dom, segment, vocab  # noqa: E402
from workers.stages.html.features import PAGE_TYPES, BlockText, block_features  # noqa: E402
from workers.stages.html.page_type import page_type_features  # noqa: E402

CACHE = REPO / ".cache" / "html"
_TOKEN = re.compile(r"\w+")


@dataclass
class PageRows:
    id: str
    dataset: str  # "wcxb" or "scrapinghub"
    site: str
    fold: int
    page_type: str
    url: str | None
    gold: str
    seg: segment.Segmented
    X: np.ndarray  # block features (page-type columns still zero)
    page_X: np.ndarray  # page-type features
    label: np.ndarray  # share of each block's tokens found in the gold, in order
    tokens: np.ndarray  # tokens per block
    gold_tokens: int
    with_snippets: tuple[str, ...] = ()
    without_snippets: tuple[str, ...] = ()


def block_labels(seg: segment.Segmented, gold: str) -> tuple[np.ndarray, np.ndarray, int]:
    per_block = [_TOKEN.findall(b.text.lower()) for b in seg.blocks]
    flat = [t for toks in per_block for t in toks]
    gold_tokens = _TOKEN.findall(gold.lower())
    matched = np.zeros(len(flat) + 1, dtype=bool)
    if flat and gold_tokens:
        matcher = SequenceMatcher(None, flat, gold_tokens, autojunk=False)
        for a, _b, size in matcher.get_matching_blocks():
            matched[a : a + size] = True
    counts = np.fromiter((len(t) for t in per_block), dtype=np.int64, count=len(per_block))
    if len(counts) == 0:
        return np.zeros(0), counts, len(gold_tokens)
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    hits = np.add.reduceat(matched[:-1].astype(np.int64), np.minimum(starts, max(len(flat) - 1, 0))) if flat else np.zeros(len(counts))
    hits = np.where(counts > 0, hits, 0)
    label = np.where(counts > 0, hits / np.maximum(counts, 1), 0.0)
    return label, counts, len(gold_tokens)


def page_rows(page: DevPage, dataset: str) -> PageRows:
    """A page segmented and labelled (features are added by ``add_features``)."""
    tree = dom.parse_html(page.read())
    seg = segment.segment(tree) if tree is not None else segment.Segmented([], [], [], [], [], [], [])
    label, tokens, gold_tokens = block_labels(seg, page.gold_body)
    return PageRows(
        id=page.id, dataset=dataset, site=page.site, fold=page.fold, page_type=page.page_type or "article",
        url=page.url, gold=page.gold_body, seg=seg, X=np.zeros((0, 0)), page_X=np.zeros(0),
        label=label, tokens=tokens, gold_tokens=gold_tokens, with_snippets=page.with_snippets,
        without_snippets=page.without_snippets,
    )


def add_features(rows: list[PageRows]) -> None:
    """Block and page-type features of every page, by the stage's own code (fast: not cached)."""
    for row in rows:
        stats = BlockText(row.seg)
        row.X = block_features(row.seg, stats, np.zeros(len(PAGE_TYPES)))
        row.page_X = page_type_features(row.seg, stats, row.url)


def code_version() -> str:
    """Hash of the code the cached segmentation and labels depend on."""
    digest = hashlib.sha1()
    for module in (dom, segment, vocab, sys.modules[__name__]):
        digest.update(Path(module.__file__).read_bytes())
    return digest.hexdigest()[:12]


def load_rows(dataset: str, limit: int | None = None, verbose: bool = True) -> list[PageRows]:
    """All pages of ``dataset`` ("wcxb" or "scrapinghub") as rows, from the cache when it is current."""
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"{dataset}-{code_version()}{'-' + str(limit) if limit else ''}.pkl"
    if path.is_file():
        with path.open("rb") as fh:
            rows = pickle.load(fh)
        add_features(rows)
        return rows
    pages = wcxb_pages() if dataset == "wcxb" else scrapinghub_pages()
    if limit:
        pages = pages[:limit]
    started = time.time()
    rows = []
    for i, page in enumerate(pages):
        rows.append(page_rows(page, dataset))
        if verbose and (i + 1) % 200 == 0:
            print(f"  {dataset}: {i + 1}/{len(pages)} pages, {time.time() - started:.0f} s", flush=True)
    for old in CACHE.glob(f"{dataset}-*.pkl"):
        old.unlink()
    with path.open("wb") as fh:
        pickle.dump(rows, fh, protocol=pickle.HIGHEST_PROTOCOL)
    if verbose:
        print(f"  {dataset}: {len(rows)} pages in {time.time() - started:.0f} s -> {path}", flush=True)
    add_features(rows)
    return rows


if __name__ == "__main__":
    from ops.train import html_data  # pickle the rows under this module's name, not __main__'s

    for name in sys.argv[1:] or ["wcxb", "scrapinghub"]:
        html_data.load_rows(name)
