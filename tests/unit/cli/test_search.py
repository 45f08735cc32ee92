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
