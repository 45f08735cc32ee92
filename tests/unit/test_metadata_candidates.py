"""Candidates of each metadata field, one small synthetic page per source, and the ranker's choice
among them (workers.stages.html.metadata_title / _authors / _dates)."""

from __future__ import annotations

from datetime import date

import pytest

from workers.stages.html.dom import parse_html
from workers.stages.html.metadata import extract_metadata
from workers.stages.html.metadata_authors import author_candidates, clean_author
from workers.stages.html.metadata_dates import date_candidates
from workers.stages.html.metadata_page import read_page
from workers.stages.html.metadata_title import split_title, strip_site_suffix, title_candidates

pytestmark = pytest.mark.unit


def signals(head: str = "", body: str = "", url: str | None = "https://www.example-news.com/2024/03/05/budget-vote"):
    html = f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>{head}</head><body>{body}</body></html>"
    return read_page(parse_html(html), url)


def by_key(cands):
    return {c.key: c for c in cands}


# ----------------------------------------------------------------------------- title


def test_title_sources_each_give_a_candidate() -> None:
    sig = signals(
        '<title>Council approves budget | Example News</title><meta property="og:title" content="Council approves budget">'
        '<meta name="twitter:title" content="Budget approved">'
        '<script type="application/ld+json">{"@type": "NewsArticle", "headline": "Council approves the budget"}</script>',
        '<header><a href="/">Example News</a></header><article><h1>Council approves budget</h1></article>',
    )
    cands = by_key(title_candidates(sig))
    headline = cands["council approves budget"]
    for feature in ("src_og_raw", "src_h1_raw", "src_title_cut", "src_title_first"):
        assert headline.features[feature] == 1.0
    assert cands["budget approved"].features["src_twitter_raw"] == 1.0
    assert cands["council approves the budget"].features["src_ld_article_headline_raw"] == 1.0
    assert cands["example news"].features["names_site"] == 1.0  # the <title>'s site segment
    assert headline.features["slug_recall"] > 0  # "budget" is in the URL


def test_title_ranker_prefers_the_headline_over_a_labelled_og_title() -> None:
    head = '<meta property="og:title" content="Opinion | Council approves transport budget"><title>Council approves transport budget - Example</title>'
    md = extract_metadata(parse_html(f"<html><head>{head}</head><body><h1>Council approves transport budget</h1></body></html>"),
                          "https://example.com/opinion/council-approves-transport-budget")
    assert md.title == "Council approves transport budget"


def test_h1_with_a_paragraph_inside_still_gives_its_text() -> None:
    sig = signals(body="<h1><p>Scaling tests with mocks</p></h1><p>Intro</p>")
    assert sig.h1s == ["Scaling tests with mocks"]


@pytest.mark.parametrize(
    ("title", "site", "expected"),
    [
        ("Council approves transport budget | Example News", "Example News", "Council approves transport budget"),
        ("Example News | Council approves transport budget", "Example News", "Council approves transport budget"),
        ("Spider-Man - the review", "Other", "Spider-Man - the review"),
    ],
)
def test_strip_site_suffix(title: str, site: str, expected: str) -> None:
    assert strip_site_suffix(title, [site]) == expected


def test_split_title() -> None:
    assert split_title("Headline here | Section – Site") == ["Headline here", "Section", "Site"]


# ----------------------------------------------------------------------------- authors


def test_author_sources_each_give_a_candidate() -> None:
    sig = signals(
        '<meta name="author" content="Jane Doe">'
        '<script type="application/ld+json">{"@type": "Article", "author": [{"@type": "Person", "name": "Jane Doe"},'
        ' {"@type": "Person", "name": "John Smith"}]}</script>',
        '<h1>Budget</h1><p class="byline">By <a rel="author" href="/authors/jane-doe">Jane Doe</a></p>'
        '<p>Written by Ann Lee</p><footer><a href="/people/jane-doe">Jane Doe</a></footer>',
    )
    cands = by_key(author_candidates(sig))
    jane = cands[("jane doe",)]
    for feature in ("src_meta_author", "src_rel_author", "src_class_byline", "src_href_profile"):
        assert jane.features[feature] == 1.0
    assert cands[("jane doe", "john smith")].features["src_ld_article"] == 1.0
    assert cands[("jane doe",)].features["src_text_by"] == 1.0  # "By" under the headline
    assert cands[("ann lee",)].features["src_page_by"] == 1.0


def test_author_element_text_parts_are_kept_apart() -> None:
    sig = signals(body='<h1>Budget</h1><div class="author-box"><span>Joe Kindness</span><span>Founder</span></div>')
    keys = set(by_key(author_candidates(sig)))
    assert ("joe kindness",) in keys  # the first part of the element, not "Joe KindnessFounder"


def test_author_ranker_prefers_the_page_byline_over_a_forum_menu() -> None:
    body = ('<div class="user-menu">Expand user menu</div><h1>Thread title here</h1>'
            '<div class="post"><a class="username" href="/user/changingtimes">changingtimes</a><p>First post</p></div>'
            '<div class="post"><a class="username" href="/user/bonesly">bonesly</a><p>Reply</p></div>')
    md = extract_metadata(parse_html(f"<html><body>{body}</body></html>"), "https://forum.example.org/t/1")
    assert md.authors == ["changingtimes"]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("By Jane Doe", ["Jane Doe"]),
        ("Jane Doe, John Smith", ["Jane Doe", "John Smith"]),
        ("https://twitter.com/jane", []),
        ("STEVE PEOPLES, AP National Political Writer", ["Steve Peoples"]),
        ("Ilana Muhlstein, MS, RDN", ["Ilana Muhlstein"]),
        ("Author Isaiah Shelton", ["Isaiah Shelton"]),
        ("Bruce Y. Lee", ["Bruce Y. Lee"]),
    ],
)
def test_clean_author(raw: str, expected: list[str]) -> None:
    assert clean_author(raw) == expected


def test_clean_author_drops_sentences() -> None:
    assert not any("agree" in name for name in clean_author("By continuing, you agree to our terms"))


# ----------------------------------------------------------------------------- dates


def test_date_sources_each_give_a_candidate() -> None:
    sig = signals(
        '<meta property="article:published_time" content="2024-03-05T09:30:00+01:00">'
        '<meta property="article:modified_time" content="2024-04-01T10:00:00Z">'
        '<script type="application/ld+json">{"@type": "NewsArticle", "datePublished": "2024-03-05"}</script>',
        '<h1>Budget</h1><p class="meta">Updated April 2, 2024</p><time datetime="2024-03-05T09:30">5 March</time>',
    )
    cands = by_key(date_candidates(sig))
    published = cands["2024-03-05"]
    for feature in ("src_meta_pub", "src_ld_article_pub", "src_time_attr", "src_url_day", "earliest", "earliest_pub"):
        assert published.features[feature] == 1.0
    assert cands["2024-04-01"].features["src_meta_mod"] == 1.0
    updated = cands["2024-04-02"]
    assert updated.features["src_text"] == 1.0 and updated.features["upd_text"] == 1.0
    assert published.value.date() == date(2024, 3, 5) and published.value.tzinfo is not None


def test_a_timestamp_near_midnight_also_offers_its_utc_day() -> None:
    sig = signals('<meta property="article:published_time" content="2024-03-05T22:00:00-05:00">', "<h1>x</h1>", url=None)
    cands = by_key(date_candidates(sig))
    assert cands["2024-03-05"].features["src_meta_pub"] == 1.0
    assert cands["2024-03-06"].features["src_meta_pub_utc"] == 1.0


def test_date_ranker_chooses_the_first_post_of_a_thread() -> None:
    posts = "".join(
        f'<div class="message"><a class="username" href="/members/u{i}/">user{i}</a>'
        f'<time class="u-dt" datetime="2024-06-0{i}T20:00:00-04:00">Jun {i}, 2024</time><p>post {i}</p></div>'
        for i in (2, 3, 4)
    )
    html = ('<html><head><meta itemprop="datePublished" content="2024-06-02T20:00:00-04:00">'
            '<meta itemprop="datePublished" content="2024-06-03T20:00:00-04:00"></head>'
            f'<body><h1>Which bike for a beginner?</h1>{posts}</body></html>')
    md = extract_metadata(parse_html(html), "https://forum.example.com/threads/which-bike.1/")
    assert md.published_at is not None and md.published_at.date() == date(2024, 6, 2)


def test_no_date_on_the_page_gives_none() -> None:
    md = extract_metadata(parse_html("<html><body><h1>About us</h1><p>We make things.</p></body></html>"),
                          "https://example.com/about")
    assert md.published_at is None


def test_title_text_read_as_latin1_upstream_is_repaired() -> None:
    sig = signals("<title>A DIY Investor\u00e2\u0080\u0099s Guide | White Coat</title>", "<p>x</p>")
    assert "a diy investor s guide" in by_key(title_candidates(sig))
    assert sig.title_tag is not None


def test_heading_text_leaves_out_buttons_and_screen_reader_text() -> None:
    sig = signals(body='<h1>Struct <span class="sr-only">(type)</span>Vec<button>Copy item path</button></h1>'
                       '<h2>Fields\u00ad</h2><p>x</p>')
    assert sig.h1s == ["Struct Vec"]
    assert sig.subheadings == ["Fields"]  # the soft hyphen never shows


def test_h1_written_in_inline_parts_also_gives_its_joined_text() -> None:
    sig = signals(body="<h1><span>Acme</span><span>Trail Jacket</span></h1><p>x</p>")
    cands = by_key(title_candidates(sig))
    assert cands["acme trail jacket"].features["src_h1_raw"] == 1.0
    assert cands["acmetrail jacket"].features["src_h1_joined_raw"] == 1.0


def test_site_name_written_before_the_title_without_separator_is_cut() -> None:
    sig = signals('<title>davidbau.com Vibe Coding Notes</title><meta property="og:site_name" content="davidbau.com">',
                  "<p>x</p>", "https://davidbau.com/archives/vibe-coding.html")
    assert by_key(title_candidates(sig))["vibe coding notes"].features["src_title_nosite"] == 1.0
