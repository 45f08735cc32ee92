"""The language stage gives py3langid's own answers, with its byte walk done by numpy."""

from collections import Counter
from pathlib import Path

import numpy as np
import py3langid
import pytest
from py3langid import langid as _langid

from workers.stages import language
from workers.stages.language import STATE_WINDOW, automaton_states, classify, detect_language

pytestmark = pytest.mark.unit

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"

TEXTS = [
    "The quick brown fox jumps over the lazy dog, and then the dog sleeps in the sun all afternoon.",
    "Le gouvernement a annoncé mardi une série de mesures pour soutenir les entreprises touchées par la crise.",
    "Die Bundesregierung hat am Dienstag neue Maßnahmen zur Unterstützung der Wirtschaft beschlossen.",
    "El presidente anunció este martes un paquete de medidas económicas para las pequeñas empresas.",
    "Правительство во вторник объявило о новых мерах поддержки малого и среднего бизнеса в регионах.",
    "東京都は火曜日、新型ウイルスの感染者が新たに確認されたと発表しました。専門家は注意を呼びかけています。",
    "北京时间周二，国家统计局公布了最新的经济数据，显示制造业继续保持增长势头。",
    "ΣΗΜΕΡΑ Η ΚΥΒΕΡΝΗΣΗ ΑΝΑΚΟΙΝΩΣΕ ΝΕΑ ΜΕΤΡΑ ΣΤΗΡΙΞΗΣ ΓΙΑ ΤΙΣ ΜΙΚΡΕΣ ΕΠΙΧΕΙΡΗΣΕΙΣ ΣΤΗΝ ΧΩΡΑ",
    "12 34 56 78 90 -- ++ ** ## 12:30 2024-05-06 $ 99.99 € 12,50",
    "a b",
    "Mixed text: Berlin ist schön, but London is rainy; Paris est magnifique en été. " * 30,
]


def _walk_counts(data: bytes) -> Counter | None:
    ident = _langid._get_identifier()
    return _langid.visit_counts(ident.tk_nextmove, ident._rowbase, ident.tk_output, data)


@pytest.mark.parametrize("text", TEXTS)
def test_same_answer_as_py3langid(text):
    assert classify(text) == py3langid.classify(text)[0]


def test_same_answer_on_a_real_page_body():
    body = (FIXTURES / "jpost-gantz-2020-09-23.txt").read_text(encoding="utf-8")
    for start in range(0, min(len(body), 20_000), 2_500):
        sample = body[start:start + 5_000]
        assert classify(sample) == py3langid.classify(sample)[0]
    assert detect_language(body) == "en"


@pytest.mark.parametrize("text", TEXTS)
def test_same_features_as_the_byte_walk(text):
    tables = language._load()
    assert tables is not None, "py3langid's internals changed: the stage falls back to py3langid.classify"
    data = tables.identifier._encode(text)
    features = tables.output[automaton_states(tables, data)]
    assert Counter(features[features >= 0].tolist()) == (_walk_counts(data) or Counter())


def test_window_covers_the_deepest_state():
    """Every state of the automaton is at most STATE_WINDOW bytes from the start state (breadth-first)."""
    tables = language._load()
    assert tables is not None
    depth = np.full(len(tables.output), -1, dtype=np.int64)
    depth[0] = 0
    frontier, level = np.array([0]), 0
    while len(frontier):
        reached = np.unique(tables.nextmove[(tables.rowbase[frontier][:, None] + np.arange(256)[None, :]).ravel()])
        frontier = reached[depth[reached] < 0]
        level += 1
        depth[frontier] = level
    assert depth.min() >= 0 and depth.max() <= STATE_WINDOW


def test_short_text_has_no_language():
    assert detect_language("Home | News") is None
    assert detect_language("") is None
