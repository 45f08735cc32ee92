"""gleaner search: date bounds, and how hits and facets are shown."""

import pytest
import typer

from tests.unit.cli.conftest import render
from workers.cli.search import parse_date_bound
from workers.cli.search_view import highlighted, render_facets, render_hit
from workers.store.search import HIGHLIGHT_POST, HIGHLIGHT_PRE

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(("value", "expected"), [
    ("7d", "now-7d"), ("2w", "now-2w"), ("6M", "now-6M"), ("1y", "now-1y"), ("now-7d/d", "now-7d/d"),
    ("2020-09-23", "2020-09-23||/d"), ("2020-09", "2020-09||/M"), ("2020", "2020||/y"),
    ("2020-09-23T10:00:00Z", "2020-09-23T10:00:00+00:00"),
    ("2020-09-23 12:30+02:00", "2020-09-23T12:30:00+02:00"),
    ("23 September 2020", "2020-09-23T00:00:00+00:00"),
])
def test_date_bounds(value, expected):
    assert parse_date_bound(value) == expected


@pytest.mark.parametrize("value", ["yesterday", "2020-13-45T99", "now-7x", "7 days"])
def test_bad_date_bounds_are_refused(value):
    with pytest.raises(typer.BadParameter):
        parse_date_bound(value)


def test_highlighted_terms_are_bold_on_a_terminal_and_bracketed_otherwise():
    fragment = f"{HIGHLIGHT_PRE}Gantz{HIGHLIGHT_POST} met\nwith {HIGHLIGHT_PRE}Esper{HIGHLIGHT_POST}."
    plain = highlighted(fragment, styled=False)
    assert plain.plain == "[Gantz] met with [Esper]."
    styled = highlighted(fragment, styled=True)
    assert styled.plain == "Gantz met with Esper." and [s.style for s in styled.spans] == ["bold yellow"] * 2


def test_a_hit_shows_title_site_date_url_and_snippet():
    hit = {"_id": "x", "_score": 3.5, "_source": {"title": "Gantz in US [talks]", "domain": "jpost.com",
                                                  "published_at": "2020-09-23T00:32:00Z", "language": "en",
                                                  "url": "https://www.jpost.com/x", "body": "long body"},
           "highlight": {"body": [f"{HIGHLIGHT_PRE}Gantz{HIGHLIGHT_POST} met", "later"]}}
    text = render(render_hit(1, hit, styled=False))
    assert "1. Gantz in US [talks]" in text
    assert "jpost.com · 2020-09-23 · en · score 3.50" in text and "https://www.jpost.com/x" in text
    assert "[Gantz] met … later" in text
    no_highlight = {"_id": "y", "_score": None, "_source": {"body": "word " * 100, "source": "/tmp/a.txt"}}
    text = render(render_hit(2, no_highlight, styled=False))
    assert "(no title)" in text and "/tmp/a.txt" in text and "…" in text


def test_facets_list_the_top_values():
    aggs = {"persons": {"buckets": [{"key": "Mark Esper", "doc_count": 3}]}, "sites": {"buckets": []}}
    text = render(render_facets(aggs))
    assert "persons" in text and "Mark Esper (3)" in text and "sites" not in text
    assert render_facets({}) is None


def _collapsed(hit_id: str, total: int, others: list[tuple[str, str]]) -> dict:
    copies = [{"_id": hit_id, "_source": {"url": "https://a.com/x", "domain": "a.com"}}]
    copies += [{"_id": i, "_source": {"url": f"https://{site}/x", "domain": site}} for i, site in others]
    return {"_id": hit_id, "_score": 2.0, "_source": {"title": "Story", "domain": "a.com", "cluster_id": "c1",
                                                      "url": "https://a.com/x", "body": "text"},
            "inner_hits": {"copies": {"hits": {"total": {"value": total}, "hits": copies}}}}


def test_a_collapsed_hit_shows_how_many_similar_pages_and_where():
    from workers.cli.search_view import similar_pages

    hit = _collapsed("h", 6, [("o1", "b.com"), ("o2", "c.com"), ("o3", "b.com")])
    similar = similar_pages(hit)
    assert similar["count"] == 5 and similar["cluster_id"] == "c1"
    assert [p["site"] for p in similar["pages"]] == ["b.com", "c.com", "b.com"]
    assert "+5 similar pages: b.com, c.com, …" in render(render_hit(1, hit, styled=False))
    alone = _collapsed("h", 1, [])
    assert similar_pages(alone)["count"] == 0 and "similar" not in render(render_hit(1, alone, styled=False))
    two = _collapsed("h", 2, [("o1", "b.com")])
    assert "+1 similar page: b.com" in render(render_hit(1, two, styled=False))
    assert similar_pages({"_id": "x", "_source": {}}) is None, "--all-copies: nothing collapsed"


def test_facets_count_stories_when_the_search_did():
    aggs = {"sites": {"buckets": [{"key": "a.com", "doc_count": 7, "stories": {"value": 2}},
                                  {"key": "b.com", "doc_count": 3}]}}
    assert "a.com (2) · b.com (3)" in render(render_facets(aggs))
