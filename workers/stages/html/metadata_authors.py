"""Author candidates: the names each source gives (JSON-LD author, meta author and friends,
rel=author, itemprop=author, byline/author/user elements, "By ..." lines under the headline), one
candidate per distinct list of names with the features of every source that gives it.
"""

from __future__ import annotations

import math
import re
from itertools import islice
from typing import Any

from lxml.html import HtmlElement

from workers.stages.html.metadata_jsonld import ld_names
from workers.stages.html.metadata_page import PageSignals, element_text, norm_key, norm_space
from workers.stages.html.metadata_ranker import Candidate

__all__ = ["author_candidates", "clean_author"]

_URLISH = re.compile(r"^(?:https?:|www\.|//)|\.(?:com|org|net|html?)(?:/|$)|@\w+\.\w", re.I)
_BY_PREFIX = re.compile(
    r"^\s*(?:(?:written|posted|reported|published|text|story|words|article|photos?|reviewed|edited|updated)\s+)?"
    r"(?:by|von|par|por|di|door|av|af|de)\s*[:\-]?\s+",
    re.I,
)
_LABEL_PREFIX = re.compile(
    r"^\s*(?:(?:author|authors|written by|posted by|by|auteur|autor)\s*[:\-|]\s*|(?:author|written by|posted by)\s+(?=[A-Z]))",
    re.I,
)
#: a text segment that only labels the name next to it
_LABEL_ONLY = re.compile(r"^\W*(?:by|written by|posted by|author|authors|reviewed by|edited by|from|insights from|"
                         r"about the author|meet the author|the author|topic author|original poster|op)\W*$", re.I)
_NOT_A_NAME = frozenset(("you", "your", "our", "we", "agree", "menu", "cookies", "privacy", "login"))
_FUNCTION_WORDS = frozenset((
    "you", "your", "our", "we", "the", "to", "of", "in", "for", "on", "is", "are", "with", "this", "that", "menu",
    "user", "users", "agree", "more", "view", "all", "posts", "replies", "join", "now", "sign", "log", "here",
))
_AUTHOR_SPLIT = re.compile(r"\s*(?:,|;|&|\||\b(?:and|AND|And|und|et|y|e)\b)\s*")
_AUTHOR_ROLE = re.compile(
    r"\b(?:writer|editor|editors|reporter|correspondent|contributor|columnist|staff|desk|team|"
    r"producer|photographer|intern|analyst|critic)s?\b",
    re.I,
)
_CREDENTIAL = re.compile(r"^(?:[A-Z]{2,5}|Ph\.?D\.?|M\.?D\.?|Jr\.?|Sr\.?|MBA|Esq\.?|R\.?N\.?)$")
_AUTHOR_NOISE = re.compile(
    r"^(?:staff|admin|administrator|editor|editors|editorial staff|guest|anonymous|unknown|"
    r"the editors|newsroom|redaction|rédaction|reporter|correspondent|contributor|author|authors|"
    r"share|follow|posted|reply|quote|report|member|moderator|view profile|read more|more|about|bio|"
    r"home|login|log in|sign in|sign up|subscribe|contact|menu|main menu|search|comments?|\d+ comments?|"
    r"post|posts|edited|asked|answered|joined|website|hello|logged|users?|new member|vip member|senior member|"
    r"topic archived|archived|privacy preferences|submission rules|feedback|share this|expand user menu)$",
    re.I,
)
_DATEISH = re.compile(
    r"\b(?:\d{1,2}[:/.]\d{2}|\d{4}|updated|published|jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)\w*\b",
    re.I,
)
_TEXT_BY = re.compile(
    r"(?:^|\n)[ \t]*(?:(?:written|posted|reported|reviewed|article|words|story|text|published)\s+)?"
    r"(?:by|author:|authors:|written by:?)[ \t]*\n?[ \t]*([^\n]{2,80})",
    re.I,
)
#: how a byline line can start (checked with str.startswith: scanning a whole page stays fast)
_BY_STARTS = tuple(
    form for word in ("by", "written", "posted", "reported", "reviewed", "article", "words", "story", "text", "published",
                      "author") for form in (word, word.capitalize(), word.upper())
)
#: a line of the page's text that starts (after spaces: [^\S\n] is str.lstrip()'s whitespace) with one of them
_BY_LINE = re.compile(r"\n[^\S\n]*(?:" + "|".join(map(re.escape, _BY_STARTS)) + ")")
_HINT_KINDS = (("href-profile", "href_profile"), ("byline", "class_byline"), ("author", "class_author"), ("writer", "class_author"),
               ("user", "class_user"), ("poster", "class_user"), ("profile", "class_user"), ("submitted", "class_user"))
_META_AUTHOR_KEYS = (
    ("author", "meta_author"), ("article:author", "meta_article_author"), ("og:article:author", "meta_article_author"),
    ("parsely-author", "meta_other"), ("sailthru.author", "meta_other"), ("dc.creator", "meta_other"),
    ("dcterms.creator", "meta_other"), ("byl", "meta_other"), ("citation_author", "meta_other"),
    ("twitter:data1", "meta_twitter_data"),
)
#: sources whose elements name the page's authors (a thread's posters are not its authors)
_MERGEABLE = frozenset(("itemprop_author", "rel_author", "class_author", "class_byline", "ld_article", "ld_page"))
MAX_ELEMENTS = 40
MAX_BYLINE_CHARS = 120
MAX_BYLINE_PARTS = 40  # text pieces read from one author element


def clean_author(name: Any) -> list[str]:
    """Split and clean one author string: no "By ", no URLs/handles, no dates, no roles."""
    text = norm_space(name)
    if not text:
        return []
    text = _LABEL_PREFIX.sub("", text)
    text = _BY_PREFIX.sub("", text)
    parts = []
    for part in _AUTHOR_SPLIT.split(text):
        part = _BY_PREFIX.sub("", part).strip(" .:-–—@\u00a0|•·")
        if not part or _URLISH.search(part) or _AUTHOR_NOISE.match(part):
            continue
        if _DATEISH.search(part) and any(ch.isdigit() for ch in part):
            continue
        words = part.split()
        if not (1 <= len(words) <= 5) or len(part) > 60 or len(part) < 2 or not any(ch.isalpha() for ch in part):
            continue
        lowered = [w.lower() for w in words]
        if "?" in part or sum(w in _FUNCTION_WORDS for w in lowered) >= 2 or any(w in _NOT_A_NAME for w in lowered):
            continue
        if part.isupper() and len(part) > 4:
            part = part.title()  # "STEVE PEOPLES" -> "Steve Peoples"
        parts.append(part)
    # "Jane Doe, AP Science Writer": a role next to a name goes; a byline that is only a desk stays
    # "Ilana Muhlstein, MS, RDN": credentials next to a name go too
    people = [p for p in parts if not _AUTHOR_ROLE.search(p) and not _CREDENTIAL.match(p)]
    return people or parts[:1]


def _byline_texts(elem: HtmlElement) -> list[tuple[str, str]]:
    """(variant, text) of what an author element names: its itemprop=name, its content
    attribute, its whole text (child texts joined by spaces) and its first text that is not a label."""
    name_elem = elem.find('.//*[@itemprop="name"]')
    if name_elem is not None:
        return [("itemprop_name", name_elem.get("content") or element_text(name_elem))]
    if elem.get("content") and elem.tag != "meta":
        return [("content", elem.get("content"))]
    parts = [t for t in (norm_space(x) for x in islice(elem.itertext(), MAX_BYLINE_PARTS)) if t]
    if not parts:
        return []
    texts = [("whole", " ".join(parts))]
    first = next((t for t in parts if not _LABEL_ONLY.match(t)), None)
    if first and first != texts[0][1]:
        texts.append(("first_part", first))
    return texts


def _collect(sig: PageSignals) -> list[tuple[str, list[str], dict[str, Any]]]:
    found: list[tuple[str, list[str], dict[str, Any]]] = []
    for obj in sig.ld:
        for key in ("author", "creator"):
            names = ld_names(obj.data.get(key), sig.ld_by_id)
            if names:
                found.append((f"ld_{obj.kind}", [n for name in names for n in clean_author(name)], {}))
                break
    for key, meta_source in _META_AUTHOR_KEYS:
        for value in sig.meta_all(key)[:3]:
            if meta_source == "meta_twitter_data" and not (sig.meta("twitter:label1") or "").lower().startswith(
                    ("written", "author")):
                continue
            found.append((meta_source, clean_author(value), {}))
    anchor = sig.h1_order if sig.h1_order is not None else 0
    seen_after = 0
    for item in sig.marked:
        if len(found) > MAX_ELEMENTS:
            break
        elem, hint = item.elem, item.hint
        if elem.tag in ("h1", "time", "meta", "script"):
            continue
        itemprop = (elem.get("itemprop") or "").lower()
        rel = (elem.get("rel") or "").lower()
        source: str | None
        if "author" in itemprop.split() or "creator" in itemprop.split():
            source = "itemprop_author"
        elif "author" in rel.split():
            source = "rel_author"
        else:
            source = next((kind for token, kind in _HINT_KINDS if token in hint), None)
            if source is None:
                continue
            if any(word in hint for word in ("avatar", "image", "photo", "img", "bio", "description", "social", "follow")):
                continue
        texts = [(v, t) for v, t in _byline_texts(elem) if t and len(t) <= MAX_BYLINE_CHARS]
        if not texts:
            continue
        rank_after = None
        if item.order >= anchor:
            rank_after, seen_after = seen_after, seen_after + 1
        for variant, text in texts:
            names = clean_author(text)
            if not names:
                continue
            position = {"order": (item.order - anchor) / max(sig.n_elements, 1), "variant": variant,
                        "by_prefix": float(bool(_BY_PREFIX.match(text) or _LABEL_PREFIX.match(text)))}
            if rank_after is not None:
                position["rank_after"] = rank_after
            found.append((source, names, position))
    for by_match in _TEXT_BY.finditer(sig.text, sig.h1_offset, sig.h1_offset + 1500):
        names = clean_author(by_match.group(1))
        if names:
            found.append(("text_by", names, {"text_distance": by_match.start() - sig.h1_offset}))
            break
    page_by = 0
    page_text = "\n" + sig.page_text  # every line after a "\n": a literal the regex engine skips ahead to
    lines = page_text.split("\n")[1:]
    index = counted_to = 0
    for line_start in _BY_LINE.finditer(page_text):  # the lines that start with one of _BY_STARTS
        index += page_text.count("\n", counted_to, line_start.start())
        counted_to = line_start.start()
        match = _TEXT_BY.match("\n" + "\n".join(lines[index:index + 2]))
        if match is None:
            continue
        names = clean_author(match.group(1))
        if names:
            found.append(("page_by", names, {"page_rank": page_by}))
            page_by += 1
            if page_by >= 3:
                break
    description = sig.meta("description", "og:description")
    if description and _BY_PREFIX.match(description):
        names = clean_author(description.split("\n", 1)[0][:80])
        if names:
            found.append(("description_by", names, {}))
    found = [(s, n, p) for s, n, p in found if n]
    # several elements of one kind, one name each: the page lists several authors
    by_source: dict[str, list[str]] = {}
    for source, names, position in found:
        if source in _MERGEABLE and position.get("variant", "whole") in ("whole", "itemprop_name", "content") and len(names) == 1:
            by_source.setdefault(source, []).append(names[0])
    for source, names in by_source.items():
        unique = list(dict.fromkeys(names))
        if 2 <= len(unique) <= 6:
            found.append((source, unique, {"merged": 1.0}))
    return found


def author_candidates(sig: PageSignals) -> list[Candidate]:
    """One candidate per distinct list of names, with the features of every source that gives it."""
    found = _collect(sig)
    site_keys = {norm_key(n).replace(" ", "") for n in sig.site_names if len(n) >= 3}
    by_key: dict[tuple[str, ...], Candidate] = {}
    all_names: dict[str, set[str]] = {}
    for source, names, _ in found:
        for name in names:
            all_names.setdefault(norm_key(name), set()).add(source)
    for source, names, position in found:
        names = list(dict.fromkeys(names))[:10]
        key = tuple(sorted({norm_key(n) for n in names if norm_key(n)}))
        if not key:
            continue
        cand = by_key.get(key)
        if cand is None:
            cand = by_key[key] = Candidate(key=key, value=names, features={})
        f = cand.features
        f[f"src_{source}"] = 1.0
        f["mentions"] = f.get("mentions", 0.0) + 1.0
        if "order" in position:
            distance = abs(position["order"])
            if distance < f.get("elem_distance_raw", 9.0):
                f["elem_distance_raw"] = distance
                f["elem_after_h1"] = float(position["order"] >= 0)
        if "rank_after" in position:
            f["first_after_h1"] = max(f.get("first_after_h1", 0.0), float(position["rank_after"] == 0))
            f["rank_after_h1"] = min(f.get("rank_after_h1", 9.0), math.log1p(position["rank_after"]))
        if position.get("by_prefix"):
            f["by_prefix"] = 1.0
        if "variant" in position:
            f[f"variant_{position['variant']}"] = 1.0
        if position.get("merged"):
            f["merged"] = 1.0
        if position.get("page_rank") == 0:
            f["first_page_by"] = 1.0
        if "text_distance" in position:
            f["text_by_near"] = float(position["text_distance"] < 600)
    n_sources_total = len({s for s, _, _ in found})
    n_people = len({n for s, names, _ in found if s in ("class_user", "href_profile") for n in names})
    many_people = math.log1p(n_people)
    candidates = list(by_key.values())
    for cand in candidates:
        f = cand.features
        names = cand.value
        if "elem_distance_raw" in f:
            f["elem_distance"] = min(f.pop("elem_distance_raw") * 20, 3.0)
        n_sources = sum(1 for k in f if k.startswith("src_"))
        f["n_sources"] = math.log1p(n_sources)
        f["source_share"] = n_sources / max(n_sources_total, 1)
        f["mentions"] = math.log1p(f.get("mentions", 0.0))
        f["many_people"] = many_people
        f["first_among_many"] = many_people * f.get("first_after_h1", 0.0)
        f["n_names"] = math.log1p(len(names))
        f["many_names"] = float(len(names) > 3)
        words = [len(n.split()) for n in names]
        f["single_word"] = float(all(w == 1 for w in words))
        f["two_three_words"] = float(all(2 <= w <= 3 for w in words))
        f["has_digit"] = float(any(ch.isdigit() for n in names for ch in n))
        f["capitalized"] = float(all(w[:1].isupper() for n in names for w in n.split() if w[:1].isalpha()))
        f["lowercase"] = float(all(n.islower() for n in names))
        tokens = [w.lower() for n in names for w in n.split()]
        f["function_words"] = float(any(w in _FUNCTION_WORDS for w in tokens))
        f["dotted"] = float(any("." in w and len(w) > 3 for w in tokens))
        f["role_words"] = float(any(_AUTHOR_ROLE.search(n) for n in names))
        f["long_name"] = float(any(len(n.split()) >= 4 for n in names))
        f["names_site"] = float(any(norm_key(n).replace(" ", "") in site_keys for n in names))
        agree = [len(all_names.get(norm_key(n), ())) for n in names]
        f["name_sources"] = math.log1p(max(agree) if agree else 0)
        f["all_agree"] = float(bool(agree) and min(agree) > 1)
    return candidates
