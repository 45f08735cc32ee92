"""Alias data: canonical names and their other spellings, looked up on the merge key."""

from __future__ import annotations

from workers.stages.entities.names import LEADING_THE, is_acronym, merge_key

# --------------------------------------------------------------------------------------------
# Alias table: canonical name -> (label, aliases). Aliases are matched on the normalized key;
# acronyms (all capitals, at most 5 letters) only match a surface written in capitals, so "us"
# or "Who" never become the United States or the World Health Organization.
# "America" is handled apart (only when the document names no other America).
# --------------------------------------------------------------------------------------------
ALIAS_TABLE: dict[str, tuple[str, tuple[str, ...]]] = {
    "United States": (
        "GPE",
        ("US", "U.S.", "U.S", "USA", "U.S.A.", "United States of America", "the States"),
    ),
    "United Kingdom": (
        "GPE",
        ("UK", "U.K.", "Britain", "Great Britain",
         "United Kingdom of Great Britain and Northern Ireland"),
    ),
    "United Nations": ("ORG", ("UN", "U.N.")),
    "European Union": ("ORG", ("EU", "E.U.")),
    "United Arab Emirates": ("GPE", ("UAE", "U.A.E.")),
    "Soviet Union": ("GPE", ("USSR", "U.S.S.R.")),
    "NATO": ("ORG", ("Nato", "N.A.T.O.", "North Atlantic Treaty Organization")),
    "North Korea": ("GPE", ("DPRK", "Democratic People's Republic of Korea")),
    "South Korea": ("GPE", ("Republic of Korea", "ROK")),
    "China": ("GPE", ("People's Republic of China", "PRC")),
    "Russia": ("GPE", ("Russian Federation",)),
    "FBI": ("ORG", ("Federal Bureau of Investigation", "F.B.I.")),
    "CIA": ("ORG", ("Central Intelligence Agency", "C.I.A.")),
    "NASA": ("ORG", ("National Aeronautics and Space Administration",)),
    "World Health Organization": ("ORG", ("WHO",)),
    "International Monetary Fund": ("ORG", ("IMF",)),
    "European Central Bank": ("ORG", ("ECB",)),
    "Federal Reserve": ("ORG", ("Fed", "U.S. Federal Reserve", "Federal Reserve Board", "Federal Reserve System")),
    "Washington, D.C.": ("GPE", ("Washington DC", "Washington D.C.", "D.C.")),
}
AMERICA_CANONICAL = "United States"
OTHER_AMERICAS = {"north america", "south america", "latin america", "central america", "americas"}



def build_alias_index() -> dict[str, tuple[str, str, bool]]:
    index: dict[str, tuple[str, str, bool]] = {}
    for canonical, (label, aliases) in ALIAS_TABLE.items():
        index[merge_key(canonical)] = (canonical, label, False)
        for alias in aliases:
            index.setdefault(merge_key(alias), (canonical, label, is_acronym(alias)))
    return index


ALIAS_INDEX = build_alias_index()


def table_lookup(surface: str, key: str) -> tuple[str, str] | None:
    hit = ALIAS_INDEX.get(key)
    if hit is None:
        return None
    canonical, label, acronym = hit
    if acronym and any(c.islower() for c in LEADING_THE.sub("", surface)):
        return None
    return canonical, label




#: Acronyms of the alias data, kept in capitals when a line in capitals is recased for the model.
ACRONYMS: frozenset[str] = frozenset(
    a for label_aliases in ALIAS_TABLE.values() for a in label_aliases[1] if is_acronym(a) and a.isalpha()
) | frozenset(c for c in ALIAS_TABLE if is_acronym(c) and c.isalpha())
