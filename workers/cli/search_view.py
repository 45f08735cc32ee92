"""How ``gleaner search`` shows hits and facets (pure: a search response in, rich renderables out)."""

from __future__ import annotations

import re
from typing import Any

from rich.console import Group, RenderableType
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from workers.store.search import HIGHLIGHT_POST, HIGHLIGHT_PRE


def highlighted(fragment: str, *, styled: bool) -> Text:
    """A highlight fragment with its marked terms in bold (terminal) or in [brackets] (plain)."""
    text = Text()
    fragment = " ".join(fragment.split())
    for i, part in enumerate(re.split(f"[{HIGHLIGHT_PRE}{HIGHLIGHT_POST}]", fragment)):
        if i % 2:
            if styled:
                text.append(part, style="bold yellow")
            else:
                text.append(f"[{part}]")
        else:
            text.append(part)
    return text


def snippet_of(hit: dict[str, Any], *, styled: bool, max_chars: int = 240) -> Text:
    fragments = (hit.get("highlight") or {}).get("body") or []
    if fragments:
        text = Text(" … ").join(highlighted(f, styled=styled) for f in fragments)
    else:
        body = " ".join(((hit.get("_source") or {}).get("body") or "").split())
        text = Text(body[:max_chars] + ("…" if len(body) > max_chars else ""))
    return text


def render_hit(n: int, hit: dict[str, Any], *, styled: bool) -> RenderableType:
    src = hit.get("_source") or {}
    title_fragments = (hit.get("highlight") or {}).get("title")
    title = highlighted(title_fragments[0], styled=styled) if title_fragments else Text(src.get("title") or "(no title)")
    title.stylize("bold")
    head = Text(f"{n}. ")
    head.append_text(title)
    meta = [src.get("domain") or src.get("site_name"), (src.get("published_at") or "")[:10] or None,
            src.get("language"), f"score {hit['_score']:.2f}" if hit.get("_score") is not None else None]
    line2 = Text(" · ".join(m for m in meta if m), style="green")
    where = Text(src.get("url") or src.get("source") or "", style="blue")
    body = Group(line2, where, snippet_of(hit, styled=styled))
    return Group(head, Padding(body, (0, 0, 0, len(str(n)) + 2), expand=False))


FACET_LABELS = {"persons": "persons", "organizations": "organizations", "places": "places", "sites": "sites"}


def render_facets(aggregations: dict[str, Any], top: int = 8) -> RenderableType | None:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    rows = 0
    for name, label in FACET_LABELS.items():
        buckets = (aggregations.get(name) or {}).get("buckets") or []
        if buckets:
            grid.add_row(label, Text(" · ".join(f"{b['key']} ({b['doc_count']:,})" for b in buckets[:top])))
            rows += 1
    return grid if rows else None
