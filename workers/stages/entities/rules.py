"""The stage's tunable settings in one place (chosen on the CoNLL dev split under cross-validation
grouped by story: ops/bench/entities_gold.py ``--cv``)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["RULES", "Rules"]


@dataclass(frozen=True)
class Rules:
    #: A one-word entity whose word is written in lowercase at least this share of the time inside
    #: sentences of web text is a common word, not a name ("Attendance", "Schedule").
    common_word_share: float = 0.75
    #: Score lines a body needs before names before scores are read as teams.
    min_score_lines: int = 3
    #: Weight of a results-table vote against a vote of the model.
    table_vote_weight: int = 2
    #: A one-word PERSON that is a city of at least this population is the city ("Beograd").
    person_city_population: int = 100_000


RULES = Rules()
