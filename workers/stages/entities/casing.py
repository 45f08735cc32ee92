"""Lines written in capitals, recased for the model ("BELGRADE 1996-08-30" -> "Belgrade 1996-08-30").

The small spaCy model reads text in capitals badly (datelines, headlines, sports tables): it misses
most names there or tags whole lines. A line with no lowercase letter is handed to the model with
each word capitalized, function words in lowercase and acronyms kept; the recased text has the
same length, so the model's offsets point into the original text and mentions keep their surface.
"""

from __future__ import annotations

import re

__all__ = ["recase_capitals"]

_WORD = re.compile(r"[^\W\d_][^\W_]*(?:['’][^\W\d_]+)?")
#: Words kept in lowercase inside a recased line (not at its start).
_FUNCTION_WORDS = frozenset(
    "a an and as at by for from in into of on or the to v vs with after before over under against "
    "per via".split()
)
_VOWELS = frozenset("AEIOUY")


def _recase_word(word: str, first: bool, acronyms: frozenset[str]) -> str:
    if word in acronyms or len(word) == 1 or not (_VOWELS & set(word)):
        return word  # "NATO", "U" of "U.S.", "NFL": acronyms stay in capitals
    lower = word.lower()
    if not first and lower in _FUNCTION_WORDS:
        return lower
    return word[0] + lower[1:]


def _recase_line(line: str, acronyms: frozenset[str]) -> str:
    out: list[str] = []
    pos = 0
    for i, m in enumerate(_WORD.finditer(line)):
        out.append(line[pos:m.start()])
        new = _recase_word(m.group(), i == 0, acronyms)
        out.append(new if len(new) == len(m.group()) else m.group())
        pos = m.end()
    out.append(line[pos:])
    return "".join(out)


def recase_capitals(text: str, acronyms: frozenset[str] = frozenset()) -> str:
    """``text`` with every line that has no lowercase letter (and 4+ letters) recased; same length."""
    if not any(c.isupper() for c in text):
        return text
    lines = text.split("\n")
    changed = False
    for i, line in enumerate(lines):
        if any(c.islower() for c in line) or sum(c.isalpha() for c in line) < 4:
            continue
        new = _recase_line(line, acronyms)
        if len(new) == len(line) and new != line:
            lines[i] = new
            changed = True
    return "\n".join(lines) if changed else text
