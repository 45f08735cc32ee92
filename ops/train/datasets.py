"""The development data every learned component trains and is cross-validated on, and the one
fold assignment they all share.

Folds are grouped by registrable domain (``site_of``): every page of a site falls in the same fold,
so a model never scores a site it was fitted on. The fold of a site is a hash of its name, so it
is the same for every component, every run and every machine; the parse stage of fold ``k`` can
then run with all of its fold-``k`` models at once (``GLEANER_MODEL_DIR``).

Data comes from the shared folder (``../shared`` beside the repository, or ``$GLEANER_SHARED_DIR``):
- ``wcxb_pages()``: WCXB dev split, 1,497 pages of 7 page types, gold main content and metadata;
- ``scrapinghub_pages()``: ScrapingHub article-extraction dev pages (HTML) and gold article bodies;
- ``textdump_pages()``: the same pages as plain-text dumps (inscriptis) with the same gold.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

REPO = Path(__file__).resolve().parents[2]
FOLDS = 5

# second-level labels under which a country's sites register (example.co.uk, example.com.au)
_SECOND_LEVEL = {"co", "com", "org", "net", "ac", "gov", "edu", "gob", "go", "or", "ne", "nic"}


def shared_dir() -> Path:
    return Path(os.environ.get("GLEANER_SHARED_DIR") or REPO.parent / "shared")


def site_of(host_or_url: str | None) -> str:
    """The registrable domain of a host or URL (``news.bbc.co.uk`` -> ``bbc.co.uk``); '' if none."""
    if not host_or_url:
        return ""
    host = urlsplit(host_or_url).hostname if "/" in host_or_url else host_or_url
    labels = (host or "").lower().rstrip(".").removeprefix("www.").split(".")
    if len(labels) >= 3 and len(labels[-1]) == 2 and labels[-2] in _SECOND_LEVEL:
        return ".".join(labels[-3:])
    return ".".join(labels[-2:])


def fold_of(site: str, folds: int = FOLDS) -> int:
    """The cross-validation fold of a site: stable across runs, components and machines."""
    return int.from_bytes(hashlib.sha1(site.encode("utf-8")).digest()[:4], "big") % folds


@dataclass(frozen=True)
class DevPage:
    """One development page with its gold answer."""

    id: str
    path: Path
    url: str | None
    site: str
    gold_body: str
    page_type: str | None = None
    gold_title: str | None = None
    gold_author: str | None = None
    gold_date: str | None = None
    with_snippets: tuple[str, ...] = ()
    without_snippets: tuple[str, ...] = ()
    extra: dict = field(default_factory=dict, compare=False, hash=False)

    @property
    def fold(self) -> int:
        return fold_of(self.site)

    def read(self) -> str:
        """The page as text (HTML or text dump), UTF-8."""
        raw = self.path.read_bytes()
        if self.path.suffix == ".gz":
            raw = gzip.decompress(raw)
        return raw.decode("utf-8", errors="replace")


def wcxb_pages(root: Path | None = None) -> list[DevPage]:
    root = root or shared_dir() / "bench" / "wcxb-dev"
    listed = json.loads((root / "metadata.json").read_text()).get("files", {})
    pages = []
    for f in sorted((root / "ground-truth").glob("*.json")):
        d = json.loads(f.read_text())
        g = d.get("ground_truth") or {}
        kind = ((d.get("_internal") or {}).get("page_type") or {})
        kind = kind.get("primary", "article") if isinstance(kind, dict) else (kind or "article")
        url = d.get("url")
        site = site_of((listed.get(f.stem) or {}).get("domain") or url) or f"unknown-{f.stem}"
        pages.append(DevPage(
            id=f.stem, path=root / "html" / f"{f.stem}.html.gz", url=url, site=site,
            gold_body=g.get("main_content") or "", page_type="collection" if kind == "category" else kind,
            gold_title=g.get("title"), gold_author=g.get("author"), gold_date=g.get("publish_date"),
            with_snippets=tuple(g.get("with") or ()), without_snippets=tuple(g.get("without") or ()),
        ))
    return pages


def _scrapinghub(root: Path, folder: str, suffix: str) -> list[DevPage]:
    gold = json.loads((root / "ground-truth.json").read_text())
    return [
        DevPage(id=k, path=root / folder / f"{k}{suffix}", url=v.get("url"), site=site_of(v.get("url")) or k,
                gold_body=v.get("articleBody") or "", page_type="article")
        for k, v in sorted(gold.items())
    ]


def scrapinghub_pages(root: Path | None = None) -> list[DevPage]:
    return _scrapinghub(root or shared_dir() / "bench" / "extraction-dev", "html", ".html.gz")


def textdump_pages(root: Path | None = None) -> list[DevPage]:
    return _scrapinghub(root or shared_dir() / "bench" / "textdump-dev", "txt", ".txt")


def by_fold(pages: list[DevPage], folds: int = FOLDS) -> Iterator[tuple[int, list[DevPage], list[DevPage]]]:
    """(fold, training pages, held-out pages) for each fold."""
    for k in range(folds):
        yield k, [p for p in pages if fold_of(p.site, folds) != k], [p for p in pages if fold_of(p.site, folds) == k]
