"""The quicker ways the HTML stage computes a few things give what the plain ways give."""

import random
import re

import pytest
from lxml.html import HtmlElement

from workers.stages.html.dom import parse_html
from workers.stages.html.metadata_authors import _BY_LINE, _BY_STARTS
from workers.stages.html.metadata_page import norm_space
from workers.stages.html.segment import F_HIDDEN, segment

pytestmark = pytest.mark.unit

_WS = re.compile(r"\s+")
_PIECES = ["by", "By", "BY", "written", "Text", "news", "story", "Author", "x", "é", "\u2028", "\u00a0", "\r",
           "\x0b", "\x1c", " ", "\t", "\n", "\n\n", "\u200b", "\u00ad"]


def _random_texts(n: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choice(_PIECES) + rng.choice(["", " ", "\n"]) for _ in range(rng.randint(0, 30)))
            for _ in range(n)]


def test_by_lines_are_the_lines_that_start_with_a_by_word():
    for text in _random_texts(2000):
        expected = [i for i, line in enumerate(text.split("\n")) if line.lstrip().startswith(_BY_STARTS)]
        padded = "\n" + text
        found, index, counted_to = [], 0, 0
        for match in _BY_LINE.finditer(padded):
            index += padded.count("\n", counted_to, match.start())
            counted_to = match.start()
            found.append(index)
        assert found == expected, text


def test_whitespace_folding_is_the_regex_one():
    for text in _random_texts(2000, seed=11):
        assert " ".join(text.split()) == _WS.sub(" ", text).strip()
        invisible = text.translate(dict.fromkeys(map(ord, "\u00ad\u200b\u200c\u200d\u2060\ufeff")))
        assert norm_space(text) == _WS.sub(" ", invisible).strip()


def test_one_element_class_and_forms_keep_their_text():
    tree = parse_html(b"<html><body><form><label>Name <input name=q></label><select><option>A</select>"
                      b"<p class='lead' hidden>Hidden</p><p>Visible text here</p></form></body></html>")
    assert tree is not None
    assert all(type(el) is HtmlElement for el in tree.iter())
    seg = segment(tree)
    texts = [b.text for b in seg.blocks]
    assert "Visible text here" in texts and "Name" in texts
    assert any(b.text == "Hidden" and b.flags & F_HIDDEN for b in seg.blocks)
    assert not any(b.text == "Visible text here" and b.flags & F_HIDDEN for b in seg.blocks)
