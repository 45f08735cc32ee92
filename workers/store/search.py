"""Elasticsearch search: the request of ``gleaner search`` (query, filters, highlights, facets)."""

from __future__ import annotations

from typing import Any

from elasticsearch import Elasticsearch

# Facet name -> keyword field aggregated under the hits.
FACETS = {"persons": "persons", "organizations": "organizations", "places": "locations", "sites": "domain"}
# Markers around highlighted terms in snippets (the CLI turns them into styles).
HIGHLIGHT_PRE, HIGHLIGHT_POST = "\ue000", "\ue001"  # private-use characters, never in pages
SEARCH_FIELDS = ["title^3", "description^2", "body", "tags^2", "persons^2", "organizations^2", "locations^2"]
# Near-duplicates: a story is a cluster of copies (``cluster_id``); a collapsed hit names up to this
# many of its other copies.
COPIES_SHOWN = 3
STORY_FIELD = "cluster_id"


def _ci_term(field: str, value: str) -> dict[str, Any]:
    return {"term": {field: {"value": value, "case_insensitive": True}}}


def site_filter(site: str) -> dict[str, Any]:
    """A site by host (``jpost.com`` also matches ``www.jpost.com``) or by publisher name."""
    host = site.strip().lower()
    for prefix in ("https://", "http://"):
        host = host.removeprefix(prefix)
    host = host.split("/", 1)[0].removeprefix("www.")
    return {"bool": {"should": [
        _ci_term("domain", host),
        {"wildcard": {"domain": {"value": f"*.{host}", "case_insensitive": True}}},
        _ci_term("site_name", site.strip()),
    ], "minimum_should_match": 1}}


def search_body(
    query: str,
    *,
    persons: list[str] | None = None,
    organizations: list[str] | None = None,
    locations: list[str] | None = None,
    sites: list[str] | None = None,
    collections: list[str] | None = None,
    languages: list[str] | None = None,
    since: str | None = None,
    until: str | None = None,
    size: int = 10,
    offset: int = 0,
    sort: str = "relevance",
    facets: int = 10,
    with_entities: bool = False,
    all_copies: bool = False,
) -> dict[str, Any]:
    """The search request of ``gleaner search``. The query needs every word (in any of the
    fields), and takes ``"phrases"``, ``-word`` and ``a | b``. Every filter is an AND; repeating a filter
    (two ``persons``) requires both, except sites, collections and languages (any of them).
    ``since``/``until`` bound ``published_at`` (a date, a datetime or date math like ``now-7d``).

    Copies of one story (near-duplicates, one ``cluster_id``) are collapsed to their best hit, which
    carries the number of matching copies and a few of them (``inner_hits.copies``); facets count
    stories, and ``aggregations.stories`` the stories matching. ``all_copies``: every page a hit,
    facets count pages."""
    filters: list[dict[str, Any]] = []
    for field, values in (("persons", persons), ("organizations", organizations), ("locations", locations)):
        for value in values or []:
            filters.append(_ci_term(field, value))
    if sites:
        filters.append({"bool": {"should": [site_filter(s) for s in sites], "minimum_should_match": 1}})
    if collections:
        filters.append({"terms": {"collection": list(collections)}})
    if languages:
        filters.append({"terms": {"language": [lang.lower() for lang in languages]}})
    if since or until:
        bounds = {k: v for k, v in (("gte", since), ("lte", until)) if v}
        filters.append({"range": {"published_at": bounds}})
    text = query.strip()
    must: list[dict[str, Any]] = (
        [{"simple_query_string": {"query": text, "fields": SEARCH_FIELDS, "default_operator": "and"}}]
        if text else [{"match_all": {}}]
    )
    body: dict[str, Any] = {
        "query": {"bool": {"must": must, "filter": filters}},
        "size": size,
        "from": offset,
        "track_total_hits": True,
        "highlight": {
            "pre_tags": [HIGHLIGHT_PRE], "post_tags": [HIGHLIGHT_POST],
            "fields": {
                "title": {"number_of_fragments": 0},
                "body": {"fragment_size": 220, "number_of_fragments": 2, "no_match_size": 220},
            },
        },
        "aggs": {name: {"terms": {"field": field, "size": facets}} for name, field in FACETS.items()},
    }
    if not all_copies:
        body["collapse"] = {"field": STORY_FIELD, "inner_hits": {
            "name": "copies", "size": COPIES_SHOWN + 1, "_source": ["url", "domain", "site_name"]}}
        for agg in body["aggs"].values():
            agg["terms"]["order"] = {"stories": "desc"}
            agg["aggs"] = {"stories": {"cardinality": {"field": STORY_FIELD}}}
        body["aggs"]["stories"] = {"cardinality": {"field": STORY_FIELD}}
    if not with_entities:
        body["_source"] = {"excludes": ["entities"]}
    if sort == "date" or (sort == "relevance" and not text):
        body["sort"] = [{"published_at": {"order": "desc", "missing": "_last"}}, "_score"]
    return body


def search_pages(
    client: Elasticsearch,
    alias: str,
    query: str,
    **options: Any,
) -> dict[str, Any]:
    """Full-text search over title and body with filters, highlights and facets (see ``search_body``)."""
    return client.search(index=alias, body=search_body(query, **options)).body
