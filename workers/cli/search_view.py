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


def similar_pages(hit: dict[str, Any]) -> dict[str, Any] | None:
    """The other matching copies of a collapsed hit's story: how many, and a few (URL and site);
    None when the search did not collapse copies."""
    copies = (hit.get("inner_hits") or {}).get("copies")
    if copies is None:
        return None
    others = [c for c in copies["hits"]["hits"] if c.get("_id") != hit.get("_id")]
    total = copies["hits"]["total"]["value"]
    shown = [{"id": c["_id"], "url": (c.get("_source") or {}).get("url"),
              "site": (c.get("_source") or {}).get("domain") or (c.get("_source") or {}).get("site_name")}
             for c in others]
    return {"cluster_id": (hit.get("_source") or {}).get("cluster_id"), "count": max(total - 1, 0),
            "pages": shown[: max(total - 1, 0)]}


def render_similar(similar: dict[str, Any] | None) -> Text | None:
    """The line ``+N similar pages: site, site, …`` under a collapsed hit."""
    if not similar or not similar["count"]:
        return None
    n = similar["count"]
    sites = list(dict.fromkeys(p["site"] or p["url"] or p["id"] for p in similar["pages"]))
    more = "…" if n > len(similar["pages"]) else ""
    text = Text(f"+{n:,} similar page{'s' if n != 1 else ''}", style="magenta")
    if sites:
        text.append(": " + ", ".join(sites) + (", " + more if more else ""))
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
    similar = render_similar(similar_pages(hit))
    body = Group(line2, where, snippet_of(hit, styled=styled), *([similar] if similar else []))
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
            grid.add_row(label, Text(" · ".join(f"{b['key']} ({_count(b):,})" for b in buckets[:top])))
            rows += 1
    return grid if rows else None


def _count(bucket: dict[str, Any]) -> int:
    """A facet value's stories when the search counted them, else its pages."""
    stories = bucket.get("stories")
    return int(stories["value"]) if stories else int(bucket["doc_count"])
