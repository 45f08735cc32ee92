"""Results tables and standings: the names in score lines are teams (or countries, or players).

Sports pages list results as lines of names and scores ("Harlequins 75 Gloucester 19",
"Stoke 4 3 1 0 7 4 10", "Somerset 83 and 174 (P. Simmons 4-38), Leicestershire 296."). The model
misses most of these names or calls a club a person or a place. In a body with at least
``RULES.min_score_lines`` score lines, each name right before a score is a team (ORG), a country's
national side (GPE), or a player when it has a person's shape (an initial, a first name).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from workers.stages.entities import rules

__all__ = ["ScoreLine", "TableName", "score_lines", "table_names"]

#: Share of a line's words that are numbers for it to be a table row (prose has far fewer).
MIN_SCORE_SHARE = 0.25
_SCORE = re.compile(r"^\(?\d+(?:[-/.:]\d+)*[*]?[,.;)]?$|^\.\d+$")
_NAME_TOKEN = re.compile(r"^[A-Z][\w'’.&\-]*$")
_CONNECTORS = {"of", "de", "la", "del", "du", "van", "von", "der", "and", "&"}
_TOKEN = re.compile(r"\S+")

#: ``(start, end, label)`` of one name in a score line.
TableName = tuple[int, int, str]


def _score_pairs(line: str, offset: int) -> tuple[list[tuple[int, int]], bool]:
    """Names directly followed by a score, outside brackets; and whether the line is a standings row."""
    toks = [(m.group(), offset + m.start(), offset + m.end()) for m in _TOKEN.finditer(line)]
    pairs: list[tuple[int, int]] = []
    run: list[tuple[str, int, int]] = []
    depth = 0
    for word, s, e in toks:
        opens, closes = word.count("("), word.count(")")
        if _SCORE.match(word):
            if run and depth == 0 and opens == 0:
                while run and run[-1][0].lower() in _CONNECTORS:
                    run.pop()
                if run:
                    pairs.append((run[0][1], run[-1][2]))
            run = []
        elif _NAME_TOKEN.match(word.lstrip("(")) and not word.endswith((":", ",", ";", ")")):
            if depth == 0 and opens == 0:
                run.append((word, s, e))
            else:
                run = []
        elif word.lower() in _CONNECTORS and run:
            run.append((word, s, e))
        else:
            run = []
        depth = max(0, depth + opens - closes)
    n_scores = sum(1 for t in toks if _SCORE.match(t[0]))
    if n_scores < MIN_SCORE_SHARE * len(toks):
        return [], False  # a sentence with a few numbers, not a table row
    standings = bool(pairs) and toks[0][1] == pairs[0][0] and sum(1 for t in toks if _SCORE.match(t[0])) >= 2 and all(
        _SCORE.match(t[0]) or t[0] in "-–" for t in toks if t[1] >= pairs[0][1]
    )
    return pairs, standings


#: ``(line start, line end, names before scores)`` of one score line.
ScoreLine = tuple[int, int, list[tuple[int, int]]]


def score_lines(text: str, body_start: int) -> list[ScoreLine]:
    """Lines of the body with two names before scores, or a standings row (a name and numbers)."""
    out: list[ScoreLine] = []
    pos = body_start
    for line in text[body_start:].split("\n"):
        if any(c.isdigit() for c in line):
            pairs, standings = _score_pairs(line, pos)
            if len(pairs) >= 2 or standings:
                out.append((pos, pos + len(line), pairs))
        pos += len(line) + 1
    return out


def table_names(text: str, lines: list[ScoreLine], label_of: Callable[[str], str]) -> list[TableName]:
    """Names before scores in ``lines`` (when there are enough of them), labelled by ``label_of``."""
    if len(lines) < rules.RULES.min_score_lines:
        return []
    return [(s, e, label_of(text[s:e])) for _, _, pairs in lines for s, e in pairs]
