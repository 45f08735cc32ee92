"""The text-dump cleaner (workers.stages.textdump): a pure stage, no services.

The body comes from a learned line classifier (model files shipped in the package); these tests
hold what it must do on pages and items it was not trained on: the example page's article and
metadata, plain-text news items (a short wire story, a results table) kept as documents, pure
navigation refused, and bounded work on hostile input.
"""

from __future__ import annotations

import json
import shutil
import time
from datetime import date, datetime, timezone
from pathlib import Path

import numpy as np
import pytest

from workers.errors import PermanentPageError
from workers.models import Extraction, RawPage
from workers.stages.parse import ParseLimits, parse_page
from workers.stages.textdump import clean_text_body, clean_text_dump
from workers.stages.textdump.body import cut_at_comments, smooth_article
from workers.stages.textdump.item import split_dateline
from workers.stages.textdump.lines import read_lines
from workers.stages.textdump.metadata import parse_authors
from workers.stages.textdump.model import CONTEXT_MODEL, DECISION, LINE_MODEL, PAGE_MODEL, SHIPPED, load_line_model
from workers.stages.textdump.site_name import domain_label, find_site_name

pytestmark = pytest.mark.unit

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
ITEMS = FIXTURES / "textdump"


def parse_text(text: str, model_dir: Path | None = None, **limits) -> Extraction:
    page = RawPage(content=text.encode(), source="test.txt", kind="text")
    return parse_page(page, limits=ParseLimits(**limits), model_dir=model_dir).extraction


# --------------------------------------------------------------------------- the example page
@pytest.fixture(scope="module")
def gantz() -> Extraction:
    return clean_text_dump((FIXTURES / "jpost-gantz-2020-09-23.txt").read_text(encoding="utf-8"))


def test_example_title(gantz: Extraction) -> None:
    assert gantz.title == "Gantz in US talks of Iran, Israel's QME in shadow of F-35 sales to UAE"


def test_example_author_in_title_case(gantz: Extraction) -> None:
    assert gantz.authors == ["Celia Jean"]


def test_example_published_at(gantz: Extraction) -> None:
    assert gantz.published_at == datetime(2020, 9, 23, 0, 32, tzinfo=timezone.utc)


def test_example_site_name_from_header_copyright_and_mail_domain(gantz: Extraction) -> None:
    assert gantz.site_name == "The Jerusalem Post"


def test_example_body_bounds(gantz: Extraction) -> None:
    assert gantz.body.startswith("Defense Minister Benny Gantz discussed")
    assert gantz.body.endswith("normalization and stability in the Middle East.")
    assert gantz.body.count("\n\n") >= 8  # one paragraph per line of the dump


@pytest.mark.parametrize(
    "chrome",
    ["Coronavirus Israel News", "Kabbalah", "photo credit", "Most Read", "Hot Opinion", "Subscribe for our daily",
     "Copyright", "Customer Service Center", "Himalayan Salt Lamps", "By CELIA JEAN", "SEPTEMBER 23, 2020",
     "Why the courage to confront Iran matters"],
)
def test_example_body_has_no_chrome(gantz: Extraction, chrome: str) -> None:
    assert chrome.lower() not in gantz.body.lower()


def test_example_tags(gantz: Extraction) -> None:
    assert gantz.tags == ["Benny Gantz", "Jared Kushner", "Mark Esper", "Robert O'Brien"]


def test_example_through_the_parse_stage() -> None:
    text = (FIXTURES / "jpost-gantz-2020-09-23.txt").read_text(encoding="utf-8")
    parsed = parse_page(RawPage(content=text.encode(), source="jpost.txt"))
    assert parsed.kind == "text" and parsed.extraction.site_name == "The Jerusalem Post"
    assert parsed.extractor.startswith("gleaner-textdump-")


# --------------------------------------------------------------------------- plain-text news items
def test_short_wire_story_is_a_document() -> None:
    ex = parse_text((ITEMS / "wire-story-short.txt").read_text(encoding="utf-8"))
    assert ex.title == "SKIING - NORWEGIAN TEENAGER WINS FIRST WORLD CUP SLALOM."
    assert ex.published_at == datetime(2024, 3, 5, tzinfo=timezone.utc)
    # the dateline is metadata: its date goes to published_at, its place to dateline
    assert ex.dateline == "TROMSO, Norway"
    assert ex.body.startswith("Seventeen-year-old Ingrid Halvorsen won")
    assert ex.body.endswith("in heavy snow at the northern resort.")
    assert "2024" not in ex.body


def test_results_table_is_a_document_with_every_row() -> None:
    text = (ITEMS / "results-table.txt").read_text(encoding="utf-8")
    ex = parse_text(text)
    assert ex.title == "ICE HOCKEY - NORDIC LEAGUE RESULTS."
    assert ex.published_at == datetime(2024, 3, 5, tzinfo=timezone.utc)
    rows = [line for line in text.splitlines()[4:] if line.strip()]
    assert len(rows) == 11
    for row in rows:
        assert row in ex.body
    assert ex.dateline == "BERGEN"
    assert ex.body.startswith("Results of Nordic league matches on Tuesday:")


def test_byline_between_headline_and_dateline() -> None:
    text = ("Council approves the harbour plan.\n\nKari Nordmann\n\nBERGEN 2024-03-05\n\n"
            "The city council approved the new harbour plan on Tuesday after a long debate, the mayor said.\n")
    ex = clean_text_dump(text)
    assert ex.authors == ["Kari Nordmann"] and ex.title == "Council approves the harbour plan."
    assert ex.dateline == "BERGEN" and ex.body.startswith("The city council approved")


@pytest.mark.parametrize(
    ("line", "place", "when"),
    [
        ("LONDON 1996-08-30", "LONDON", datetime(1996, 8, 30, tzinfo=timezone.utc)),
        ("WIGAN, England 1996-08-31", "WIGAN, England", datetime(1996, 8, 31, tzinfo=timezone.utc)),
        ("WASHINGTON, Aug 30, 1996 (Reuters)", "WASHINGTON", datetime(1996, 8, 30, tzinfo=timezone.utc)),
        ("1996-08-30", None, datetime(1996, 8, 30, tzinfo=timezone.utc)),
    ],
)
def test_dateline_split(line: str, place: str | None, when: datetime) -> None:
    assert split_dateline(line) == (place, when)


@pytest.mark.parametrize("line", ["The match on 1996-08-30 was cancelled", "Home News 2024-03-05 Sports"])
def test_a_sentence_with_a_date_is_no_dateline(line: str) -> None:
    assert split_dateline(line) is None


# --------------------------------------------------------------------------- failures
def test_pure_navigation_fails() -> None:
    text = (ITEMS / "navigation.txt").read_text(encoding="utf-8")
    with pytest.raises(PermanentPageError) as err:
        parse_text(text)
    assert err.value.code in ("empty_after_cleaning", "too_short_after_cleaning")


@pytest.mark.parametrize("text", ["", "   \n\t\n ", "\x00\x00\x00", "Home\nNews\nSports\nLog in\nSubscribe\n© 2024 Example\n"])
def test_nothing_to_keep_gives_an_empty_body(text: str) -> None:
    ex = clean_text_dump(text)
    assert isinstance(ex, Extraction) and ex.body == ""


def test_a_single_line_of_prose_is_a_document() -> None:
    paragraph = ("Officials in the harbour town said on Tuesday that the new ferry service would start in the "
                 "spring after months of delays caused by storms and a dispute over the cost of the old pier.")
    ex = parse_text(f"Ferry news {paragraph} {paragraph}")
    assert paragraph in ex.body


def test_a_short_undated_blurb_is_still_too_short() -> None:
    with pytest.raises(PermanentPageError) as err:
        parse_text("Weekend sale\n\nEverything in the store is half price this weekend only, come early.\n")
    assert err.value.code in ("empty_after_cleaning", "too_short_after_cleaning")


# --------------------------------------------------------------------------- metadata rules
@pytest.mark.parametrize(
    ("byline", "authors"),
    [
        ("By CELIA JEAN", ["Celia Jean"]),
        ("By JOHN O'BRIEN", ["John O'Brien"]),
        ("By Mike Wuerthele and Malcolm Owen", ["Mike Wuerthele", "Malcolm Owen"]),
        ("By Meg James Staff Writer", ["Meg James"]),
        ("By Sandee LaMotte, CNN", ["Sandee LaMotte"]),
        ("BY: Jane Doe | March 3, 2024", ["Jane Doe"]),
        ("Posted in news", []),
    ],
)
def test_byline_names(byline: str, authors: list[str]) -> None:
    assert parse_authors(byline) == authors


@pytest.mark.parametrize(
    ("host", "label"), [("www.jpost.com", "jpost"), ("news.bbc.co.uk", "bbc"), ("nytimes.com", "nytimes")]
)
def test_domain_label(host: str, label: str) -> None:
    assert domain_label(host) == label


@pytest.mark.parametrize(
    ("lines", "host", "name"),
    [
        (["The New York Times - Breaking News", "Body text here."], "www.nytimes.com", "The New York Times"),
        (["Home | BBC News", "© 2024 BBC."], "www.bbc.co.uk", "BBC"),
        (["Welcome to Example Daily", "Contact: desk@exampledaily.org"], None, "Example Daily"),
        (["Some Blog Header", "text"], "www.unrelated.com", None),
        (["Nothing names the site here"], None, None),
    ],
)
def test_site_name_spells_the_domain(lines: list[str], host: str | None, name: str | None) -> None:
    assert find_site_name(read_lines("\n".join(lines)), host) == name


def test_date_from_url_when_the_page_has_none() -> None:
    text = (FIXTURES / "jpost-gantz-2020-09-23.txt").read_text(encoding="utf-8")
    undated = "\n".join(line for line in text.splitlines() if "2020" not in line)
    ex = clean_text_dump(undated, url="https://example.com/2019/11/19/gantz-in-us-talks/")
    assert ex.published_at is not None and ex.published_at.date() == date(2019, 11, 19)


# --------------------------------------------------------------------------- model files
def test_a_model_folder_replaces_the_shipped_model(tmp_path: Path) -> None:
    for name in (LINE_MODEL, CONTEXT_MODEL):
        shutil.copy(SHIPPED / name, tmp_path / name)
    decision = json.loads((SHIPPED / DECISION).read_text())
    decision["threshold"] = 1.01  # nothing can reach it
    (tmp_path / DECISION).write_text(json.dumps(decision))
    text = (FIXTURES / "jpost-gantz-2020-09-23.txt").read_text(encoding="utf-8")
    assert clean_text_dump(text).body
    assert clean_text_dump(text, model_dir=tmp_path).body == ""
    with pytest.raises(PermanentPageError):
        parse_text(text, model_dir=tmp_path)


def test_the_model_is_loaded_once_per_process_and_folder(tmp_path: Path) -> None:
    assert load_line_model() is load_line_model()
    for name in (PAGE_MODEL, LINE_MODEL, CONTEXT_MODEL, DECISION):
        shutil.copy(SHIPPED / name, tmp_path / name)
    other = load_line_model(tmp_path)
    assert other is load_line_model(tmp_path) and other is not load_line_model()


def test_model_files_are_small_and_described() -> None:
    for name in (PAGE_MODEL, LINE_MODEL, CONTEXT_MODEL):
        assert name.endswith(".gz") and (SHIPPED / name).stat().st_size < 1_500_000
    card = (SHIPPED / "README.md").read_text()
    assert "WCXB" in card and "inscriptis" in card and "Reuters" in card  # says what it was (not) trained on


# --------------------------------------------------------------------------- hostile input
def test_nul_bytes_control_characters_and_crlf() -> None:
    text = (FIXTURES / "jpost-gantz-2020-09-23.txt").read_text(encoding="utf-8")
    dirty = text.replace("Defense Minister", "Defense\x00 Minister\x07").replace("\n", "\r\n")
    ex = clean_text_dump(dirty)
    assert "\x00" not in ex.body and "\r" not in ex.body
    assert ex.body.startswith("Defense Minister Benny Gantz")


def test_huge_single_line_is_bounded() -> None:
    start = time.perf_counter()
    ex = clean_text_dump("The council said the budget would be reviewed again in spring. " * 200_000)
    assert time.perf_counter() - start < 20  # a guard against runaway work, not a speed figure
    assert ex.body


def test_many_lines_are_bounded() -> None:
    start = time.perf_counter()
    assert clean_text_dump("  * Menu item\n" * 200_000).body == ""
    assert time.perf_counter() - start < 60  # MAX_LINES caps the work


def test_body_adapter_for_the_scorer() -> None:
    text = (ITEMS / "wire-story-short.txt").read_text(encoding="utf-8")
    assert clean_text_body(text) == clean_text_dump(text).body


def test_old_import_path_is_gone() -> None:
    with pytest.raises(ImportError):
        import workers.stages.clean_text  # noqa: F401


# --------------------------------------------------------------------------- the end of an article
def _article_with_comments() -> list:
    paragraph = ("The council voted on Tuesday to keep the library open for another year, after residents "
                 "filled the hall to ask for it and the mayor said the budget could carry the cost. ")
    text = "\n\n".join([paragraph * 2] * 6 + ["[ 12 comments ]", "jsmith", "2 hours ago",
                                                  "I agree with every word of this, the library is the town's heart.",
                                                  "Reply"])
    # (the comment's own lines: a user name, a relative time, the comment, a reply button)
    return read_lines(text)


def test_an_article_ends_at_its_comments_heading() -> None:
    lines = _article_with_comments()
    kept = [line for line in lines if line.units >= 10]  # as if the classifier kept every long line
    assert lines[6].kind == "comments"
    cut = cut_at_comments(lines, kept)
    assert [line.idx for line in cut] == list(range(6))
    # a comments heading below fewer kept words (a menu link "Comments" near the top) cuts nothing
    assert cut_at_comments(lines, kept, min_units=10_000) == kept


def test_readers_comments_under_the_example_article_are_not_kept() -> None:
    text = (FIXTURES / "jpost-gantz-2020-09-23.txt").read_text(encoding="utf-8")
    lines = text.splitlines()
    end = next(i for i, line in enumerate(lines) if line.strip().endswith("stability in the Middle East."))  # last
    thread = ["", "Comments", "", "ReaderOne", "3 hours ago", "",
              "Gantz should have asked for much more than this, everyone in the region knows the deal is done.", "",
              "Reply", "", "ReaderTwo", "2 hours ago", "",
              "The minister was right to go to Washington, and the paper was right to report the talks in full.", ""]
    ex = clean_text_dump("\n".join(lines[:end + 1] + thread + lines[end + 1:]))
    assert ex.page_type == "article" and ex.body.startswith("Defense Minister Benny Gantz discussed")
    assert "everyone in the region" not in ex.body and "report the talks in full" not in ex.body


def test_an_articles_lines_are_smoothed_as_a_sequence() -> None:
    paragraph = ("The council voted on Tuesday to keep the library open for another year, after residents "
                 "filled the hall to ask for it.")
    lines = read_lines("\n".join([paragraph, "Read more: Storm closes schools", paragraph, "Pictured", paragraph,
                                  "Home", "About us", "Contact", "Careers"]))
    p = np.array([0.9, 0.6, 0.9, 0.4, 0.9, 0.2, 0.1, 0.6, 0.2])
    q = smooth_article(lines, p, 0.5)
    # a short line inside the text is content, a lone short line in the footer is not; long
    # confident lines keep their probability
    assert q[3] >= 0.5 and q[7] < 0.5
    assert q[0] == q[2] == q[4] == 0.9 and q[1] == 0.6
    assert (q[5:] < 0.5).all()
    # the page starts outside its content: a doubtful first line (a headline) is not pulled in
    assert smooth_article(lines[1:], np.array([0.4, 0.9, 0.4, 0.9, 0.2, 0.1, 0.6, 0.2]), 0.5)[0] < 0.5
    # a cost too high to enter the content keeps nothing; no lines, nothing to do
    assert (smooth_article(lines, p, 0.5, switch_cost=1e6) < 0.5).all()
    assert len(smooth_article([], np.zeros(0), 0.5)) == 0
