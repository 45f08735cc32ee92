"""Unit tests of the HTML cleaner (pure stage: no services)."""

from __future__ import annotations

import gzip
import json
import re
import sys
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

import pytest

from workers.models import Extraction
from workers.stages.clean_html import clean_html
from workers.stages.metadata_html import clean_author, strip_site_suffix

pytestmark = pytest.mark.unit

HTML_FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "html"

PARA = (
    "The city council voted on Tuesday to approve a new budget for public transport, "
    "after months of debate between residents, local businesses and the regional government. "
)


def article_page(head: str = "", body_extra: str = "", paragraphs: int = 6, html_attrs: str = 'lang="en-GB"') -> str:
    paras = "".join(f"<p>{PARA}Paragraph number {i} adds its own details to the story.</p>" for i in range(paragraphs))
    return f"""<!DOCTYPE html>
<html {html_attrs}><head><meta charset="utf-8">{head}</head>
<body>
<nav><ul><li><a href="/">Home</a></li><li><a href="/news">News</a></li><li><a href="/sport">Sport</a></li></ul></nav>
<article>
<h1>Council approves transport budget</h1>
{paras}
{body_extra}
</article>
<aside class="most-read"><h3>Most read</h3><ul>
<li><a href="/a">Celebrity spotted at local bakery buying croissants</a></li>
<li><a href="/b">Ten things you did not know about the harbour</a></li>
</ul></aside>
<footer><p>Copyright 2024 Example Media Group. All rights reserved. Contact us. Privacy policy.</p></footer>
</body></html>"""


# ----------------------------------------------------------------------------- metadata


def test_jsonld_article_metadata():
    ld = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": "Council approves transport budget",
        "author": [{"@type": "Person", "name": "Jane Doe"}, {"@type": "Person", "name": "By John Smith"}],
        "datePublished": "2024-03-05T09:30:00+01:00",
        "keywords": "transport, budget, council",
        "publisher": {"@type": "Organization", "name": "Example Times"},
        "inLanguage": "en",
    }
    page = article_page(f'<script type="application/ld+json">{json.dumps(ld)}</script>')
    ex = clean_html(page, "https://example.com/news/budget")
    assert isinstance(ex, Extraction)
    assert ex.title == "Council approves transport budget"
    assert ex.authors == ["Jane Doe", "John Smith"]
    assert ex.published_at == datetime(2024, 3, 5, 8, 30, tzinfo=timezone.utc)
    assert ex.published_at.tzinfo is not None
    assert ex.tags == ["transport", "budget", "council"]
    assert ex.site_name == "Example Times"
    assert ex.language == "en"


def test_jsonld_graph_single_author_and_keyword_list():
    ld = {
        "@context": "https://schema.org",
        "@graph": [
            {"@type": "WebSite", "name": "Example Blog"},
            {"@type": "WebPage", "name": "Council approves transport budget | Example Blog"},
            {
                "@type": ["BlogPosting"],
                "headline": "Council approves transport budget",
                "author": {"@type": "Person", "name": "Jane Doe", "url": "https://example.com/jane"},
                "datePublished": "2024-03-05",
                "keywords": ["transport", "Transport", "", "budget"],
            },
        ],
    }
    page = article_page(f'<script type="application/ld+json">{json.dumps(ld)}</script>')
    ex = clean_html(page, "https://example.com/x")
    assert ex.authors == ["Jane Doe"]
    assert ex.published_at == datetime(2024, 3, 5, tzinfo=timezone.utc)  # naive -> UTC
    assert ex.tags == ["transport", "budget"]
    assert ex.site_name == "Example Blog"
    assert ex.title == "Council approves transport budget"


def test_opengraph_and_meta_fallback():
    head = """
    <title>Ignored | Example News</title>
    <meta property="og:title" content="Council approves transport budget">
    <meta property="og:site_name" content="Example News">
    <meta property="og:description" content="The budget passed after months of debate.">
    <meta property="article:published_time" content="2024-03-05T10:00:00Z">
    <meta property="article:tag" content="Transport">
    <meta property="article:tag" content="Budget">
    <meta property="article:author" content="https://www.facebook.com/someone">
    <meta name="author" content="By Jane Doe and John Smith">
    <meta property="og:locale" content="fr_FR">
    """
    ex = clean_html(article_page(head, html_attrs=""), "https://example.com/a")
    assert ex.title == "Council approves transport budget"
    assert ex.site_name == "Example News"
    assert ex.description == "The budget passed after months of debate."
    assert ex.published_at == datetime(2024, 3, 5, 10, 0, tzinfo=timezone.utc)
    assert ex.tags == ["Transport", "Budget"]
    assert ex.authors == ["Jane Doe", "John Smith"]
    assert ex.language == "fr"  # no <html lang>: og:locale


def test_keywords_meta_and_news_keywords():
    head = '<meta name="news_keywords" content="budget, transport , ,budget"><meta name="keywords" content="x, y">'
    ex = clean_html(article_page(head))
    assert ex.tags == ["budget", "transport"]  # news_keywords wins over keywords, dedup, no empty


@pytest.mark.parametrize(
    ("title", "site", "expected"),
    [
        ("Council approves transport budget | Example News", "Example News", "Council approves transport budget"),
        ("Council approves transport budget - Example", "Example News", "Council approves transport budget"),
        ("Example News | Council approves transport budget", "Example News", "Council approves transport budget"),
        ("Spider-Man - the review", "Other", "Spider-Man - the review"),
    ],
)
def test_strip_site_suffix(title, site, expected):
    assert strip_site_suffix(title, [site]) == expected


def test_title_tag_suffix_stripped_when_no_og_title():
    head = "<title>Council approves transport budget | Example News</title>"
    page = article_page(head).replace("<h1>Council approves transport budget</h1>", "")
    ex = clean_html(page, "https://www.example-news.com/x")
    assert ex.title == "Council approves transport budget"


def test_title_prefers_h1_over_labelled_og_title():
    head = '<meta property="og:title" content="Opinion | Council approves transport budget">'
    ex = clean_html(article_page(head))
    assert ex.title == "Council approves transport budget"


def test_canonical_absolute():
    head = '<link rel="canonical" href="/news/budget-2024?ref=1">'
    ex = clean_html(article_page(head), "https://www.example.com/news/budget-2024?utm_source=x")
    assert ex.canonical_url == "https://www.example.com/news/budget-2024?ref=1"


def test_canonical_ignores_non_http():
    ex = clean_html(article_page('<link rel="canonical" href="javascript:void(0)">'), "https://example.com/a")
    assert ex.canonical_url is None


def test_time_datetime_and_byline():
    extra = '<p class="byline">By <a href="/authors/jane" rel="author">Jane Doe</a></p><time datetime="2024-03-05T08:00:00">5 March</time>'
    ex = clean_html(article_page(body_extra=extra))
    assert ex.published_at == datetime(2024, 3, 5, 8, 0, tzinfo=timezone.utc)
    assert ex.authors == ["Jane Doe"]


def test_html_lang():
    ex = clean_html(article_page(html_attrs='lang="pt-BR"'))
    assert ex.language == "pt"
    assert clean_html(article_page(html_attrs='lang="x-klingon-weird"')).language is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("By Jane Doe", ["Jane Doe"]),
        ("Jane Doe, John Smith", ["Jane Doe", "John Smith"]),
        ("https://twitter.com/jane", []),
        ("STEVE PEOPLES, AP National Political Writer", ["Steve Peoples"]),
        ("Ilana Muhlstein, MS, RDN", ["Ilana Muhlstein"]),
        ("Bruce Y. Lee", ["Bruce Y. Lee"]),
    ],
)
def test_clean_author(raw, expected):
    assert clean_author(raw) == expected


# ----------------------------------------------------------------------------- body


def test_body_main_content_only():
    extra = (
        "<p>READ MORE: <a href='/other'>Another story entirely about something else</a></p>"
        "<div class='share'><p>Share this on Facebook</p></div>"
        "<p>Sign up for our daily newsletter to get the news in your inbox</p>"
    )
    ex = clean_html(article_page(body_extra=extra))
    body = ex.body
    assert "Paragraph number 0" in body and "Paragraph number 5" in body
    assert "\n\n" in body
    for boiler in ("Home", "Most read", "Celebrity spotted", "Copyright 2024", "READ MORE", "Another story", "newsletter"):
        assert boiler not in body, boiler
    # the headline belongs in the title, not repeated as the body's first line
    assert not body.startswith("Council approves transport budget")


def test_paragraphs_separated_by_blank_line():
    ex = clean_html(article_page(paragraphs=4))
    paras = ex.body.split("\n\n")
    assert len(paras) == 4
    assert all(p.strip() == p and p for p in paras)


@pytest.mark.parametrize(
    "html",
    [
        "",
        "   ",
        "<html><head><script>var x = 1;</script></head><body><script>alert(1)</script></body></html>",
        "<html><body></body></html>",
        "\x00\x01<<<>>>&&&;;<html<body",
    ],
)
def test_empty_pages(html):
    ex = clean_html(html)
    assert ex.body == ""


def test_index_page_has_empty_body():
    links = "".join(f'<li><a href="/a{i}">Headline number {i} about what happened today</a></li>' for i in range(40))
    page = f"<html><head><title>Home | Site</title></head><body><nav><a href='/'>Home</a></nav><ul>{links}</ul><footer>Site</footer></body></html>"
    assert clean_html(page, "https://example.com/").body == ""


def test_deeply_nested_does_not_crash():
    page = "<html><body>" + "<div>" * 5000 + "<p>" + PARA * 3 + "</p>" + "</div>" * 5000 + "</body></html>"
    ex = clean_html(page)
    assert isinstance(ex.body, str)
    unclosed = "<html><body>" + "<div><span><p>" * 3000 + PARA
    assert isinstance(clean_html(unclosed).body, str)


def test_recursion_limit_unchanged():
    limit = sys.getrecursionlimit()
    clean_html("<html><body>" + "<div>" * 3000 + PARA + "</body></html>")
    assert sys.getrecursionlimit() == limit


def test_malformed_jsonld_is_ignored():
    head = '<script type="application/ld+json">{"@type": "NewsArticle", "headline": "Broken", </script>'
    ex = clean_html(article_page(head))
    assert ex.body
    assert ex.title == "Council approves transport budget"


def test_jsonld_trailing_comma_repaired():
    head = '<script type="application/ld+json">{"@type": "NewsArticle", "author": {"name": "Jane Doe"},}</script>'
    assert clean_html(article_page(head)).authors == ["Jane Doe"]


# ----------------------------------------------------------------------------- real pages

_WORD = re.compile(r"\w+")


def _shingles(text: str, n: int = 4) -> Counter:
    toks = _WORD.findall(text)
    if len(toks) < n:
        return Counter([tuple(toks)]) if toks else Counter()
    return Counter(tuple(toks[i : i + n]) for i in range(len(toks) - n + 1))


def _f1(gold: str, pred: str) -> float:
    g, p = _shingles(gold), _shingles(pred)
    tp = sum((g & p).values())
    if not tp:
        return 0.0
    precision, recall = tp / sum(p.values()), tp / sum(g.values())
    return 2 * precision * recall / (precision + recall)


def _real_pages():
    gold = json.loads((HTML_FIXTURES / "gold.json").read_text("utf8"))
    return [(pid, item["url"], item["articleBody"]) for pid, item in sorted(gold.items())]


@pytest.mark.parametrize(("pid", "url", "gold"), _real_pages(), ids=[p[0][:8] for p in _real_pages()])
def test_real_pages_body_matches_gold(pid, url, gold):
    html = gzip.decompress((HTML_FIXTURES / f"{pid}.html.gz").read_bytes()).decode("utf8", errors="replace")
    ex = clean_html(html, url)
    assert _f1(gold, ex.body) >= 0.9
    assert ex.title
