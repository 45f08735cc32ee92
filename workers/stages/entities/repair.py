"""Span repair: a model span cut into the name(s) it holds.

The small model glues neighbours to names: scores and dates ("Durham 114", "MONTE CARLO
1996-08-30", "Gordon Durie 75th"), two names of a results line ("Pohang 3 Ulsan 2", "Birmingham v
Barnsley", "Sri Lanka - Arjuna Ranatunga"), an acronym in brackets ("National League for
Democracy (NLD"), role and month words in front ("Defender Hassan Abbas", "August National
Association ..."), an owner ("Farrakhan's Nation of Islam") and common nouns behind ("Interfax
news agency", "Jiangsu province"). ``repair_span`` returns the pieces that are names, each with
its own offsets; the caller still cleans each piece (possessive, edge punctuation).
"""

from __future__ import annotations

import re

from workers.stages.entities.names import HONORIFICS, NAME_PARTICLES, ROLE_WORDS

__all__ = ["repair_span"]

_TOKEN = re.compile(r"\S+")
#: Scores, dates, ordinals, phone numbers: a token that is no part of a name.
_NUMERIC = re.compile(r"^[(\[]?[+\-]?\d[\d\-/.,:]*(?:st|nd|rd|th|s)?[)\].,;:]*-?$|^[-–]\d")
#: Words between two names of one span ("Birmingham v Barnsley", "Yorkshire at Headingley").
_JOINERS = {"v", "v.", "vs", "vs.", "versus", "at", "-", "–", "—", "|", "/"}
_MONTHS = {
    "january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
    "november", "december", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov",
    "dec",
}
_POSSESSOR = re.compile(r"^[A-Z][\w.\-]*['’]s$")


def _tokens(text: str, start: int) -> list[tuple[str, int, int]]:
    return [(m.group(), start + m.start(), start + m.end()) for m in _TOKEN.finditer(text)]


_PARTICLES = frozenset({"de", "da", "di", "do", "du", "dos", "das", "van", "von", "der", "den", "del", "la", "le",
                        "bin", "ibn", "al", "el", "ben", "y", "e", "of", "and", "the", "for", "on", "in", "&"})


def _is_short_lowercase_joiner(word: str) -> bool:
    """"J. Gillespie st Kaluwitharana", "Croft c Healy": a short lowercase word that joins no name."""
    return word.isalpha() and word.islower() and len(word) <= 3 and word not in _PARTICLES


def _pieces(toks: list[tuple[str, int, int]], label: str) -> list[list[tuple[str, int, int]]]:
    """Cut at scores/dates, joiners, brackets and semicolons; "and" between two full person names."""
    out: list[list[tuple[str, int, int]]] = [[]]
    for tok in toks:
        word = tok[0]
        if _NUMERIC.match(word) or word.lower() in _JOINERS or _is_short_lowercase_joiner(word):
            out.append([])
            continue
        if "(" in word or ")" in word or word.endswith(";"):
            before, sep, after = re.split(r"([()\];])", word, maxsplit=1) if re.search(r"[()\];]", word) else (word, "", "")
            if before:
                out[-1].append((before, tok[1], tok[1] + len(before)))
            out.append([])
            rest = after.strip("()[];")
            if rest:
                off = tok[1] + word.index(rest, len(before))
                out[-1].append((rest, off, off + len(rest)))
            continue
        out[-1].append(tok)
    pieces = [p for p in out if p]
    split: list[list[tuple[str, int, int]]] = []
    for p in pieces:  # "Laurent Cabannes and Laurent Benezech": two full names
        words = [t[0] for t in p]
        if "and" in words:
            i = words.index("and")
            left, right = p[:i], p[i + 1:]
            if all(2 <= len(side) <= 3 and all(t[0][:1].isupper() for t in side) for side in (left, right)):
                split.extend([left, right])
                continue
        split.append(p)
    return split


def _trim(piece: list[tuple[str, int, int]], label: str) -> list[tuple[str, int, int]]:
    """Leading month, role and lowercase words; an owner ("X's Y" -> Y); trailing lowercase words."""
    while len(piece) > 1:
        w = piece[0][0].lower().rstrip(".,")
        if w in _MONTHS or w in HONORIFICS or (label == "PERSON" and w in ROLE_WORDS):
            piece = piece[1:]
        elif (piece[0][0][:1].islower() and w not in NAME_PARTICLES and w != "the"
              and any(t[0][:1].isupper() for t in piece[1:])):
            piece = piece[1:]  # "pro-Socialist CFDT union", "rang Taylor"
        elif _POSSESSOR.match(piece[0][0]) and len(piece) >= 2 and piece[1][0][:1].isupper():
            piece = piece[1:]  # "Farrakhan's Nation of Islam" -> "Nation of Islam"
        else:
            break
    while len(piece) > 1 and piece[-1][0].isalpha() and piece[-1][0].islower() and piece[-1][0] not in NAME_PARTICLES:
        piece = piece[:-1]  # "Interfax news agency", "Jiangsu province"
    return piece


def repair_span(text: str, label: str, start: int) -> list[tuple[str, int, int]]:
    """``(text, start, end)`` of the names in the span ``text`` starting at ``start``."""
    toks = _tokens(text, start)
    if len(toks) <= 1 and not any(c.isdigit() or c in "()" for c in text):
        return [(text, start, start + len(text))]
    out: list[tuple[str, int, int]] = []
    for piece in _pieces(toks, label):
        piece = _trim(piece, label)
        if not piece or not any(c.isupper() or c.isdigit() for t in piece for c in t[0]):
            continue
        s, e = piece[0][1], piece[-1][2]
        out.append((text[s - start:e - start], s, e))
    return out
