"""Metadata candidates of the WCXB dev pages, with their labels, for training and evaluating the
title / authors / date rankers (``train_metadata.py``).

Labels follow the benchmark's scorer (``shared/tools/wcxb_score.py``, ``metadata()``): a title is
right when it equals the gold title after NFKC, lower case and keeping words only; authors are
right when every gold author (gold split at ",", " and ", "&") is among them; a date is right
when its first 10 characters equal the gold date's.
"""

from __future__ import annotations

import pickle
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

from ops.train.datasets import REPO, DevPage, wcxb_pages
from workers.stages.html.dom import parse_html
from workers.stages.html.metadata_authors import author_candidates
from workers.stages.html.metadata_dates import date_candidates
from workers.stages.html.metadata_page import norm_key, read_page
from workers.stages.html.metadata_ranker import Candidate
from workers.stages.html.metadata_title import title_candidates
from workers.stages.html.page_type import declared_url

FIELDS = ("title", "authors", "date")
#: which URL the metadata reads: the page's own ("page", as in training and ``gleaner submit``), none,
#: or the one the page declares (canonical, og:url: what ``clean_html`` gives it without a URL)
URL_MODES = ("page", "none", "declared")
CACHE = REPO / ".cache" / "metadata" / "candidates.pkl"
_GOLD_AUTHOR_SPLIT = re.compile(r"\s*(?:,| and |&)\s*")


@dataclass
class PageCandidates:
    id: str
    site: str
    fold: int
    page_type: str
    gold: dict[str, object]
    candidates: dict[str, list[Candidate]] = field(default_factory=dict)
    labels: dict[str, list[bool]] = field(default_factory=dict)
    seconds: float = 0.0  # reading the page's signals and building all candidates


def gold_authors(gold: str | None) -> list[str]:
    return [norm_key(a) for a in _GOLD_AUTHOR_SPLIT.split(gold or "") if a.strip()]


def is_right(field_name: str, value, gold) -> bool:
    """Whether ``value`` (a candidate's output) is right for ``gold``, as WCXB scores it."""
    if gold in (None, ""):
        return False
    if field_name == "title":
        return norm_key(value) == norm_key(gold)
    if field_name == "authors":
        got = {norm_key(a) for a in value or ()}
        return bool(got) and all(a in got for a in gold_authors(gold))
    return str(value.isoformat() if hasattr(value, "isoformat") else value or "")[:10] == str(gold)[:10]


def page_candidates(page: DevPage, url_mode: str = "page") -> PageCandidates:
    gold = {"title": page.gold_title, "authors": page.gold_author, "date": page.gold_date}
    out = PageCandidates(page.id, page.site, page.fold, page.page_type or "article", gold)
    tree = parse_html(page.read())
    started = time.perf_counter()
    if tree is not None:
        url = page.url if url_mode == "page" else declared_url(tree) if url_mode == "declared" else None
        sig = read_page(tree, url)
        out.candidates = {"title": title_candidates(sig), "authors": author_candidates(sig), "date": date_candidates(sig)}
    out.seconds = time.perf_counter() - started
    for name in FIELDS:
        out.labels[name] = [is_right(name, c.value, gold[name]) for c in out.candidates.get(name, [])]
    return out


def load_candidates(rebuild: bool = False, limit: int | None = None, url_mode: str = "page") -> list[PageCandidates]:
    """Candidates of every WCXB dev page (with the page's URL: cached in .cache/metadata/ unless ``rebuild``)."""
    if url_mode != "page":
        return [page_candidates(p, url_mode) for p in (wcxb_pages()[:limit] if limit else wcxb_pages())]
    if CACHE.exists() and not rebuild and limit is None:
        return pickle.loads(CACHE.read_bytes())
    pages = wcxb_pages()[:limit] if limit else wcxb_pages()
    result = [page_candidates(p) for p in pages]
    if limit is None:
        CACHE.parent.mkdir(parents=True, exist_ok=True)
        CACHE.write_bytes(pickle.dumps(result))
    return result


def cache_path() -> Path:
    return CACHE
