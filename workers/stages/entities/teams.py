"""Teams named by their home place: in a sports report, "Boston" alone is often the Boston Red Sox.

Sports reports name a team by its full name once ("the Boston Red Sox") and then by its place
("Boston's seventh loss", "St Louis defeated Colorado"), which the model tags as the place. In a
body that reads as a results report (scores such as "5-2"), a mention of a place is the team of
that place when the page names exactly one team starting with it ("Boston" + "Red Sox") and the
mention does not stand where places stand: after "in", "at" (``Mention.place_context``), in the
dateline, or as the region after a city ("ARLINGTON, Texas"). Those stay the place.
"""

from __future__ import annotations

import re

from workers.stages.entities.datelines import dateline_mentions
from workers.stages.entities.labels import ORG_WORDS
from workers.stages.entities.mentions import Mention
from workers.stages.entities.names import merge_key
from workers.stages.entities.places import lookup
from workers.stages.entities.text import Prepared

__all__ = ["team_mentions"]

#: A result or a win-loss record in running text: "5-2", "(7-5)"; not a date, a price, a fraction
#: or a range of amounts ("$25-45", "10-20 percent").
_RESULT = re.compile(r"(?<![\w\-/.,$€£])\d{1,3}-\d{1,3}(?![\w\-/%]|[.,]\d|\s*(?:percent|per\b|cents?\b|dollars?\b))")
#: Results a body needs to read as a sports report.
MIN_RESULTS = 3
#: Words that make "<place> <word>" an institution of the place, not its team.
_SPORTS_ORG_WORDS = frozenset(
    "club united city town county fc sc ac team rovers rangers wanderers athletic athletico albion hotspur".split())
_INSTITUTION_WORDS = ORG_WORDS - _SPORTS_ORG_WORDS
#: A city before the mention ("ARLINGTON, Texas"): the mention is the city's region.
_CITY_BEFORE = re.compile(r"[A-Z][\w.'’\-]*,\s*$")


def _teams(mentions: list[Mention]) -> dict[str, Mention]:
    """Team name mentions by their merge key: an ORG "<known place> <one or two words>"."""
    out: dict[str, Mention] = {}
    for m in mentions:
        if m.vote != "ORG" or m.label != "ORG":
            continue
        toks = m.key.split()
        for n in range(1, len(toks)):
            rest = toks[n:]
            if len(rest) > 2 or any(t in _INSTITUTION_WORDS for t in rest):
                continue
            if lookup(" ".join(toks[:n])) is not None and all(w[:1].isupper() for w in m.name.split()[n:]):
                out.setdefault(m.key, m)
                break
    return out


def _joined(mentions: list[Mention], text: str) -> list[Mention]:
    """A place the model cut from the team word right after it ("the Florida Marlins" read as
    "Florida" + "Marlins") is one team mention again."""
    out: list[Mention] = []
    for m in mentions:
        prev = out[-1] if out else None
        if (prev is not None and text[prev.end:m.start] == " " and prev.key == merge_key(prev.name)
                and lookup(prev.key) is not None and lookup(m.key) is None and " " not in m.key
                and m.name[:1].isupper() and not m.name.isupper() and m.key not in _INSTITUTION_WORDS
                and not prev.place_context):
            name = prev.name + " " + m.name
            out[-1] = Mention(prev.surface + " " + m.surface, name, merge_key(name), "ORG", "ORG",
                              prev.start, m.end)
            continue
        out.append(m)
    return out


def team_mentions(mentions: list[Mention], prep: Prepared) -> list[Mention]:
    """``mentions`` with place mentions that stand for a team of the page moved to that team."""
    body = prep.text[prep.body_start:]
    if len(_RESULT.findall(body)) < MIN_RESULTS:
        return mentions
    mentions = _joined(mentions, prep.text)
    teams = _teams(mentions)
    if not teams:
        return mentions
    dateline = {(s, e) for _, _, s, e in dateline_mentions(prep.text, prep.body_start)}
    for m in mentions:
        if m.vote not in ("GPE", "LOC", "ORG") or m.key in teams or m.place_context or m.table:
            continue
        if (m.start, m.end) in dateline or _CITY_BEFORE.search(prep.text[max(0, m.start - 40):m.start]):
            continue
        targets = {k for k in teams if k.startswith(m.key + " ")}
        if len(targets) != 1:
            continue
        team = teams[next(iter(targets))]
        m.name, m.key, m.vote = team.name, team.key, "ORG"
    by_nickname: dict[str, set[str]] = {}
    for k in teams:
        for n in range(1, len(k.split())):
            by_nickname.setdefault(" ".join(k.split()[n:]), set()).add(k)
    for m in mentions:  # "the Marlins" (the model's PERSON) of the Florida Marlins
        targets = by_nickname.get(m.key, set())
        if len(targets) == 1 and not m.table and lookup(m.key) is None:
            team = teams[next(iter(targets))]
            m.name, m.key, m.vote = team.name, team.key, "ORG"
    return mentions
