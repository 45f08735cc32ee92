"""Main content and page type of HTML pages (the learned HTML stage), and its failures.

The pages under tests/fixtures/html-types/ are small synthetic pages written for these tests (one
per page type, plus pages without main content); none comes from the dev or test data.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from workers.errors import PermanentPageError
from workers.models import RawPage
from workers.stages.html import clean_html
from workers.stages.html.dom import parse_html
from workers.stages.parse import parse_page

pytestmark = pytest.mark.unit

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
TYPES = FIXTURES / "html-types"

# page -> (url, page type, text that must be in the body, text that must not)
PAGES = {
    "article": (
        "https://www.coastal-gazette.example/news/local/2024/03/05/harbour-council-approves-new-ferry-timetable",
        "article",
        ["adds three evening crossings to the islands", "Cost of the extra crossings", "Nurses, students and shop workers",
         "at least twelve new deckhands before June\na second engineer", "tickets for the evening crossings go on sale"],
        ["Sign in", "Related stories", "Pier repairs delayed", "All rights reserved", "Share this article",
         "Get the Gazette in your inbox"],
    ),
    "forum": (
        "https://forum.homebakers.example/threads/best-way-to-keep-a-sourdough-starter-while-on-holiday.12345/",
        "forum",
        ["I am going away for three weeks in July", "Three weeks in the fridge is fine for a mature starter",
         "I dry a spoonful of mine every spring", "I will report back in August"],
        ["Similar threads", "Starter smells like nail polish", "Terms and rules", "Register"],
    ),
    "product": (
        "https://www.summit-outfitters.example/products/ridgeline-trail-running-shoe",
        "product",
        ["A rock plate under the forefoot protects against sharp stones", "breathable recycled mesh"],
        ["Free shipping on orders over", "Store locator", "Join our newsletter", "Merino Trail Socks"],
    ),
    "collection": (
        "https://www.summit-outfitters.example/collections/womens-running-shoes",
        "collection",
        ["our women's running range covers every distance", "Tempo Road Racer - Women's"],
        ["Store locator", "Returns", "© 2024"],
    ),
    "listing": (
        "https://www.riverside-arts.example/whats-on/spring/",
        "listing",
        ["Evening of string quartets", "A one-day workshop on linocut printing", "Historian Petra Voss",
         "Open mic poetry night"],
        ["Registered charity", "Accessibility", "Support us"],
    ),
    "documentation": (
        "https://tidewater.example.dev/en/latest/configuration.html",
        "documentation",
        ["reads its settings from a TOML file", "Address the server listens on", "Send SIGHUP to a running server"],
        ["Built with Sphinx", "Changelog", "Edit this page on GitHub"],
    ),
    "service": (
        "https://www.brightwater-plumbing.example/services/drain-cleaning/",
        "service",
        ["Our technicians find the cause with a camera inspection", "Kitchen sinks blocked by grease",
         "Standard drain cleaning starts at $149", "How long does drain cleaning take?"],
        ["Areas we serve", "Careers", "Licensed and insured"],
    ),
}


def _page(name: str) -> str:
    return (TYPES / f"{name}.html").read_text(encoding="utf-8")


@pytest.mark.parametrize("name", sorted(PAGES))
def test_a_page_of_each_type_keeps_its_main_content_and_drops_the_rest(name):
    url, _type, wanted, unwanted = PAGES[name]
    body = clean_html(_page(name), url).body
    for text in wanted:
        assert text in body, f"{name}: lost {text!r}"
    for text in unwanted:
        assert text not in body, f"{name}: kept {text!r}"


def test_a_collection_keeps_nearly_all_of_its_items():
    # The block model scores each product card on its own. On this short page the last card, right
    # before the pagination, sits near the end of the page's words next to link-only blocks, where
    # real pages have their footers, and falls just under the collection threshold: a model error
    # (sharing one score across repeated siblings did not lift the out-of-fold figures), not
    # something to fit to this page. The stage keeps all items but at most one.
    url = PAGES["collection"][0]
    body = clean_html(_page("collection"), url).body
    items = ["Ridgeline Trail Running Shoe - Women's", "Tempo Road Racer - Women's",
             "Cloudstep Cushioned Trainer - Women's", "Mudlark Fell Shoe - Women's",
             "Ridgeline GTX Waterproof - Women's", "Daily Miles Trainer - Women's"]
    kept = [item for item in items if item in body]
    assert len(kept) >= len(items) - 1, f"kept only {kept}"


def test_page_type_of_each_fixture():
    got = {name: clean_html(_page(name), url).page_type for name, (url, _t, _w, _u) in PAGES.items()}
    assert got == {name: page_type for name, (_u, page_type, _w, _x) in PAGES.items()}


def test_body_is_paragraphs_separated_by_blank_lines_and_lists_one_item_per_line():
    url = PAGES["article"][0]
    body = clean_html(_page("article"), url).body
    paragraphs = body.split("\n\n")
    assert all(p == p.strip() and p for p in paragraphs)
    assert "at least twelve new deckhands before June\na second engineer on the night crossings\n" \
           "a relief captain for the winter season" in paragraphs


@pytest.mark.parametrize("name", ["error-404", "navigation-only", "empty-shell"])
def test_pages_without_main_content_are_failures(name):
    page = RawPage(content=(TYPES / f"{name}.html").read_bytes(), source=f"{name}.html",
                   url=f"https://www.example.com/{name}")
    with pytest.raises(PermanentPageError) as err:
        parse_page(page)
    assert err.value.code in ("empty_after_cleaning", "too_short_after_cleaning")


@pytest.mark.parametrize(("name", "code"), [
    ("empty.html", "empty"), ("whitespace-only.html", "empty"), ("image.png", "binary_content"),
    ("program.elf", "binary_content"), ("script-only.html", "empty_after_cleaning"),
    ("style-only.html", "empty_after_cleaning"),
])
def test_binary_and_empty_inputs_keep_their_failure_codes(name, code):
    page = RawPage(content=(FIXTURES / "hostile" / name).read_bytes(), source=name)
    with pytest.raises(PermanentPageError) as err:
        parse_page(page)
    assert err.value.code == code


def test_a_parsed_page_carries_its_page_type():
    url = PAGES["forum"][0]
    parsed = parse_page(RawPage(content=(TYPES / "forum.html").read_bytes(), source="forum.html", url=url))
    assert parsed.extraction.page_type == "forum"
    assert "Three weeks in the fridge" in parsed.extraction.body


# ----------------------------------------------------------------------------- deep nesting

_STORY = ("Officials in the harbour town said on Tuesday that the new ferry service would start in the spring "
          "after months of delays caused by storms, a shortage of engineers and a dispute over the pier. ")


@pytest.mark.parametrize("levels", [300, 2_000, 10_000])
def test_deeply_nested_article_keeps_its_text(levels):
    page = ("<html><head><title>Ferry service</title></head><body>" + "<div>" * levels
            + "".join(f"<p>{_STORY}Paragraph {i}.</p>" for i in range(4)) + "</div>" * levels + "</body></html>")
    body = clean_html(page, "https://www.example.com/news/ferry-service").body
    for i in range(4):
        assert f"Paragraph {i}." in body


def test_deep_nesting_fixture_keeps_its_text():
    html = (FIXTURES / "hostile" / "deep-nesting-10k.html").read_bytes()
    body = clean_html(html.decode("utf-8"), "https://www.example.com/a").body
    assert "Officials in the harbour town" in body


def test_past_libxml2s_depth_limit_the_tree_keeps_the_deep_text_and_what_follows():
    html = b"<html><body>" + b"<div>" * 5000 + b"<p>deep text</p>" + b"</div>" * 5000 + b"<p>tail text</p></body></html>"
    text = " ".join(parse_html(html).itertext())
    assert "deep text" in text and "tail text" in text


def test_unclosed_nesting_and_recursion_limit():
    import sys

    limit = sys.getrecursionlimit()
    page = "<html><body>" + "<div><span><p>" * 3000 + _STORY * 3
    assert "Officials in the harbour town" in clean_html(page).body
    assert sys.getrecursionlimit() == limit


@pytest.mark.parametrize(("head", "expected"), [
    ('<link rel="canonical" href="https://a.example/forum/t/1"><meta property="og:url" content="https://a.example/x">',
     "https://a.example/forum/t/1"),
    ('<meta property="og:url" content="https://a.example/x"><link rel="Canonical alternate" href="/docs/a">', "/docs/a"),
    ('<meta property="og:url" content=" https://a.example/x ">', "https://a.example/x"),
    ('<link rel="stylesheet" href="/s.css">', None),
])
def test_the_url_a_page_declares_for_itself(head, expected):
    from workers.stages.html.page_type import declared_url

    assert declared_url(parse_html(f"<html><head>{head}</head><body><p>Text</p></body></html>")) == expected


def test_a_page_without_a_url_is_typed_from_the_url_it_declares():
    from workers.stages.html.features import BlockText
    from workers.stages.html.page_type import declared_url, page_type_features
    from workers.stages.html.segment import segment

    url = PAGES["forum"][0]
    tree = parse_html(_page("forum").replace("<head>", f'<head><link rel="canonical" href="{url}">', 1))
    seg = segment(tree)
    stats = BlockText(seg)
    assert declared_url(tree) == url
    assert (page_type_features(seg, stats, declared_url(tree)) == page_type_features(seg, stats, url)).all()
    assert not (page_type_features(seg, stats, None) == page_type_features(seg, stats, url)).all()
