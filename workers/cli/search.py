"""``gleaner search``: hits with title, site, date, URL and snippet, then the entity facets."""

from __future__ import annotations

import re
from typing import Annotated

import typer
from rich.text import Text

from workers.cli.format import plural
from workers.cli.output import JsonOpt, err, out, print_json
from workers.cli.search_view import render_facets, render_hit, similar_pages
from workers.config import get_settings
from workers.dates import parse_datetime

_DATE_SHORTHAND = re.compile(r"^(\d+)([smhdwMy])$")
_PARTIAL_DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")


def parse_date_bound(value: str) -> str:
    """A date bound for ``published_at``: ``2020-09-23``, ``2020-09``, ``2020``, an ISO datetime,
    ``7d``/``2w``/``6M``/``1y`` (that long ago), or Elasticsearch date math (``now-7d/d``).
    Partial dates cover their whole day, month or year."""
    value = value.strip()
    m = _DATE_SHORTHAND.match(value)
    if m:
        return f"now-{m.group(1)}{m.group(2)}"
    if value.startswith("now") and re.fullmatch(r"now([+-]\d+[smhdwMy])*(/[smhdwMy])?", value):
        return value
    if _PARTIAL_DATE.match(value):
        rounding = {4: "y", 7: "M", 10: "d"}[len(value)]
        return f"{value}||/{rounding}"
    when = parse_datetime(value)
    if when is None:
        raise typer.BadParameter(f"{value!r}: use a date (2020-09-23), a time ago (7d, 2w, 6M, 1y) "
                                 "or date math (now-7d/d)")
    return when.isoformat()


def search(
    query: Annotated[str, typer.Argument(help="Full-text query over title, description, body, tags and entities; "
                                              "empty string for all pages (newest first).")],
    person: Annotated[list[str] | None, typer.Option("--person", help="Only pages naming this person (repeat: all of them).")] = None,
    org: Annotated[list[str] | None, typer.Option("--org", help="Only pages naming this organization (repeat: all of them).")] = None,
    place: Annotated[list[str] | None, typer.Option("--place", help="Only pages naming this place (repeat: all of them).")] = None,
    site: Annotated[list[str] | None, typer.Option("--site", help="Only pages of this site: host (jpost.com) or site name (repeat: any of them).")] = None,
    collection: Annotated[list[str] | None, typer.Option("--collection", help="Only pages of this collection (repeat: any of them).")] = None,
    lang: Annotated[list[str] | None, typer.Option("--lang", help="Only pages in this language, ISO 639-1 (repeat: any).")] = None,
    since: Annotated[str | None, typer.Option(help="Published on or after: 2020-09-23, 2020-09, 7d, 2w, 6M, 1y, now-7d/d.")] = None,
    until: Annotated[str | None, typer.Option(help="Published on or before (same forms as --since).")] = None,
    sort: Annotated[str, typer.Option(help="relevance or date (newest first).")] = "relevance",
    size: Annotated[int, typer.Option(help="Number of hits.")] = 10,
    page: Annotated[int, typer.Option(help="Page of hits (1 = the first --size hits).")] = 1,
    all_copies: Annotated[bool, typer.Option("--all-copies", help="Every copy of a story a hit of its own "
                                             "(default: a story's best hit, with '+N similar pages').")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Search the pages: ranked hits with title, site, date, URL and a highlighted snippet, then
    the top persons, organizations, places and sites of all the hits. Copies of one story
    (near-duplicates) show as its best hit with "+N similar pages", and facets count stories;
    --all-copies shows every copy. --json: one document per line, with its id, score and, collapsed,
    ``similar`` (the story's other matching copies)."""
    from elasticsearch import NotFoundError

    from workers.runtime import es_client
    from workers.store.search import search_pages

    if sort not in ("relevance", "date"):
        raise typer.BadParameter("relevance or date", param_hint="--sort")
    alias = get_settings().index_alias
    try:
        resp = search_pages(
            es_client(), alias, query, persons=person, organizations=org, locations=place, sites=site,
            collections=collection, languages=lang, since=parse_date_bound(since) if since else None,
            until=parse_date_bound(until) if until else None, size=size, offset=max(page - 1, 0) * size, sort=sort,
            with_entities=as_json, all_copies=all_copies,
        )
    except NotFoundError:
        err.print(f"no pages yet: the alias '{alias}' does not exist (gleaner setup, then gleaner submit)")
        raise typer.Exit(1) from None
    hits = resp["hits"]["hits"]
    if as_json:
        for hit in hits:
            extra = {} if all_copies else {"similar": similar_pages(hit)}
            print_json({"id": hit["_id"], "score": hit["_score"], **hit["_source"], **extra})
        return
    total = resp["hits"]["total"]["value"]
    stories = None if all_copies else ((resp.get("aggregations") or {}).get("stories") or {}).get("value")
    first = max(page - 1, 0) * size
    listed = total if stories is None else stories
    shown = f" (showing {first + 1:,}-{first + len(hits):,})" if hits and (listed > len(hits) or first) else ""
    in_stories = f" in {plural(stories, 'story', 'stories')}" if stories is not None and total else ""
    out.print(f"{total:,} {'page matches' if total == 1 else 'pages match'}{in_stories}{shown}", highlight=False)
    styled = out.is_terminal
    for n, hit in enumerate(hits, first + 1):
        out.print()
        out.print(render_hit(n, hit, styled=styled))
    facets = render_facets(resp.get("aggregations") or {})
    if facets is not None and total:
        out.print()
        across = plural(total, "hit") if stories is None else f"{plural(stories, 'story', 'stories')} (stories counted once)"
        out.print(Text(f"Across the {across}:", style="bold"))
        out.print(facets)
