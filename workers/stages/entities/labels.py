"""Label evidence beyond the model's guess: place data, person shapes, results tables.

A mention votes for a label; the cluster's label is the vote (``merge``). The model's label is
the default vote; it is replaced when the name itself says more: a country is a place whatever
the model says, "P. Simmons" or "Scott Draper" has a person's shape, a name before a score in a
results table is a team.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from workers.stages.entities.aliases import ACRONYMS as _KNOWN_ACRONYMS
from workers.stages.entities.names import merge_key
from workers.stages.entities.places import COUNTRY_KINDS, lookup

__all__ = ["country_vote", "first_names", "person_shaped", "table_label"]

_DATA = Path(__file__).resolve().parent / "data"
#: "P. Simmons", "T.O'Gorman", "A.de Silva", "J.J. Kenny": initials then a surname.
_INITIALS = re.compile(r"^(?:[A-Z]\.\s?){1,3}(?:[a-z]{1,3}\s?)?[A-Z][\w'’\-]+$")
#: Words that make a name an organization, never a person ("Scott Paper", "Morgan Stanley Group").
ORG_WORDS = frozenset(
    "bank group corp corporation inc co company ltd plc holdings industries international airlines airways "
    "university college school institute council party ministry department agency association federation "
    "union club united city town county fc sc ac team league news post times journal press herald daily "
    "tribune radio television tv fund foundation trust authority police army navy church committee "
    "commission court exchange board service services systems technologies energy oil gas motors capital "
    "securities partners investments insurance hospital centre center museum festival society brothers "
    "rovers rangers wanderers athletic athletico albion hotspur county stadium airport station".split()
)


@lru_cache(maxsize=1)
def first_names() -> frozenset[str]:
    """Lowercase first names (US Census 1990 via the ``names`` package; data/first_names.txt)."""
    text = (_DATA / "first_names.txt").read_text(encoding="utf-8")
    return frozenset(line for line in text.splitlines() if line and not line.startswith("#"))


def person_shaped(name: str) -> bool:
    """Initials and a surname, or a known first name then one to two capitalized words."""
    if _INITIALS.match(name):
        # "U.S. Treasury", "U.N. Security": the initials name a country or a known body
        letters = "".join(c for c in name.split()[0] if c.isalpha()) if " " in name else ""
        return not (len(letters) >= 2 and (letters in _KNOWN_ACRONYMS or country_vote(letters.lower())))
    toks = name.split()
    if not 2 <= len(toks) <= 3 or not all(t[:1].isupper() for t in toks):
        return False
    if any(t.lower().strip(".") in ORG_WORDS for t in toks) or lookup(merge_key(name)) is not None:
        return False
    first = toks[0].lower()
    return first in first_names() and not country_vote(first)


def country_vote(key: str, model_label: str | None = None) -> str | None:
    """GPE when the key names a country, a former country or a UK nation; a PERSON the model
    found keeps its label when the name is also a first name ("Jordan", "Chad")."""
    place = lookup(key)
    if place is None or place.kind not in COUNTRY_KINDS:
        return None
    if model_label == "PERSON" and key in first_names():
        return None
    return "GPE"


def table_label(name: str) -> str:
    """Label of a name before a score: a country's side, a player, else a team."""
    key = merge_key(name)
    if country_vote(key):
        return "GPE"
    if person_shaped(name):
        return "PERSON"
    return "ORG"
