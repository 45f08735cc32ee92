"""Words that are no names on their own: common words by their case in web text, months, weekdays.

``data/common_words.tsv`` (built by ``ops/train/build_entity_common_words.py`` from the gold
bodies of the WCXB and ScrapingHub development pages, never from the evaluation set) gives, per
word, the share of its occurrences inside sentences written in lowercase.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from workers.stages.entities import rules

__all__ = ["CALENDAR_WORDS", "common_word_share", "is_common_word"]

_DATA = Path(__file__).resolve().parent / "data" / "common_words.tsv"
CALENDAR_WORDS = frozenset(
    "january february march april may june july august september october november december jan feb mar apr "
    "jun jul aug sep sept oct nov dec monday tuesday wednesday thursday friday saturday sunday".split()
)


@lru_cache(maxsize=1)
def _shares() -> dict[str, float]:
    out: dict[str, float] = {}
    for line in _DATA.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            word, share, _ = line.split("\t")
            out[word] = float(share)
    return out


def common_word_share(word: str) -> float:
    """Share of lowercase occurrences of ``word`` inside sentences (0 when unknown)."""
    return _shares().get(word.lower(), 0.0)


def is_common_word(key: str) -> bool:
    """A one-word key that is a month, a weekday or a common word (``rules.RULES.common_word_share``)."""
    if " " in key:
        return False
    return key in CALENDAR_WORDS or common_word_share(key) >= rules.RULES.common_word_share
