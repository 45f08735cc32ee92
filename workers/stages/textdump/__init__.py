"""Plain-text dumps of pages that still carry menus and footers: main content and metadata (pure).

A learned line classifier decides which lines are main content (``lines`` -> ``features`` and
``page_type`` -> ``model``: a page-type model, then two passes of LightGBM over the lines), ``body``
smooths an article's lines as a sequence, ends it at a comments heading and joins them; a
plain-text news item (headline, dateline, body: a wire story or a results table) is read by its
layout (``item``); ``metadata``
and ``site_name`` read title, standfirst, authors, date, tags and the site's name around it.
No I/O besides loading the model files once per process; no network, no services.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import numpy as np

from workers.models import Extraction
from workers.stages.textdump.body import (
    cut_at_comments,
    join_lines,
    prose_lines,
    select_lines,
    smooth_article,
    strip_bullet,
)
from workers.stages.textdump.features import context_features, line_features
from workers.stages.textdump.item import find_item
from workers.stages.textdump.lines import Line, read_lines
from workers.stages.textdump.metadata import (
    find_authors,
    find_description,
    find_published,
    find_tags,
    find_title,
    header_window,
    split_standfirst,
)
from workers.stages.textdump.model import line_inputs, load_line_model
from workers.stages.textdump.page_type import PAGE_TYPES, page_features
from workers.stages.textdump.site_name import find_site_name

__all__ = ["clean_text_dump", "clean_text_body", "line_probabilities"]

# Tags are looked for this many lines past the end of the main content.
TAGS_AFTER = 60


def line_probabilities(lines: list[Line], url: str | None = None,
                       model_dir: Path | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Probability of each line being main content (the second, context-aware pass), and the
    page-type probabilities (in the order of ``PAGE_TYPES``)."""
    model = load_line_model(model_dir)
    if not lines:
        return np.zeros(0), np.zeros(len(PAGE_TYPES))
    x = line_features(lines, url)
    page_probs = model.predict_page(page_features(x))
    x1 = line_inputs(x, page_probs)
    p1 = model.predict_line(x1)
    return model.predict_context(np.column_stack([x1, context_features(p1, lines)])), page_probs


def clean_text_dump(text: str, url: str | None = None, *, model_dir: Path | None = None) -> Extraction:
    """Clean a plain-text dump of a web page (or a plain-text news item) into an :class:`Extraction`.

    ``body`` holds only the main content, paragraphs separated by blank lines; it is empty when
    nothing of the kind is found (the caller records that as a failure). ``url``, when known, helps
    to pick the headline (its slug), the date (a /YYYY/MM/DD/ path) and the site's name (its
    domain). ``model_dir``: a folder whose model files replace the shipped ones.
    """
    if not text or not text.strip():
        return Extraction(body="")
    lines = read_lines(text)
    if not lines:
        return Extraction(body="")
    model = load_line_model(model_dir)
    p, page_probs = line_probabilities(lines, url, model_dir)
    host = urlsplit(url).hostname if url and "//" in url else None
    item = find_item(lines, p, model.threshold)
    if item is not None:
        return Extraction(
            body=item.body, page_type="article", title=item.title, published_at=item.published_at,
            dateline=item.place, authors=item.authors, site_name=find_site_name(lines, host),
        )
    page_type = PAGE_TYPES[int(np.argmax(page_probs))]
    if page_type == "article":
        p = smooth_article(lines, p, model.threshold)
    kept = select_lines(lines, p, model.threshold) or prose_lines(lines)
    if page_type == "article":
        kept = cut_at_comments(lines, kept)
    if not kept:
        return Extraction(body="")
    top = kept[0].idx  # the headline is looked for above the standfirst, when there is one
    kept = split_standfirst(lines, kept)[1]
    body = join_lines(kept)
    start, end = kept[0].idx, kept[-1].idx + 1
    title_line = find_title(lines, top, body[:2000], url)
    header_from = title_line.idx + 1 if title_line is not None else 0
    header = [line for line in lines[header_from:start]]
    above = list(reversed(header_window(lines, title_line.idx, 3))) if title_line is not None else []
    opening = [line for line in kept[:6] if line.kind == "byline" or line.has_date]
    title = strip_bullet(title_line.text) if title_line is not None else None
    description = find_description(header) if title_line is not None else None
    return Extraction(
        body=body,
        page_type=page_type,
        title=title,
        description=description,
        authors=find_authors(above + header[-HEADER_TAIL:] + opening),
        published_at=find_published(lines, header[-HEADER_TAIL:] + opening + above, url),
        site_name=find_site_name(lines, host),
        tags=find_tags(lines, header_from, end + TAGS_AFTER, " ".join(filter(None, [title, description, body[:50_000]]))),
    )


# The header's lines nearest the main content that bylines and datelines are looked for in.
HEADER_TAIL = 25


def clean_text_body(text: str, url: str | None = None) -> str:
    """Only the body: the ``--func`` interface of ``shared/tools/extraction_score.py``."""
    return clean_text_dump(text, url).body
