"""Mentions: the model's spans cleaned, repaired or dropped (junk, page furniture, unsupported titles)."""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

from workers.stages.entities.aliases import table_lookup
from workers.stages.entities.labels import ORG_WORDS, country_vote, first_names, person_shaped, table_label
from workers.stages.entities.names import (
    clean_surface,
    display,
    looks_like_name,
    merge_key,
)
from workers.stages.entities.ner import RawMention
from workers.stages.entities.places import lookup
from workers.stages.entities.repair import repair_span
from workers.stages.entities.stoplist import is_common_word
from workers.stages.entities.tables import ScoreLine, score_lines, table_names
from workers.stages.entities.text import Prepared

_TAGS_PREFIX = re.compile(r"^tags?\b", re.IGNORECASE)
_URLISH = re.compile(r"https?:|www\.|\w\.\w{2,}/", re.IGNORECASE)
# a lowercase domain inside a mention ("rt.com Journalists"); "Amazon.com" is a name
_DOMAIN = re.compile(r"(?<![\w.])[a-z][\w-]*\.(?:com|org|net|gov|edu|io|co|uk|tv|info|news|ly|me)\b")
_TRUNCATED_AFTER = re.compile(r"^(?:\.\.\.|…)")
_LETTER = re.compile(r"[^\W\d_]")
_LATIN = re.compile(r"[A-Za-z]")
# Text right before a mention, on the same line, that makes it a photo/credit line.
_CREDIT_BEFORE = re.compile(
    r"(?:\b(?:photo|image|picture|video|graphic|illustration)s?\s*)?"
    r"(?:\bcredits?|\bcourtesy(?:\s+of)?|©|\(c\)|\bcopyright|\bphotograph(?:ed)?\s+by|"
    r"\b(?:photo|image|picture|pictures|video|photograph)s?\s*(?:by)?\s*[:|/])"
    r"\s*(?:[:|/]|\.{2,3}|…)?\s*$",
    re.IGNORECASE,
)
_CREDIT_WORDS = {"courtesy"}
#: A slash and a capital right after a person's name: "Doug Mills/The New York Times" is a credit.
_AGENCY_AFTER = re.compile(r"\s?/\s?[A-Z]")


@dataclass
class Mention:
    surface: str  # cleaned surface form, kept as an alias
    name: str  # name form (no "the", honorific, title): candidate canonical name
    key: str  # merge key of ``name``
    label: str  # spaCy's label
    vote: str  # label this mention votes for (short forms of persons vote PERSON)
    start: int
    end: int
    place_context: bool = False  # preceded by "in", "at", "from"...
    table: bool = False  # a name before a score in a results table (``tables``)




_PLACE_BEFORE = re.compile(
    r"\b(?:in|at|near|into|across|outside|inside|throughout|visited|visiting)\s+(?:the\s+)?$",
    re.IGNORECASE,
)




#: Two words glued where a line break was lost: "Strike PossibleThe United Auto Workers".
_GLUED = re.compile(r"\b[A-Z]?(?P<left>[a-z]{5,})(?P<right>[A-Z][a-z]{2,})\b")


_SENTENCE_STARTS = frozenset("the this that these those when while after before in on at for from with as if but and".split())


def _glued(stripped: str) -> bool:
    """A word made of two common words, the second capitalized ("NeighborhoodVisiting"); names
    written that way join a short or uncommon part ("LinkedIn", "PlayStation", "DeShields")."""
    for m in _GLUED.finditer(stripped):
        left, right = m.group(0)[:-len(m.group("right"))].lower(), m.group("right").lower()
        if (len(left) >= 8 or right in _SENTENCE_STARTS) and is_common_word(left) and is_common_word(right):
            return True
    return False


def _is_junk(raw: str, text: str, start: int) -> bool:
    stripped = raw.strip()
    if "\n" in stripped or "\r" in stripped:
        return True  # spans a line break: two things glued together
    if _TAGS_PREFIX.match(stripped) or _URLISH.search(stripped) or _DOMAIN.search(stripped) or _glued(stripped):
        return True
    if _TRUNCATED_AFTER.match(text[start + len(raw):start + len(raw) + 3]):
        return True  # "Britain as Hurri...": a teaser cut in the middle of a name
    line_start = text.rfind("\n", 0, start) + 1
    before = text[max(line_start, start - 60):start]
    return bool(_CREDIT_BEFORE.search(before))


def _furniture(prep: Prepared, raw: list[RawMention]) -> list[tuple[int, int]]:
    """Ranges of the boilerplate lines whose mentions are dropped (bylines need a PERSON after "By")."""
    if not prep.boiler:
        return []
    person_starts = {start for _, label, start, _ in raw if label == "PERSON"}
    out: list[tuple[int, int]] = []
    for start, end, kind in prep.boiler:
        if kind.startswith("byline:") and int(kind.split(":", 1)[1]) not in person_starts:
            continue
        out.append((start, end))
    return out


def page_mentions(prep: Prepared, raw: list[RawMention]) -> list[Mention]:
    """The page's mentions: spans repaired, junk and furniture dropped, table names added, votes set."""
    out: list[Mention] = []
    furniture = _furniture(prep, raw)
    furniture_starts = [r[0] for r in furniture]
    lines = score_lines(prep.text, prep.body_start)
    line_starts = [s for s, _, _ in lines]
    for raw_text, raw_label, raw_start, _ in raw:
        if _is_junk(raw_text, prep.text, raw_start) or (raw_label == "PERSON" and (
                "/" in raw_text or _AGENCY_AFTER.match(prep.text, raw_start + len(raw_text)))):
            continue  # a person's name never has a slash: "Sakib Ali/Hindustan Times" is a photo credit
        if furniture:
            j = bisect.bisect_right(furniture_starts, raw_start) - 1
            if j >= 0 and raw_start < furniture[j][1]:
                continue  # credit, caption, byline or share line
        k = bisect.bisect_right(line_starts, raw_start) - 1
        on_score_line = k >= 0 and raw_start < lines[k][1]
        for piece in repair_span(raw_text, raw_label, raw_start, on_score_line):
            end = _without_role_title(prep.text, piece.start, piece.end)
            if end is None:
                continue
            mention = _mention(prep, raw_label, piece.start, end, piece.surface_start,
                               max(end, piece.surface_end) if end == piece.end else end)
            if mention is not None:
                out.append(mention)
    out = _with_table_names(prep, out, lines)
    for m in out:
        m.vote = _vote(m)
    return _join_bracketed_names(prep, out)


_WORD = r"[A-Z][a-z][\w'’\-]*"
#: An editor's insertion in a quote: "(Lindsay) Davenport", "(Olympic champion Lindsay) Davenport",
#: "Saddam (Hussein)".
_BRACKETED_NAME = re.compile(
    rf"\((?P<pre>[^()\n]{{1,40}}\s)?(?P<a>{_WORD})\)\s(?P<b>{_WORD})|(?<![\w(])(?P<c>{_WORD})\s\((?P<d>{_WORD})\)")


def _join_bracketed_names(prep: Prepared, found: list[Mention]) -> list[Mention]:
    """The two parts of a person's name split by an editor's brackets are one person's mentions."""
    if "(" not in prep.text:
        return found
    by_span = {(m.start, m.end): m for m in found}
    added: list[Mention] = []
    for match in _BRACKETED_NAME.finditer(prep.text, prep.body_start):
        g1, g2 = ("a", "b") if match.group("a") else ("c", "d")
        pre = (match.group("pre") or "").split()
        if pre and not pre[-1][:1].islower():
            continue  # "(Abu Ammar) Arafat": the bracket holds a longer name
        parts = [(match.start(g), match.end(g)) for g in (g1, g2)]
        words = [prep.text[s:e] for s, e in parts]
        before = prep.text[max(0, match.start() - 30):match.start()].split()
        after = prep.text[match.end():match.end() + 30].split()
        if ((before and before[-1].lstrip("\"“‘'([")[:1].isupper() and before[-1][-1:] not in ",;:")
                or (after and after[0][:1].isupper())):
            continue  # part of a longer name: "Abu Ammar (Arafat)"
        if not (any(by_span.get(p) is not None and by_span[p].vote == "PERSON" for p in parts)
                or words[0].lower() in first_names()):
            continue
        if any(w.lower() in ORG_WORDS for w in words):
            continue
        first_name = words[0].lower() in first_names() and not any(country_vote(merge_key(w)) for w in words)
        if not first_name and any(lookup(merge_key(w)) is not None for w in words):
            continue  # "(Lindsay) Davenport" is a person although both words are towns too
        full = " ".join(words)
        key = merge_key(full)
        for span in parts:
            m = by_span.get(span) or _mention(prep, "PERSON", *span)
            if m is None:
                continue
            if span not in by_span:
                added.append(m)
            m.name, m.key, m.vote = full, key, "PERSON"
    return sorted(found + added, key=lambda m: m.start) if added else found


#: A person's role right after a span: the span is part of a job title ("Defense Secretary",
#: "Finance Minister", "US National Security Advisor"), not an organization.
_ROLE_AFTER = re.compile(
    r"^\s+(?:minister|ministers|secretary|secretaries|adviser|advisers|advisor|advisors|spokesman|spokeswoman|"
    r"spokesperson|correspondent|envoy|ambassador|attaché|attache|czar|tsar)\b",
    re.IGNORECASE,
)


def _without_role_title(text: str, start: int, end: int) -> int | None:
    """End of what is left of a span before a role word: a place at its start ("US National
    Security Advisor" -> "US"); None for one word ("Defense Secretary"); a longer name stays
    ("Health and Human Services Secretary")."""
    if not _ROLE_AFTER.match(text[end:end + 20]):
        return end
    words = text[start:end].split()
    for n in range(len(words) - 1, 0, -1):
        head = " ".join(words[:n])
        if lookup(merge_key(head)) is not None or table_lookup(head, merge_key(head)) is not None:
            return start + len(head)
    return None if len(words) == 1 else end


def _vote(m: Mention) -> str:
    """The label a mention votes for: table evidence, then a country, then a person's shape."""
    if m.table:
        return m.vote
    country = country_vote(m.key, m.label)
    if country:
        return country
    if m.label != "PERSON" and person_shaped(m.name):
        return "PERSON"
    return m.label


def _with_table_names(prep: Prepared, found: list[Mention], lines: list[ScoreLine]) -> list[Mention]:
    """Names before scores in results tables: label the model's mention, or add the name it missed."""
    names = table_names(prep.text, lines, table_label)
    if not names:
        return found
    by_start = {m.start: m for m in found}
    covered = sorted((m.start, m.end) for m in found)
    added: list[Mention] = []
    for start, end, label in names:
        m = by_start.get(start)
        if m is not None and m.end == end:
            m.vote, m.table = label, True
            continue
        j = bisect.bisect_right(covered, (end, end))
        if any(s < end and start < e for s, e in covered[max(0, j - 3):j]):
            continue  # overlaps another span of the model: leave it as it is
        m = _mention(prep, label, start, end)
        if m is not None:
            m.table = True
            added.append(m)
    return sorted(found + added, key=lambda m: m.start) if added else found


def _mention(prep: Prepared, label: str, start: int, end: int, surface_start: int | None = None,
             surface_end: int | None = None) -> Mention | None:
    """The name at ``start:end`` as a mention (its surface, kept as an alias, may be longer), or
    None when it is no name."""
    surface = clean_surface(prep.text[surface_start if surface_start is not None else start:
                                      surface_end if surface_end is not None else end])
    name = display(clean_surface(prep.text[start:end]), label)
    letters = _LETTER.findall(name)
    if len(name) < 2 or not letters or (len(letters) < 2 and len(name) < 3):
        return None
    if len(name) > 100 or len(name.split()) > 10 or name.casefold() in _CREDIT_WORDS:
        return None
    if _LATIN.search(name) and not any(c.isupper() for c in name) and (
        (len(letters) <= 3 and not any(c.isdigit() for c in name)) or label == "PERSON"
    ):
        return None  # "mm", "n’t"; a PERSON "galley": all lowercase is not a name ("777x" is)
    key = merge_key(name)
    if not key:
        return None
    if label in ("GPE", "LOC") and len(letters) <= 2 and lookup(key) is None:
        return None  # "ST" of "ST LOUIS": a two-letter place the place data does not know
    place = bool(_PLACE_BEFORE.search(prep.text[max(0, start - 20):start]))
    return Mention(surface, name, key, label, label, start, end, place)


def title_supported(m: Mention, prep: Prepared) -> bool:
    """A title mention counts only when the body writes it too (the model may have missed it there).

    Headlines are in title case, which the model reads badly ("Stadia Falls Short", "Keyboard
    Expected"); an entity of the article is named in its body as well. A full name is also
    supported by its last word ("Benny Gantz" in the title, "Gantz" in the body).
    """
    if m.start >= prep.body_start:
        return True
    body = prep.text[prep.body_start:]
    forms = [m.surface, m.name]
    toks = m.name.split()
    if m.label == "PERSON" and looks_like_name(m.name) and len(toks[-1]) > 2:
        forms.append(toks[-1])
    return any(f and re.search(r"(?<!\w)" + re.escape(f) + r"(?!\w)", body) for f in forms)
