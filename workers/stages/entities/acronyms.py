"""Acronyms: "NFL" is the National Football League of the same page; "(QME)" after "qualitative
military edge" abbreviates a common noun, not a name."""

from __future__ import annotations

import re

__all__ = ["acronym_letters", "initials", "is_common_noun_abbreviation"]

_MINOR = frozenset({"of", "and", "the", "for", "de", "des", "du", "la", "le", "del", "di", "in", "on", "at",
                    "to", "&", "und", "y", "et"})
_ACRONYM = re.compile(r"^(?:[A-Z]\.?){2,6}$")


def acronym_letters(surface: str) -> str | None:
    """"NFL" / "U.N." -> "NFL" / "UN"; None when the surface is no acronym."""
    s = surface.strip()
    return re.sub(r"[^A-Z]", "", s) if _ACRONYM.match(s) else None


def initials(name: str) -> set[str]:
    """Initials of a multi-word name, without and with its minor words ("Organisation of Islamic
    Conference" -> {"OIC", "OOIC"}); hyphenated words count each part."""
    words = [w for w in re.split(r"[\s\-/]+", name) if w and w[0].isalpha()]
    if len(words) < 2:
        return set()
    major = [w for w in words if w.lower() not in _MINOR]
    out = {"".join(w[0] for w in words).upper()}
    if len(major) >= 2:
        out.add("".join(w[0] for w in major).upper())
    return out


def is_common_noun_abbreviation(acronym: str, text: str) -> bool:
    """True when the page defines ``acronym`` in brackets right after lowercase words that spell
    it: "qualitative military edge (QME)"."""
    for m in re.finditer(r"\(\s*" + re.escape(acronym) + r"\s*\)", text):
        words = re.findall(r"[\w'’\-]+", text[max(0, m.start() - 120):m.start()])
        n = len(acronym)
        for k in (n, n + 1):  # "... of ..." may sit inside
            tail = words[-k:]
            if len(tail) == k and all(w[:1].islower() for w in tail) and acronym in initials(" ".join(tail)):
                return True
    return False
