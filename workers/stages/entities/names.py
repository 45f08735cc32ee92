"""Name forms of a mention: surface clean-up, display form, merge key, name shapes."""

from __future__ import annotations

import re
import unicodedata

HONORIFICS = {"mr", "mrs", "ms", "miss", "mx", "dr", "prof", "sir", "dame", "madam", "rev"}
TITLES = {"president", "senator", "sen", "governor", "gov", "rep", "representative", "congressman",
           "congresswoman", "judge", "justice", "minister", "secretary", "superintendent",
           "chancellor", "mayor", "gen", "general", "col", "colonel", "capt", "captain", "lt",
           "sgt", "sergeant", "officer", "detective", "det", "coach", "commissioner", "ambassador",
           "professor", "attorney", "spokesman", "spokeswoman", "chairman", "chairwoman", "ceo"}
COMPANY_SUFFIXES = {"inc", "incorporated", "corp", "corporation", "co", "ltd", "limited", "llc", "plc",
                     "gmbh", "ag", "nv", "bv", "sa", "spa", "lp", "llp"}
#: Role words in front of a person's name: "Defender Hassan Abbas" is Hassan Abbas.
ROLE_WORDS = TITLES | {
    "cardinal", "archbishop", "bishop", "premier", "prime", "vice", "deputy", "foreign", "defence", "defense", "finance",
    "interior", "economy", "trade", "justice", "minister", "ministers", "leader", "chief", "head", "director",
    "manager", "broker", "analyst", "economist", "dealer", "trader", "striker", "defender", "midfielder",
    "goalkeeper", "keeper", "forward", "winger", "skipper", "batsman", "bowler", "pitcher", "catcher",
    "outfielder", "shortstop", "rookie", "champion", "veteran", "opener", "midfield", "teammate",
    "spokesperson", "adviser", "advisor", "aide", "envoy", "negotiator", "lawyer", "prosecutor", "dr.",
    "colonel", "major", "lieutenant", "admiral", "marshal", "brigadier", "corporal", "private", "player",
    "coach", "trainer", "referee", "umpire", "driver", "rider", "jockey", "cyclist", "boxer", "dancer",
    "actor", "actress", "singer", "writer", "author", "novelist", "poet", "producer",
}
NAME_PARTICLES = {"de", "da", "del", "della", "der", "di", "du", "van", "von", "la", "le", "bin",
                   "ibn", "al", "el", "ben", "y", "st"}

_SCORER_EDGE = " \t\r\n.,;:\"'“”‘’()[]{}<>«»"
_ABBREV_END = re.compile(r"(?:(?:^|[\s.])[A-Za-z]\.|\b(?:Inc|Co|Corp|Ltd|Jr|Sr|St|Bros|Mt|Ft|Dept)\.)$")
_POSSESSIVE = re.compile(r"(?:['’]s|(?<=s)['’])$")
LEADING_THE = re.compile(r"^(?:the|The|THE)\s+")


def strip_accents(s: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", s) if not unicodedata.combining(c))


def clean_surface(raw: str) -> str:
    """Surface form as an alias: whitespace collapsed, possessive and edge punctuation removed."""
    s = " ".join(raw.split())
    for _ in range(3):
        before = s
        s = _POSSESSIVE.sub("", s)
        s = s.lstrip(_SCORER_EDGE)
        # keep the final dot of "U.S." / "Inc."; drop other trailing punctuation
        while s and s[-1] in _SCORER_EDGE and not (s[-1] == "." and _ABBREV_END.search(s)):
            s = s[:-1]
        if s == before:
            break
    return s


def display(surface: str, label: str) -> str:
    """Name form of a surface: no leading "the", honorific, or (persons) title / lowercase word.

    "the White House" -> "White House", "Ms Persson" -> "Persson", PERSON "Superintendent
    Jennifer McCormick" -> "Jennifer McCormick", PERSON "rang Taylor" -> "Taylor".
    """
    toks = LEADING_THE.sub("", surface).lstrip(_SCORER_EDGE).split()
    while len(toks) > 1 and toks[0].lower().rstrip(".") in HONORIFICS:
        toks = toks[1:]
    if label == "PERSON":
        while len(toks) > 1 and toks[0].lower().rstrip(".") in TITLES:
            toks = toks[1:]
        # "rang Taylor" -> "Taylor": leading lowercase words before a capitalized name
        i = 0
        while i < len(toks) - 1 and toks[i].isalpha() and toks[i].islower() and toks[i] not in NAME_PARTICLES:
            i += 1
        if i and toks[i][:1].isupper():
            toks = toks[i:]
    return " ".join(toks)


def merge_key(s: str) -> str:
    """Merge key: casefolded, no accents, no leading "the"/possessive/punctuation/honorific.

    A middle initial is dropped from three-word names: "Donald J. Trump" -> "donald trump".
    """
    k = strip_accents(unicodedata.normalize("NFKC", s)).casefold()
    k = re.sub(r"^the\s+", "", k)
    k = re.sub(r"['’]s$", "", k)
    k = k.replace("&", " and ")
    k = re.sub(r"[-‐‑‒–—/_]", " ", k)
    k = re.sub(r"[^\w\s+]", "", k)
    k = re.sub(r"isation\b", "ization", k)  # "Organisation" = "Organization"
    toks = k.split()
    while len(toks) > 1 and toks[0] in HONORIFICS:
        toks = toks[1:]
    while len(toks) > 1 and toks[-1] in COMPANY_SUFFIXES:
        toks = toks[:-1]  # "Apple, Inc." and "Gannett Co." are Apple and Gannett
    if len(toks) == 3 and len(toks[1]) == 1 and len(toks[0]) > 1 and len(toks[2]) > 1:
        toks = [toks[0], toks[2]]
    return " ".join(toks)


def is_acronym(s: str) -> bool:
    letters = re.sub(r"[^A-Za-z]", "", s)
    return 0 < len(letters) <= 5 and letters.isupper() and " " not in s.strip()


def looks_like_name(s: str, max_tokens: int = 4) -> bool:
    """Two to ``max_tokens`` capitalized words (particles such as "de", "van" allowed)."""
    toks = s.split()
    if not 2 <= len(toks) <= max_tokens:
        return False
    return all(t[:1].isupper() or t.lower() in NAME_PARTICLES for t in toks) and toks[-1][:1].isupper()


def edit_distance_le1(a: str, b: str) -> bool:
    """True if ``a`` and ``b`` differ by at most one edit (insert/delete/substitute/swap)."""
    if a == b:
        return True
    la, lb = len(a), len(b)
    if abs(la - lb) > 1:
        return False
    if la > lb:
        a, b, la, lb = b, a, lb, la
    i = 0
    while i < la and a[i] == b[i]:
        i += 1
    if la == lb:
        if a[i + 1:] == b[i + 1:]:
            return True
        return i + 1 < la and a[i] == b[i + 1] and a[i + 1] == b[i] and a[i + 2:] == b[i + 2:]
    return a[i:] == b[i + 1:]


