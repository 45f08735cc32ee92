"""The search request of gleaner search (``workers/store/search.py``)."""

import json

import pytest

from workers.store.search import search_body

pytestmark = pytest.mark.unit


def test_search_body_filters_and_facets():
    body = search_body("gantz esper", persons=["Mark Esper"], organizations=["Pentagon"], locations=["Iran"],
                       sites=["www.JPost.com"], collections=["a", "b"], languages=["EN"], since="now-7d",
                       until="2020-09-23||/d", size=5, offset=10)
    query = body["query"]["bool"]
    assert query["must"][0]["simple_query_string"]["default_operator"] == "and"
    filters = json.dumps(query["filter"])
    for expected in ('"persons": {"value": "Mark Esper", "case_insensitive": true}', '"organizations"',
                     '"locations"', '"domain": {"value": "jpost.com"', '"*.jpost.com"', '"collection": ["a", "b"]',
                     '"language": ["en"]', '"published_at": {"gte": "now-7d", "lte": "2020-09-23||/d"}'):
        assert expected in filters, expected
    assert body["size"] == 5 and body["from"] == 10
    assert set(body["aggs"]) == {"persons", "organizations", "places", "sites", "stories"}
    assert body["aggs"]["places"]["terms"]["field"] == "locations" and body["aggs"]["sites"]["terms"]["field"] == "domain"
    assert body["_source"] == {"excludes": ["entities"]} and "sort" not in body
    everything = search_body("  ", with_entities=True)
    assert everything["query"]["bool"]["must"] == [{"match_all": {}}] and "_source" not in everything
    assert everything["sort"][0] == {"published_at": {"order": "desc", "missing": "_last"}}


def test_copies_of_a_story_collapse_to_its_best_hit_and_facets_count_stories():
    body = search_body("gantz")
    assert body["collapse"]["field"] == "cluster_id"
    assert body["collapse"]["inner_hits"]["name"] == "copies" and body["collapse"]["inner_hits"]["size"] >= 2
    assert body["aggs"]["stories"] == {"cardinality": {"field": "cluster_id"}}
    for name in ("persons", "organizations", "places", "sites"):
        assert body["aggs"][name]["aggs"] == {"stories": {"cardinality": {"field": "cluster_id"}}}
        assert body["aggs"][name]["terms"]["order"] == {"stories": "desc"}
    every = search_body("gantz", all_copies=True)
    assert "collapse" not in every and "stories" not in every["aggs"] and "aggs" not in every["aggs"]["persons"]
