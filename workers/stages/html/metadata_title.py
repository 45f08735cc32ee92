"""Title candidates: the headline as each source gives it (JSON-LD headline and name, og:title,
twitter:title, <title> whole and cut at its separators, <h1>s, itemprop=headline, meta title),
one candidate per distinct text with the features of every source that gives it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from difflib import SequenceMatcher
from urllib.parse import urlsplit

from workers.stages.html.metadata_page import PageSignals, element_text, norm_key, norm_space, repair_mojibake
from workers.stages.html.metadata_ranker import Candidate

__all__ = ["strip_site_suffix", "title_candidates", "split_title"]

TITLE_SEPARATORS = (" | ", " - ", " – ", " — ", " :: ", " · ", " • ", " // ", " / ", " « ", " » ", " : ", " ~ ", " › ", " > ")
_SEPARATOR = re.compile(r"\s+(?:\||-|–|—|::|·|•|//|/|«|»|:|~|›|>)\s+")
MAX_TITLE_CHARS = 400
_SQUASH = re.compile(r"[\W_]+")


def _squash(text: str) -> str:
    return _SQUASH.sub("", text.casefold())


def strip_site_suffix(title: str | None, site_names: Iterable[str] = (), aggressive: bool = False) -> str | None:
    """Cut " | Site Name" / " - Site" (or "Site | ") from a title.

    A segment is cut when it names the site (``site_names``: site name, domain words). With
    ``aggressive`` (the <title> tag, where a suffix is the rule) a short last segment (at most
    4 words, and shorter than what remains) is cut too.
    """
    title = norm_space(title)
    if not title:
        return None
    names = {_squash(n) for n in site_names if n and _squash(n)}

    def names_site(segment: str) -> bool:
        sq = _squash(segment)
        if not sq:
            return True
        if len(segment.split()) > 6:
            return False
        return any(sq == n or (len(n) >= 4 and (sq.startswith(n) or n.startswith(sq) or n in sq)) for n in names)

    for _ in range(3):  # "Title | Section | Site"
        changed = False
        for sep in TITLE_SEPARATORS:
            if sep not in title:
                continue
            head, _, tail = title.rpartition(sep)
            if head and tail and (names_site(tail) or (aggressive and len(tail.split()) <= 4 and len(tail) < len(head) and sep != " : ")):
                title, changed = head.strip(), True
                break
            first, _, rest = title.partition(sep)
            if first and rest and names_site(first) and len(rest.split()) >= 2:
                title, changed = rest.strip(), True
                break
        if not changed:
            break
    return title or None


def split_title(title: str) -> list[str]:
    """The segments of a title at its separators ("Headline | Section | Site")."""
    return [part.strip() for part in _SEPARATOR.split(title) if part.strip()]


def _names_site(text: str, site_keys: set[str]) -> bool:
    key = _squash(text)
    return bool(key) and any(key == n or (len(n) >= 4 and n in key) for n in site_keys)


def _raw_titles(sig: PageSignals) -> list[tuple[str, str]]:
    """(source, text) of every title the page gives, in a fixed order."""
    raw: list[tuple[str, str]] = []
    for key, source in (("og:title", "og"), ("twitter:title", "twitter"), ("title", "meta_title"),
                        ("dc.title", "meta_title"), ("parsely-title", "meta_title"), ("sailthru.title", "meta_title"),
                        ("headline", "itemprop_meta")):
        value = sig.meta(key)
        if value:
            raw.append((source, value))
    for obj in sig.ld:
        kind = obj.kind
        for key in ("headline", "name", "alternativeHeadline"):
            value = obj.str_value(key)
            if value and kind in ("article", "page", "other"):
                raw.append((f"ld_{kind}_{'name' if key == 'name' else 'headline'}", value))
    if sig.title_tag:
        raw.append(("title", sig.title_tag))
    for index, h1 in enumerate(sig.h1s[:3]):
        raw.append(("h1" if index == 0 else "h1_more", h1))
    if sig.h1_joined and sig.h1s and norm_key(sig.h1_joined) != norm_key(sig.h1s[0]):
        raw.append(("h1_joined", sig.h1_joined))
    for item in sig.marked:
        if item.elem.tag != "meta" and (item.elem.get("itemprop") or "").lower() == "headline":
            text = element_text(item.elem)
            if text:
                raw.append(("itemprop", text))
                break
    if not sig.h1s:
        h2 = sig.root.find(".//body//h2")
        if h2 is not None:
            text = element_text(h2)
            if text:
                raw.append(("h2", text))
    return [(s, repair_mojibake(t)) for s, t in raw if len(t) <= MAX_TITLE_CHARS]


def _without_site_words(text: str, site_names: Iterable[str]) -> str | None:
    """The title without a site name written before or after it with no separator
    ("davidbau.com Vibe Coding" -> "Vibe Coding")."""
    folded = text.casefold()
    for name in site_names:
        name = name.casefold()
        if len(name) < 4:
            continue
        if folded.startswith(name + " "):
            rest = text[len(name):].strip()
        elif folded.endswith(" " + name):
            rest = text[: -len(name)].strip()
        else:
            continue
        if len(rest.split()) >= 2 and not _SEPARATOR.match(" " + rest):
            return rest
    return None


def _page_kind(sig: PageSignals) -> dict[str, bool]:
    """What kind of page this looks like, from what it declares (og:type, JSON-LD types) and its URL."""
    og_type = (sig.meta("og:type") or "").lower()
    ld_types = {t for o in sig.ld for t in o.types}
    try:
        path = urlsplit(sig.url).path if sig.url else ""
    except ValueError:
        path = ""
    depth = len([p for p in path.split("/") if p])
    return {
        "og_article": og_type == "article",
        "og_website": og_type == "website",
        "og_product": "product" in og_type,
        "ld_article": any(o.kind == "article" for o in sig.ld),
        "ld_product": "product" in ld_types,
        "ld_qa": bool(ld_types & {"qapage", "discussionforumposting", "question"}),
        "url_home": bool(sig.url) and depth == 0,
        "url_shallow": depth == 1,
        "dated": bool(sig.meta("article:published_time")) or any(o.str_value("datePublished") for o in sig.ld),
    }


def _jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


def title_candidates(sig: PageSignals) -> list[Candidate]:
    """One candidate per distinct title text, with the features of every source that gives it."""
    site_names = sig.site_names
    site_keys = {_squash(n) for n in site_names if len(_squash(n)) >= 3}
    by_key: dict[str, Candidate] = {}
    raw_titles = _raw_titles(sig)

    def add(text: str, source: str, variant: str) -> None:
        text = norm_space(text)
        key = norm_key(text)
        if not key:
            return
        cand = by_key.get(key)
        if cand is None:
            cand = by_key[key] = Candidate(key=key, value=text, features={})
        cand.features[f"src_{source}_{variant}"] = 1.0
        cand.features[f"src_{source}"] = 1.0
        cand.features[f"variant_{variant}"] = 1.0

    for source, text in raw_titles:
        text = norm_space(text)
        add(text, source, "raw")
        cut = strip_site_suffix(text, site_names, aggressive=source == "title")
        if cut and cut != text:
            add(cut, source, "cut")
        bare = _without_site_words(text, site_names)
        if bare:
            add(bare, source, "nosite")
        parts = split_title(text)
        if len(parts) > 1:
            add(parts[0], source, "first")
            add(parts[-1], source, "last")
            longest = max(parts, key=len)
            add(longest, source, "longest")
            if len(parts) > 2:
                add(" - ".join(parts[:-1]), source, "but_last")

    title_key = norm_key(sig.title_tag)
    h1_key = norm_key(sig.h1s[0]) if sig.h1s else ""
    h1_words = set(h1_key.split())
    title_words = set(title_key.split())
    slug = sig.slug_words
    all_sources = {s for s, _ in raw_titles}
    title_raw = norm_space(sig.title_tag or "")
    context = {
        "title_sep": bool(_SEPARATOR.search(title_raw)),
        "h1_link": "link" in sig.h1_context,
        "h1_header": "header" in sig.h1_context,
        "h1_main": "main" in sig.h1_context,
        "h1_hidden_attr": "hidden_attr" in sig.h1_context,
        "h1_hidden_sr": "hidden_sr" in sig.h1_context,
        "h1_hidden_class": "hidden_class" in sig.h1_context,
        "h1_site": bool(h1_key) and _names_site(sig.h1s[0], site_keys),
        "h1_short": 0 < len(h1_key.split()) <= 2,
        "title_has_h1": bool(h1_key) and h1_key in title_key and h1_key != title_key,
        "many_h1": sig.n_h1 > 1,
        "h1_weird": bool(h1_key) and (max(map(len, h1_key.split())) > 25 or len(h1_key.split()) > 25),
        "h1_deep": bool(h1_key) and sig.h1_offset > 500,
        "h1_late": sig.h1_order is not None and sig.h1_order / max(sig.n_elements, 1) > 0.3,
    }
    kind_context = _page_kind(sig)
    candidates = list(by_key.values())
    keys = [c.key for c in candidates]
    for cand in candidates:
        f = cand.features
        key = cand.key
        words = key.split()
        word_set = set(words)
        n_sources = len({name for name in f if name.startswith("src_") and name.count("_") == 1})
        f["n_sources"] = math.log1p(n_sources)
        f["source_share"] = n_sources / max(len(all_sources), 1)
        f["n_words"] = math.log1p(len(words))
        f["short"] = float(len(words) <= 2)
        f["long"] = float(len(words) > 20)
        f["has_separator"] = float(bool(_SEPARATOR.search(cand.value)))
        f["names_site"] = float(_names_site(cand.value, site_keys))
        f["contains_site"] = float(any(len(n) >= 4 and n in _squash(cand.value) for n in site_keys))
        f["slug_recall"] = len(word_set & slug) / len(word_set) if word_set else 0.0
        f["slug_precision"] = len(word_set & slug) / len(slug) if slug else 0.0
        f["no_slug"] = float(not slug)
        f["h1_jaccard"] = _jaccard(word_set, h1_words)
        f["title_jaccard"] = _jaccard(word_set, title_words)
        f["in_title_tag"] = float(bool(title_key) and key in title_key)
        f["title_tag_prefix"] = float(bool(title_key) and title_key.startswith(key) and key != title_key)
        f["equals_title_tag"] = float(key == title_key)
        f["equals_h1"] = float(key == h1_key)
        f["no_h1"] = float(not h1_key)
        f["contained_by_others"] = math.log1p(sum(1 for other in keys if other != key and key in other))
        f["contains_others"] = math.log1p(sum(1 for other in keys if other != key and other in key))
        f["upper"] = float(cand.value.isupper())
        f["ellipsis"] = float(cand.value.endswith(("...", "…")))
        f["question"] = float(cand.value.endswith("?"))
        _shape_features(cand, h1_key, keys)
        kinds = {
            "h1": bool(f.get("src_h1_raw")),
            "title_raw": bool(f.get("src_title_raw")),
            "title_part": bool(f.get("src_title_cut") or f.get("src_title_first")),
            "og_raw": bool(f.get("src_og_raw")),
            "ld_headline": bool(f.get("src_ld_article_headline_raw")),
        }
        for kind, present in kinds.items():
            if present:
                for name, value in context.items():
                    if value:
                        f[f"{kind}&{name}"] = 1.0
                if kind in ("h1", "title_raw"):
                    for name, value in kind_context.items():
                        if value:
                            f[f"{kind}&{name}"] = 1.0
    _visibility_features(candidates, sig)
    for cand in candidates:
        _combination_features(cand)
    return candidates


#: source families of a title (how they group for the combination features) and the variant kinds
_FAMILY = {"twitter": "og", "ld_article_headline": "ldh", "ld_page_headline": "ldh", "ld_other_headline": "ldh",
           "itemprop": "ldh", "itemprop_meta": "ldh", "ld_page_name": "ldp", "ld_article_name": "ldp",
           "ld_other_name": "ldp", "h1_more": "h1", "meta_title": "title"}
_SOURCE_VARIANT = re.compile(r"src_(.+)_(raw|cut|nosite|first|last|longest|but_last)$")


def _combination_features(cand: Candidate) -> None:
    """Which families of sources give the candidate together (h1, <title>, og, JSON-LD headline...,
    whole or a part): one feature for the whole combination and one for each pair, so the ranker can
    weigh "the <h1> that is also the og:title" apart from either alone."""
    families = set()
    for name in cand.features:
        match = _SOURCE_VARIANT.match(name) if name.startswith("src_") else None
        if match:
            source, variant = match.groups()
            families.add(f"{_FAMILY.get(source, source)}.{'raw' if variant == 'raw' else 'part'}")
    combination = sorted(families)
    cand.features["sig=" + "+".join(combination)] = 1.0
    for i, first in enumerate(combination):
        for second in combination[i + 1:]:
            cand.features[f"pair={first}&{second}"] = 1.0


_LONG_WORD = re.compile(r"[^\W\d_]{4,}")


def _shape_features(cand: Candidate, h1_key: str, keys: list[str]) -> None:
    """How the candidate is written and how it relates to the first <h1> and the other candidates."""
    f, key = cand.features, cand.key
    long_words = _LONG_WORD.findall(cand.value)
    if long_words:
        capitalized = sum(w[0].isupper() for w in long_words) / len(long_words)
        f["title_case"] = capitalized
        f["sentence_case"] = float(len(long_words) >= 3 and long_words[0][0].isupper() and capitalized <= 0.5)
    if h1_key and key != h1_key:
        f["extends_h1"] = float(key.startswith(h1_key + " "))
        f["h1_extends"] = float(h1_key.startswith(key + " "))
        f["h1_word_ratio"] = max(-2.0, min(2.0, math.log((len(key.split()) + 1) / (len(h1_key.split()) + 1))))
    near = False
    for other in keys:
        if other != key and abs(len(other) - len(key)) <= max(len(key), len(other)) * 0.3:
            matcher = SequenceMatcher(None, key, other, autojunk=False)
            # quick_ratio() bounds ratio() from above: most pairs are settled without the full match
            if matcher.quick_ratio() >= 0.85 and matcher.ratio() >= 0.85:
                near = True
                break
    f["near_duplicate"] = float(near)


def _visibility_features(candidates: list[Candidate], sig: PageSignals) -> None:
    """Whether the page shows a candidate to its reader: as a sub-heading, or anywhere in its text."""
    sub_keys = {norm_key(h) for h in sig.subheadings}
    text = sig.page_text.casefold()
    for cand in candidates:
        f = cand.features
        f["is_subheading"] = float(cand.key in sub_keys)
        needle = cand.value.casefold()
        count = text.count(needle) if len(needle) >= 3 else 0
        f["shown"] = float(count > 0)
        f["shown_times"] = math.log1p(count)
