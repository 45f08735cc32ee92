"""Span repair: a model span cut into the name(s) it holds.

The small model glues neighbours to names: scores and dates ("Durham 114", "MONTE CARLO
1996-08-30", "Gordon Durie 75th"), two names of a results line ("Pohang 3 Ulsan 2", "Birmingham v
Barnsley", "Sri Lanka - Arjuna Ranatunga", "J. Gillespie st Kaluwitharana"), an acronym in brackets
("National League for Democracy (NLD"), month words and owners in front ("August National
Association ...", "Farrakhan's Nation of Islam"), role words in front ("Defender Hassan Abbas") and
common nouns behind ("Interfax news agency"). ``repair_span`` returns each name it holds as a
``Piece``: the name's extent, and the surface extent kept as an alias (with the role word or the
common noun: "Interfax news agency" is a way to write Interfax; a score or a month is not).
"""

from __future__ import annotations

import re
from typing import NamedTuple

from workers.stages.entities.labels import person_shaped
from workers.stages.entities.names import HONORIFICS, ROLE_WORDS

__all__ = ["Piece", "repair_span"]

_TOKEN = re.compile(r"\S+")
#: Scores, dates, ordinals, phone numbers: a token that is no part of a name.
_NUMERIC = re.compile(r"^[(\[]?[+\-]?\d[\d\-/.,:]*(?:st|nd|rd|th|s)?[)\].,;:]*-?$|^[-–]\d")
#: A number that still is part of a name outside a results line ("Destiny 2", "Note 10 Plus").
_NAME_NUMBER = re.compile(r"^\d{1,3}[),.;:]?$")
#: Words between two names of one span ("Birmingham v Barnsley", "Yorkshire at Headingley").
_JOINERS = {"v", "v.", "vs", "vs.", "versus", "at", "-", "–", "—", "|", "/"}
_MONTHS = {
    "january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
    "november", "december", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov",
    "dec",
}
_POSSESSOR = re.compile(r"^[A-Z][\w.\-]*['’]s$")
_PARTICLES = frozenset({"de", "da", "di", "do", "du", "dos", "das", "van", "von", "der", "den", "del", "la", "le",
                        "bin", "ibn", "al", "el", "ben", "y", "e", "of", "and", "the", "for", "on", "in", "&"})

Token = tuple[str, int, int]


class Piece(NamedTuple):
    start: int  # the name
    end: int
    surface_start: int  # the name with the role word / common noun around it
    surface_end: int


def _is_short_lowercase_joiner(word: str) -> bool:
    """"J. Gillespie st Kaluwitharana", "Croft c Healy": a short lowercase word that joins no name."""
    return word.isalpha() and word.islower() and len(word) <= 3 and word not in _PARTICLES


def _is_separator(word: str, score_line: bool) -> bool:
    if _NUMERIC.match(word):
        return score_line or not _NAME_NUMBER.match(word)
    return word.lower() in _JOINERS or _is_short_lowercase_joiner(word)


def _pieces(toks: list[Token], score_line: bool) -> list[list[Token]]:
    """Cut at scores/dates, joiners, brackets and semicolons; "and" between two person names."""
    out: list[list[Token]] = [[]]
    for tok in toks:
        word = tok[0]
        if _is_separator(word, score_line):
            out.append([])
            continue
        if re.search(r"[()\[\];]", word):
            before, _, after = re.split(r"([()\[\];])", word, maxsplit=1)
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
    split: list[list[Token]] = []
    for p in pieces:  # "Laurent Cabannes and Laurent Benezech": two people
        words = [t[0] for t in p]
        if "and" in words:
            i = words.index("and")
            left, right = p[:i], p[i + 1:]
            if all(person_shaped(" ".join(t[0] for t in side)) for side in (left, right)):
                split.extend([left, right])
                continue
        split.append(p)
    return split


def _owner_split(piece: list[Token]) -> list[tuple[list[Token], list[Token]]]:
    """"NASA's Office of the Inspector General": the owner and the thing owned, each a name;
    ``(name tokens, surface tokens)`` (the thing owned keeps its owner in its surface)."""
    for i, tok in enumerate(piece[:-1]):
        if _POSSESSOR.match(tok[0]) and piece[i + 1][0][:1].isupper():
            owner = [(tok[0][:-2], tok[1], tok[2] - 2)] if i == 0 else piece[:i] + [(tok[0][:-2], tok[1], tok[2] - 2)]
            return [(owner, owner), (piece[i + 1:], piece)]
    return [(piece, piece)]


def _trim(piece: list[Token], label: str, surface: list[Token] | None = None) -> tuple[list[Token], list[Token]]:
    """``(name, surface)``: months in front go from both; role words and other lowercase words in
    front and lowercase words behind only from the name."""
    while len(piece) > 1 and piece[0][0].lower().rstrip(".,") in _MONTHS:
        piece = piece[1:]
    if surface is None or len(surface) <= len(piece):
        surface = piece
    while len(surface) > len(piece) and surface[0][0].lower().rstrip(".,") in _MONTHS:
        surface = surface[1:]
    while len(piece) > 1:
        w = piece[0][0].lower().rstrip(".,")
        if w in HONORIFICS or (label == "PERSON" and w in ROLE_WORDS):
            piece = piece[1:]
        elif (piece[0][0][:1].islower() and w not in _PARTICLES
              and any(t[0][:1].isupper() for t in piece[1:])):
            piece = piece[1:]  # "pro-Socialist CFDT union", "rang Taylor"
        else:
            break
    while len(piece) > 1 and piece[-1][0].isalpha() and piece[-1][0].islower() and piece[-1][0] not in _PARTICLES:
        piece = piece[:-1]  # "Interfax news agency", "Jiangsu province"
    return piece, surface


def repair_span(text: str, label: str, start: int, score_line: bool = False) -> list[Piece]:
    """The names in the span ``text`` that starts at ``start``; ``score_line``: the span sits on a
    line of names and scores, where every number separates two names."""
    toks = [(m.group(), start + m.start(), start + m.end()) for m in _TOKEN.finditer(text)]
    if len(toks) <= 1 and not any(c.isdigit() or c in "()[];" for c in text):
        return [Piece(start, start + len(text), start, start + len(text))]
    out: list[Piece] = []
    for whole in _pieces(toks, score_line):
        for part, part_surface in _owner_split(whole):
            name, surface = _trim(part, label, part_surface)
            if not name or not any(c.isupper() or c.isdigit() for t in name for c in t[0]):
                continue
            out.append(Piece(name[0][1], name[-1][2], surface[0][1], surface[-1][2]))
    return out
