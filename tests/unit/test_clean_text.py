"""Tests of the text-dump cleaner (workers.stages.clean_text): a pure stage, no services."""

from __future__ import annotations

import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from workers.models import Extraction
from workers.stages.clean_text import clean_text_dump

pytestmark = pytest.mark.unit

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"

PARAS = [
    "The city council voted on Tuesday to approve the new budget, which includes more money for "
    "schools, parks and the repair of several bridges that were damaged in last year's floods.",
    "Council members said the plan was the result of months of negotiations with residents and "
    "local businesses, and that it would be reviewed again in the spring.",
    "Opponents of the budget argued that the spending was too high and that the city should "
    "have waited until the state had decided how much aid it would provide this year.",
    "The mayor is expected to sign the budget later this week, according to a spokesman who "
    "asked not to be named because the decision had not yet been announced.",
]

MENU = """  * Home
  * News
  * Sports
  * Business
  * Opinion
  * Weather
  * Contact Us
"""

FOOTER = """
Most Read

  * Man arrested after chase on highway
  * Five things to do this weekend
  * School board election results

Subscribe to our newsletter

Copyright © 2024 Example Media. All rights reserved.
  * Privacy Policy
  * Terms of Use
"""


def page(header: str, paras: list[str] = PARAS, *, blank_between: bool = True, footer: str = FOOTER) -> str:
    sep = "\n\n" if blank_between else "\n"
    body = sep.join("    " + p for p in paras)
    return f"{MENU}\n{header}\n\n{body}\n{footer}"


# --------------------------------------------------------------------------- the JPost fixture
@pytest.fixture(scope="module")
def gantz() -> Extraction:
    text = (FIXTURES / "jpost-gantz-2020-09-23.txt").read_text(encoding="utf-8")
    return clean_text_dump(text)


def test_fixture_title(gantz: Extraction) -> None:
    assert gantz.title == "Gantz in US talks of Iran, Israel's QME in shadow of F-35 sales to UAE"


def test_fixture_authors(gantz: Extraction) -> None:
    assert [a.lower() for a in gantz.authors] == ["celia jean"]
    assert gantz.authors == ["Celia Jean"]  # ALL-CAPS byline normalised to title case


def test_fixture_published_at(gantz: Extraction) -> None:
    assert gantz.published_at is not None
    assert gantz.published_at.tzinfo is not None
    assert gantz.published_at.date() == date(2020, 9, 23)


def test_fixture_tags(gantz: Extraction) -> None:
    assert gantz.tags == ["Benny Gantz", "Jared Kushner", "Mark Esper", "Robert O'Brien"]


def test_fixture_body_bounds(gantz: Extraction) -> None:
    assert gantz.body.startswith("Defense Minister Benny Gantz discussed")
    assert gantz.body.endswith("normalization and stability in the Middle East.")
    assert "\n\n" in gantz.body  # paragraphs separated by a blank line


@pytest.mark.parametrize(
    "chrome",
    [
        "Coronavirus Israel News",  # menu
        "Kabbalah",
        "(photo credit",
        "Gantz and Kushner at the White House",  # caption
        "Tags",
        "Most Read",
        "Hot Opinion",
        "Subscribe for our daily newsletter",
        "Copyright",
        "Customer Service Center",  # footer
        "Himalayan Salt Lamps",
        "By CELIA JEAN",
        "SEPTEMBER 23, 2020",
    ],
)
def test_fixture_body_has_no_chrome(gantz: Extraction, chrome: str) -> None:
    assert chrome.lower() not in gantz.body.lower()


def test_fixture_standfirst_is_description_not_body(gantz: Extraction) -> None:
    assert gantz.description is not None
    assert gantz.description.startswith("He emphasized that Israel's defense system")
    assert not gantz.body.startswith("He emphasized")


def test_fixture_leaves_undeclared_fields_empty(gantz: Extraction) -> None:
    assert gantz.language is None and gantz.site_name is None and gantz.canonical_url is None


# --------------------------------------------------------------------------- body heuristics
def test_synthetic_article_body_is_only_the_paragraphs() -> None:
    text = page("  City approves new budget\n\n  By Jane Smith\n  March 3, 2024")
    ex = clean_text_dump(text)
    assert ex.body == "\n\n".join(PARAS)
    assert ex.title == "City approves new budget"


def test_paragraphs_without_blank_lines_still_split() -> None:
    text = page("  City approves new budget\n  By Jane Smith\n  March 3, 2024", blank_between=False)
    ex = clean_text_dump(text)
    assert ex.body.split("\n\n") == PARAS


def test_inline_advertisement_and_caption_are_dropped() -> None:
    paras = PARAS[:2] + ["Advertisement", "The old bridge in 2019. (Photo: John Doe/AP)"] + PARAS[2:]
    ex = clean_text_dump(page("  City approves new budget\n  By Jane Smith\n  March 3, 2024", paras))
    assert ex.body == "\n\n".join(PARAS)


def test_subheads_inside_the_article_are_kept() -> None:
    paras = PARAS[:2] + ["What happens next"] + PARAS[2:]
    ex = clean_text_dump(page("  City approves new budget\n  By Jane Smith\n  March 3, 2024", paras))
    assert "What happens next" in ex.body
    assert ex.body.startswith(PARAS[0]) and ex.body.endswith(PARAS[-1])


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   \n\t\n ",
        MENU + FOOTER,
        "Home\nNews\nSports\nLog in\nSubscribe\n© 2024 Example\n",
        "\x00\x00\x00",
    ],
)
def test_boilerplate_only_gives_empty_body(text: str) -> None:
    ex = clean_text_dump(text)
    assert isinstance(ex, Extraction)
    assert ex.body == ""


def test_cjk_article_keeps_its_long_paragraphs() -> None:
    paras = [
        "서울시는 화요일 새로운 예산안을 승인했다고 밝혔다. 이번 예산에는 학교와 공원, 그리고 지난해 홍수로 "
        "피해를 입은 여러 다리의 보수 비용이 포함되어 있다. 시 의회는 주민들과 여러 달 동안 협의를 거쳤다고 설명했다.",
        "반대하는 의원들은 지출 규모가 지나치게 크다고 주장했다. 그들은 정부의 지원 규모가 정해질 때까지 "
        "결정을 미뤄야 한다고 말했다. 시장은 이번 주 안에 예산안에 서명할 것으로 예상된다.",
        "市政府周二表示，新的预算方案已获批准，其中包括用于学校、公园以及修复去年洪水中受损的多座桥梁的资金。"
        "市议会表示，该方案是与居民和商界进行了数月谈判的结果，并将在春季再次审议。",
    ]
    menu = "  * 전체뉴스\n  * 정치\n  * 경제\n  * 사회\n  * 문화\n"
    text = f"{menu}\n  서울시, 새 예산안 승인\n\n  2024-03-05 10:20\n\n" + "\n\n".join(
        "    " + p for p in paras
    ) + "\n\n  많이 본 뉴스\n\n  * 다른 기사 제목\n  * 또 다른 기사\n\n  Copyright ⓒ 예시미디어. 무단전재 및 재배포 금지\n"
    ex = clean_text_dump(text)
    assert ex.body == "\n\n".join(paras)
    assert ex.published_at == datetime(2024, 3, 5, 10, 20, tzinfo=timezone.utc)


def test_non_english_article_keeps_its_paragraphs() -> None:
    paras = [
        "A prefeitura aprovou na terça-feira o novo orçamento, que inclui mais recursos para as escolas, "
        "os parques e a recuperação de várias pontes danificadas pelas enchentes do ano passado.",
        "Os vereadores disseram que o plano é resultado de meses de negociação com os moradores e com o "
        "comércio local, e que ele será revisto novamente na primavera.",
        "Os opositores afirmaram que os gastos são altos demais e que a cidade deveria ter esperado a "
        "decisão do governo estadual sobre o valor da ajuda deste ano.",
    ]
    header = "  Prefeitura aprova novo orçamento\n\n  terça-feira, 5 de março de 2024 às 14:30\n  Compartilhe no WhatsApp"
    text = (
        "  * Início\n  * Notícias\n  * Esportes\n  * Contato\n\n" + header + "\n\n"
        + "\n\n".join("    " + p for p in paras)
        + "\n\n  Leia também\n\n  * Outra notícia qualquer\n  * Mais uma notícia\n\n"
        "  Copyright © 2024. Todos os direitos reservados.\n"
    )
    ex = clean_text_dump(text)
    assert ex.body == "\n\n".join(paras)
    assert ex.title == "Prefeitura aprova novo orçamento"
    assert ex.published_at == datetime(2024, 3, 5, 14, 30, tzinfo=timezone.utc)


def test_article_beats_longer_comment_thread_after_it() -> None:
    comments = "\n".join(
        f"        user{i}\n        2 days ago\n        {PARAS[i % 4]} {PARAS[(i + 1) % 4]}\n        Rating: {i} Votes"
        for i in range(12)
    )
    text = (
        page("  City approves new budget\n  Monday March 4, 2024 7:45 am PST by Joe Rossignol", footer="")
        + "\n  [ 212 comments ]\n\n  Top Rated Comments\n\n"
        + comments
        + FOOTER
    )
    ex = clean_text_dump(text)
    assert ex.body == "\n\n".join(PARAS)
    assert ex.authors == ["Joe Rossignol"]


def _product_box(n: int) -> list[str]:
    lines = []
    for i in range(n):
        lines += [
            f"    Acme Speaker Model {i}",
            "",
            "      * Long battery life",
            "      * Water resistant",
            "",
            f"        Acme Speaker Model {i} (Latest Model)",
            f"          ${i + 99}.99",
            "          Available from Amazon",
            "          We may receive a commission",
            "      Buy Now",
            "",
        ]
    return lines


def test_nested_product_box_between_paragraphs_is_bridged() -> None:
    # a long stretch of low-scoring lines that stays inside the article's container (at its
    # indentation or deeper) does not cut the article when its prose resumes after it
    text = "\n".join(
        [MENU, "  City approves new budget", "  By Jane Smith", "  March 3, 2024", ""]
        + ["    " + PARAS[0], "", "    " + PARAS[1], ""]
        + _product_box(8)
        + ["    " + PARAS[2], "", "    " + PARAS[3], FOOTER]
    )
    body = clean_text_dump(text).body
    assert body.startswith(PARAS[0]) and body.endswith(PARAS[3])
    assert "Acme Speaker Model 3 (Latest Model)" in body and "Available from Amazon" in body
    assert "Long battery life" not in body  # short bullets are link-list-like: not bridged
    assert "Most Read" not in body and "Five things to do" not in body


def test_no_bridge_over_chrome_outside_the_article() -> None:
    # the same box at a shallower indentation than the paragraphs is page chrome, not the article
    box = [line[2:] if line.startswith("    ") else line for line in _product_box(8)]
    box = ["  " + line.strip() if line.strip() else "" for line in box]
    text = "\n".join(
        [MENU, "  City approves new budget", "  By Jane Smith", "  March 3, 2024", ""]
        + ["    " + PARAS[0], "", "    " + PARAS[1], ""]
        + box
        + ["    " + PARAS[2], FOOTER]
    )
    body = clean_text_dump(text).body
    assert body == "\n\n".join(PARAS[:2])


def test_teaser_box_inside_the_article_is_dropped() -> None:
    box = (
        "      Trending News\n\n"
        "        * Man arrested after 7 trafficking victims found in car\n"
        "        * Safety officials urge Boeing to redesign part on 737s\n\n"
        "    DON'T MISS\n"
        "    China furious at Macron for protest jibe [INSIGHT]\n"
        "    Lakers vs Nets: NBA make final decision on game [VIDEO]\n"
    )
    article = PARAS + [p.replace("The ", "Then the ", 1) for p in PARAS]
    paras = ["    " + p for p in article]
    text = "\n".join([MENU, "  City approves new budget", "  By Jane Smith", "  March 3, 2024", ""]
                     + [paras[0], "", paras[1], "", paras[2], "", box]
                     + [x for p in paras[3:] for x in (p, "")] + [FOOTER])
    assert clean_text_dump(text).body == "\n\n".join(article)


def test_trailing_labelled_lists_and_leading_label_are_dropped() -> None:
    tail = (
        "\n    Next Up In Science & Health\n\n"
        "      * A clever new solar solution to one of the trickiest climate problems\n"
        "      * How Apollo moon rocks reveal the epic history of the cosmos\n\n"
        "    Most Read\n\n"
        "       1. Tuesday's hearings were a disaster for the council. Even its own witnesses said so.\n"
        "       2. One of the witnesses confirmed the deal on TV. This may be the biggest moment yet.\n"
    )
    text = page("  City approves new budget\n  By Jane Smith\n  March 3, 2024\n\n    Why you can trust us", footer=tail + FOOTER)
    assert clean_text_dump(text).body == "\n\n".join(PARAS)


# --------------------------------------------------------------------------- metadata heuristics
@pytest.mark.parametrize(
    ("byline", "authors"),
    [
        ("By CELIA JEAN", ["Celia Jean"]),
        ("By JOHN O'BRIEN", ["John O'Brien"]),
        ("By Mike Wuerthele and Malcolm Owen", ["Mike Wuerthele", "Malcolm Owen"]),
        ("By Meg James Staff Writer", ["Meg James"]),
        ("By Sandee LaMotte, CNN", ["Sandee LaMotte"]),
        ("BY: Jane Doe | March 3, 2024", ["Jane Doe"]),
    ],
)
def test_byline(byline: str, authors: list[str]) -> None:
    ex = clean_text_dump(page(f"  City approves new budget\n\n  {byline}\n  March 3, 2024"))
    assert ex.authors == authors


def test_no_byline_no_authors() -> None:
    ex = clean_text_dump(page("  City approves new budget\n\n  March 3, 2024"))
    assert ex.authors == []


@pytest.mark.parametrize(
    ("dateline", "expected"),
    [
        ("SEPTEMBER 23, 2020 00:32", datetime(2020, 9, 23, 0, 32, tzinfo=timezone.utc)),
        ("Published: March 3, 2024", datetime(2024, 3, 3, tzinfo=timezone.utc)),
        (
            "Published 2:16 AM EST Nov 20, 2019",
            datetime(2019, 11, 20, 2, 16, tzinfo=timezone(timedelta(hours=-5))),
        ),
        (
            "Monday November 18, 2019 7:45 am PST",
            datetime(2019, 11, 18, 7, 45, tzinfo=timezone(timedelta(hours=-8))),
        ),
        ("Updated Nov. 5, 2019 / Published Nov. 4, 2019", datetime(2019, 11, 4, tzinfo=timezone.utc)),
        ("2024-03-05T10:20:00+02:00", datetime(2024, 3, 5, 10, 20, tzinfo=timezone(timedelta(hours=2)))),
        ("19 November 2019 • 1:16pm", datetime(2019, 11, 19, 13, 16, tzinfo=timezone.utc)),
    ],
)
def test_dateline(dateline: str, expected: datetime) -> None:
    ex = clean_text_dump(page(f"  City approves new budget\n\n  By Jane Smith\n  {dateline}"))
    assert ex.published_at is not None and ex.published_at.tzinfo is not None
    assert ex.published_at == expected


def test_leading_date_line() -> None:
    text = " date 2021-03-04 Example News Home World Sports\n" + page("  City approves new budget")
    ex = clean_text_dump(text)
    assert ex.published_at == datetime(2021, 3, 4, tzinfo=timezone.utc)


def test_date_from_url_as_last_resort() -> None:
    ex = clean_text_dump(page("  City approves new budget"), url="https://example.com/2019/11/19/city-budget/")
    assert ex.published_at == datetime(2019, 11, 19, tzinfo=timezone.utc)
    assert clean_text_dump(page("  City approves new budget")).published_at is None


def test_title_prefers_headline_over_site_name_and_standfirst() -> None:
    header = (
        "  Example Daily News\n\n  City approves new budget after months of talks\n\n"
        "  The plan adds money for schools and bridges, but opponents say it spends too much.\n\n"
        "  By Jane Smith\n  March 3, 2024"
    )
    ex = clean_text_dump(page(header))
    assert ex.title == "City approves new budget after months of talks"
    assert ex.description == "The plan adds money for schools and bridges, but opponents say it spends too much."


@pytest.mark.parametrize(
    ("tag_block", "tags"),
    [
        ("Tags: budget, city council, bridges", ["budget", "city council", "bridges"]),
        ("Tags Jane Smith City Council", ["Jane Smith", "City Council"]),
        ("Tags:\n  * Budget\n  * City Council\n  * Bridges\n  Share this", ["Budget", "City Council", "Bridges"]),
        ("Topics: Budget | Schools", ["Budget", "Schools"]),
    ],
)
def test_tags(tag_block: str, tags: list[str]) -> None:
    paras = PARAS + ["Jane Smith, who chairs the City Council finance committee, called it a fair compromise."]
    text = page("  City approves new budget\n\n  By Jane Smith\n  March 3, 2024", paras, footer="")
    ex = clean_text_dump(text + "\n\n  " + tag_block + "\n" + FOOTER)
    assert ex.tags == tags
    assert "Tags" not in ex.body and "Topics" not in ex.body


def test_run_together_tags_split_on_article_phrases() -> None:
    paras = [
        "Defense Minister Benny Gantz met Defense Secretary Mark Esper and senior adviser Jared Kushner "
        "at the Pentagon on Tuesday to discuss the regional situation and joint projects.",
        "Robert O'Brien, the national security adviser, joined the meeting later in the day, officials said.",
    ]
    text = page("  Gantz visits Washington\n\n  By Jane Smith\n  March 3, 2024", paras, footer="")
    ex = clean_text_dump(text + "\n\n  Tags Benny Gantz Jared Kushner Mark Esper Robert O'Brien\n" + FOOTER)
    assert ex.tags == ["Benny Gantz", "Jared Kushner", "Mark Esper", "Robert O'Brien"]


# --------------------------------------------------------------------------- pathological input
def test_nul_bytes_and_control_characters() -> None:
    text = page("  City \x00approves new budget\x07\n\n  By Jane Smith\n  March 3, 2024").replace("schools", "sch\x00ools")
    ex = clean_text_dump(text)
    assert "\x00" not in ex.body and "\x00" not in (ex.title or "")
    assert "schools" in ex.body


def test_crlf_line_endings() -> None:
    text = page("  City approves new budget\n\n  By Jane Smith\n  March 3, 2024").replace("\n", "\r\n")
    assert clean_text_dump(text).body == "\n\n".join(PARAS)


def test_huge_single_line_is_fast() -> None:
    start = time.perf_counter()
    ex = clean_text_dump(("The council said the budget would be reviewed again in spring. " * 200_000))
    assert time.perf_counter() - start < 5
    assert ex.body  # one very long paragraph is still an article


def test_many_lines_stay_linear() -> None:
    small = "  * Menu item\n" * 20_000
    big = "  * Menu item\n" * 200_000
    t0 = time.perf_counter()
    clean_text_dump(small)
    t_small = time.perf_counter() - t0
    t0 = time.perf_counter()
    assert clean_text_dump(big).body == ""
    t_big = time.perf_counter() - t0
    assert t_big < 10
    assert t_big < 30 * max(t_small, 0.01)  # ~10x the input, not ~100x the time


def test_many_datelines_do_not_go_quadratic() -> None:
    text = (f"  March 3, 2024\n  {PARAS[0]}\n") * 30_000
    start = time.perf_counter()
    clean_text_dump(text)
    assert time.perf_counter() - start < 10


def test_public_signature_accepts_url_keyword() -> None:
    ex = clean_text_dump(page("  City approves new budget"), url=None)
    assert isinstance(ex, Extraction)


def test_body_adapter_for_the_scorer() -> None:
    from workers.stages.clean_text import clean_text_body

    text = page("  City approves new budget\n\n  By Jane Smith\n  March 3, 2024")
    assert clean_text_body(text) == clean_text_dump(text).body
