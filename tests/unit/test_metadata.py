"""Page metadata from HTML (workers.stages.html.metadata): the entry point on real fixture pages,
the shipped rankers, the model-folder override and the fields that take the first source."""

from __future__ import annotations

import gzip
import json
import shutil
from datetime import date, datetime, timezone
from pathlib import Path

import pytest

from workers.stages.html import metadata_ranker
from workers.stages.html.dom import parse_html
from workers.stages.html.metadata import PageMetadata, extract_metadata
from workers.stages.html.metadata_ranker import MODEL_DIR, Candidate, LinearGate, LinearRanker, best, load_ranker

pytestmark = pytest.mark.unit

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
GOLD = json.loads((FIXTURES / "pages-ground-truth.json").read_text())


def fixture_metadata(page_id: str) -> PageMetadata:
    html = gzip.decompress((FIXTURES / "pages" / f"{page_id}.html.gz").read_bytes()).decode("utf-8", "replace")
    return extract_metadata(parse_html(html), GOLD[page_id]["url"])


def page(head: str = "", body: str = "", lang: str = "en") -> str:
    return f"<!DOCTYPE html><html lang='{lang}'><head><meta charset='utf-8'>{head}</head><body>{body}</body></html>"


def test_example_page_slashgear() -> None:
    md = fixture_metadata("06ee193de4bd611f7fafbab0c59b0f6fe3495093516720632cd093b24c7a0e98")
    assert md.title == "The VW ID. SPACE VIZZION is a weird EV sports wagon with a secret message"
    assert md.authors == ["Chris Davies"]
    # the page shows "Nov 19, 2019, 10:31 pm CST"; its article:published_time is the same instant in
    # UTC (2019-11-20T04:31:13+00:00): either day is the publication day, as WCXB's gold takes either
    assert md.published_at is not None and md.published_at.date() in (date(2019, 11, 19), date(2019, 11, 20))
    assert md.published_at.tzinfo is not None
    assert md.site_name == "SlashGear"
    assert md.language == "en"


def test_example_page_nytimes_opinion() -> None:
    md = fixture_metadata("04a6711caa7c687592777718866e781e976e0fe684faebe8b3cedcef8cd0ea34")
    assert md.title == "Republicans Are Following Trump to Nowhere"
    assert md.authors == ["Jamelle Bouie"]
    # the page shows "Nov 19, 2019, 10:31 pm CST"; its article:published_time is the same instant in
    # UTC (2019-11-20T04:31:13+00:00): either day is the publication day, as WCXB's gold takes either
    assert md.published_at is not None and md.published_at.date() in (date(2019, 11, 19), date(2019, 11, 20))


def test_shipped_models_exist_and_load() -> None:
    for name in ("title", "authors", "date"):
        path = MODEL_DIR / f"meta_{name}.json"
        data = json.loads(path.read_text())
        assert data["weights"] and "trained_on" in data["card"] and "WCXB" in data["card"]["trained_on"]
        ranker = load_ranker(name)
        assert isinstance(ranker, LinearRanker) and ranker.weights


def test_model_dir_overrides_the_shipped_ranker(tmp_path: Path) -> None:
    html = page('<meta property="og:title" content="From og:title"><title>From the title tag</title>',
                "<h1>From the headline</h1><p>text</p>")
    shipped = extract_metadata(parse_html(html), "https://example.com/a")
    assert shipped.title in ("From the headline", "From og:title")
    # a model that prefers the raw <title> over everything else
    (tmp_path / "meta_title.json").write_text(json.dumps({"weights": {"src_title_raw": 10.0}, "bias": 0.0}))
    overridden = extract_metadata(parse_html(html), "https://example.com/a", model_dir=tmp_path)
    assert overridden.title == "From the title tag"


def test_without_any_model_file_a_fixed_source_order_applies(tmp_path: Path, monkeypatch) -> None:
    empty = tmp_path / "empty-model-dir"
    empty.mkdir()
    monkeypatch.setattr(metadata_ranker, "MODEL_DIR", empty)
    html = page('<meta property="og:title" content="Council approves budget | Example News">'
                '<meta property="og:site_name" content="Example News">'
                '<meta property="article:published_time" content="2024-03-05T09:30:00+01:00">'
                '<meta name="author" content="Jane Doe">', "<h1>Council approves budget</h1>")
    md = extract_metadata(parse_html(html), "https://example-news.com/a")
    assert md.title == "Council approves budget"
    assert md.authors == ["Jane Doe"]
    assert md.published_at == datetime.fromisoformat("2024-03-05T09:30:00+01:00")


def test_best_picks_the_highest_probability_and_honours_the_threshold() -> None:
    ranker = LinearRanker(weights={"a": 2.0, "b": -1.0}, bias=0.0, threshold=0.5)
    cands = [Candidate("x", "x", {"b": 1.0}), Candidate("y", "y", {"a": 1.0})]
    assert best(cands, ranker).value == "y"
    assert best([Candidate("x", "x", {"b": 1.0})], ranker) is None  # below the threshold
    assert best([], ranker) is None


def test_a_gate_leaves_the_field_empty_when_the_best_candidate_looks_unlikely(tmp_path: Path) -> None:
    gate = LinearGate(weights={"src_text": -5.0}, bias=1.0, threshold=0.5)
    ranker = LinearRanker(weights={"a": 1.0}, gate=gate)
    assert best([Candidate("x", "x", {"a": 1.0})], ranker).value == "x"
    assert best([Candidate("x", "x", {"a": 1.0, "src_text": 1.0})], ranker) is None
    (tmp_path / "meta_date.json").write_text(json.dumps(
        {"weights": {"src_meta_pub": 1.0}, "gate": {"weights": {"src_meta_pub": -9.0}, "bias": 0.0, "threshold": 0.5}}))
    html = page('<meta property="article:published_time" content="2024-03-05">', "<h1>x</h1>")
    assert extract_metadata(parse_html(html), model_dir=tmp_path).published_at is None


def test_simple_fields_first_source_wins() -> None:
    head = (
        '<link rel="canonical" href="/news/budget?ref=1"><meta property="og:description" content="What happened">'
        '<meta name="description" content="Other"><meta property="og:site_name" content="Example Times">'
        '<meta property="article:tag" content="budget, transport"><meta name="keywords" content="x, y">'
    )
    md = extract_metadata(parse_html(page(head, "<h1>Budget</h1>", lang="pt-BR")), "https://www.example.com/news/budget")
    assert md.canonical_url == "https://www.example.com/news/budget?ref=1"
    assert md.description == "What happened"
    assert md.site_name == "Example Times"
    assert md.tags == ["budget", "transport"]
    assert md.language == "pt"
    assert md.h1 == "Budget"


def test_odd_input_never_raises() -> None:
    assert extract_metadata(None) == PageMetadata()
    for html in ("<html></html>", "<html><body><h1></h1><time datetime='garbage'>x</time></body></html>",
                 page('<script type="application/ld+json">{"@type": "Article", "author": [1, null, {"name": 5}]</script>')):
        tree = parse_html(html)
        if tree is not None:
            extract_metadata(tree, "not a url")


def test_published_at_keeps_the_written_offset() -> None:
    head = '<script type="application/ld+json">{"@type":"NewsArticle","datePublished":"2024-03-05T23:30:00-05:00"}</script>'
    md = extract_metadata(parse_html(page(head, "<h1>A headline here</h1><p>Some text.</p>")))
    assert md.published_at == datetime(2024, 3, 6, 4, 30, tzinfo=timezone.utc)
    assert md.published_at.isoformat().startswith("2024-03-05")  # the day as the page wrote it


def test_fold_models_directory_layout(tmp_path: Path) -> None:
    """Cross-validation copies of the rankers are found by name in a model folder (GLEANER_MODEL_DIR)."""
    for name in ("title", "authors", "date"):
        shutil.copy(MODEL_DIR / f"meta_{name}.json", tmp_path / f"meta_{name}.json")
        assert load_ranker(name, tmp_path) == load_ranker(name)
