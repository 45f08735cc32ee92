"""The HTML stage: one page in, its main content, page type and metadata out.

1. Parse once with lxml (``dom.parse_html``: bounded, deep nesting kept).
2. Cut the page into text blocks (``segment``) and describe each (``features``).
3. Page type from URL (the page's own canonical URL when none is given), declarations and page
   statistics (``page_type``, a LightGBM model).
4. Score every block (LightGBM, two passes: the second sees the first's scores around the block
   and in its containers) and keep the main-content ones (``model.keep_blocks``).
5. Body text from the kept blocks (``render``); metadata from the same tree
   (``metadata.extract_metadata``, read after the blocks: it may not change the tree).

Pure: no I/O but the model files, read once per process.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from lxml.html import HtmlElement

from workers.models import Extraction
from workers.stages.html.dom import parse_html
from workers.stages.html.features import PAGE_TYPES, BlockText, block_features
from workers.stages.html.metadata import PageMetadata, extract_metadata
from workers.stages.html.model import keep_blocks, load_models
from workers.stages.html.page_type import declared_url, page_type_features
from workers.stages.html.render import render
from workers.stages.html.segment import segment

__all__ = ["MainContent", "clean_html", "extract_main_content"]

LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True)
class MainContent:
    body: str
    page_type: str | None


def extract_main_content(tree: HtmlElement, url: str | None = None, model_dir: Path | None = None) -> MainContent:
    """Main content and page type of a parsed page (body "" when the page has none)."""
    seg = segment(tree)
    models = load_models(model_dir)
    stats = BlockText(seg)
    probs = models.page_type_probs(page_type_features(seg, stats, url or declared_url(tree)))
    page_type = PAGE_TYPES[int(np.argmax(probs))]
    if not seg.blocks:
        return MainContent("", page_type)
    X = block_features(seg, stats, probs)
    scores = models.block_scores(seg, X, stats.words, probs)
    return MainContent(render(seg, keep_blocks(scores, stats.words, models.threshold_for(page_type))), page_type)


def clean_html(html: str | bytes, url: str | None = None, model_dir: Path | None = None) -> Extraction:
    """Clean one HTML page: main content in ``body``, its ``page_type`` and the page's own metadata."""
    tree = parse_html(html)
    if tree is None:
        return Extraction(body="")
    # without a URL (a file, an archive record without one) both sides read the URL the page
    # declares, as the metadata rankers were trained with the page's URL (slug, domain, dated path)
    page_url = url or declared_url(tree)
    content = extract_main_content(tree, page_url, model_dir)
    try:
        meta = extract_metadata(tree, page_url, model_dir=model_dir)
    except Exception as err:  # noqa: BLE001 - metadata is best effort, the body still counts
        LOGGER.debug("metadata failed: %s %s", type(err).__name__, url)
        meta = PageMetadata()
    return Extraction(
        body=content.body,
        page_type=content.page_type,
        title=meta.title,
        description=meta.description,
        authors=meta.authors,
        published_at=meta.published_at,
        site_name=meta.site_name,
        canonical_url=meta.canonical_url,
        tags=meta.tags,
        language=meta.language,
    )
