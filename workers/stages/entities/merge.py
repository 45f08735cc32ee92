"""Merging: the mentions of one page grouped into clusters, one per real thing."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from workers.stages.entities import rules
from workers.stages.entities.acronyms import acronym_letters, initials
from workers.stages.entities.aliases import (
    ACRONYMS,
    ALIAS_INDEX,
    AMERICA_CANONICAL,
    OTHER_AMERICAS,
    table_lookup,
)
from workers.stages.entities.casing import recase_capitals
from workers.stages.entities.labels import ORG_WORDS, first_names
from workers.stages.entities.mentions import Mention
from workers.stages.entities.names import (
    NAME_PARTICLES,
    clean_surface,
    edit_distance_le1,
    looks_like_name,
    merge_key,
)
from workers.stages.entities.places import lookup
from workers.stages.entities.stoplist import is_common_word

#: Tie-break order for the label vote (first wins).
LABEL_PRIORITY: dict[str, int] = {"PERSON": 0, "GPE": 1, "ORG": 2, "LOC": 3}
COMPASS_WORDS = frozenset({"north", "south", "east", "west"})


@dataclass
class Cluster:
    key: str
    mentions: list[Mention] = field(default_factory=list)
    name: str | None = None  # fixed canonical name (alias table or tag)
    label: str | None = None  # fixed label (alias table)

    def votes(self) -> Counter[str]:
        """Label votes; a results-table mention weighs ``RULES.table_vote_weight``."""
        weight = rules.RULES.table_vote_weight
        out: Counter[str] = Counter()
        for m in self.mentions:
            out[m.vote] += weight if m.table else 1
        return out

    def majority(self) -> str:
        if self.label:
            return self.label
        votes = self.votes()
        if not votes:
            return "PERSON"
        label = min(votes, key=lambda lab: (-votes[lab], LABEL_PRIORITY[lab]))
        if label == "PERSON" and " " not in self.key and self.key not in first_names():
            place = lookup(self.key)  # "Beograd" alone is the city, not a person
            if place is not None and (place.kind != "city" or place.population >= rules.RULES.person_city_population):
                return "GPE"
        return label

    def display(self) -> str:
        return self.name or self.mentions[0].name


def _person_like(cl: Cluster) -> bool:
    """A multi-word cluster that reads as a person's full name."""
    toks = cl.key.split()
    return (
        not cl.label
        and 2 <= len(toks) <= 5
        and cl.majority() == "PERSON"
        and all(t.isalpha() for t in toks)
        and looks_like_name(cl.display(), max_tokens=5)
    )


def _absorb(dest: Cluster, src: Cluster, vote: str | None = None) -> None:
    for m in src.mentions:
        if vote:
            m.vote = vote
    dest.mentions.extend(src.mentions)
    if dest.name is None and src.name and " " in src.name:
        dest.name = src.name


def merge(mentions: list[Mention], tags: Sequence[str], text: str = "") -> list[Cluster]:
    """Group mentions of one document into clusters, one per real thing (``text``: the page text
    the mentions' offsets point into, for names given in brackets)."""
    clusters: dict[str, Cluster] = {}
    other_americas = any(m.key in OTHER_AMERICAS for m in mentions)

    # 1. same key, or same entry of the alias table
    for m in mentions:
        hit = table_lookup(m.name, m.key)
        if hit is None and m.key == "america" and m.label in ("GPE", "LOC") and not other_americas:
            hit = (AMERICA_CANONICAL, "GPE")
        if hit is not None:
            canonical, label = hit
            ckey = "\x00" + canonical  # table entries never collide with plain keys
            cl = clusters.setdefault(ckey, Cluster(ckey, name=canonical, label=label))
        else:
            cl = clusters.setdefault(m.key, Cluster(m.key))
        cl.mentions.append(m)

    # 2. tags: an exact match gives the canonical spelling; a name-like tag is a full-name
    #    candidate for short forms (it never creates an entity by itself)
    tag_names: dict[str, str] = {}
    for tag in tags:
        tag = clean_surface(tag)
        tkey = merge_key(tag)
        if not tkey:
            continue
        tagged = clusters.get(tkey)
        if tagged is not None:
            if tagged.name is None and not tag.islower():  # "lexus lc convertible" is no spelling
                tagged.name = tag
        elif looks_like_name(tag) and all(t.isalpha() for t in tkey.split()):
            tag_names.setdefault(tkey, tag)

    _persons_by_surname(clusters)

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
    #    document (or the tags) ends with it; a first name only when spaCy calls it a PERSON.
    #    Of two full names with the surname, one named by its first name alone elsewhere is not the
    #    one the surname stands for ("Yeltsin visited his wife Naina": Boris, not Naina Yeltsin).
    alone = {k for k in clusters if " " not in k}
    for key in list(clusters):
        cl = clusters[key]
        if cl.label or " " in key or not key.isalpha():
            continue
        votes = cl.votes()
        placey = votes.get("GPE", 0) + votes.get("LOC", 0) > votes.get("PERSON", 0) + votes.get("ORG", 0)
        if placey and (any(m.place_context for m in cl.mentions) or key in ALIAS_INDEX):
            continue  # "in Austin" is the city, not Lloyd Austin
        by_last = {k for k in full_names if k.split()[-1] == key}
        tag_last = {k for k in tag_names if k.split()[-1] == key}
        target: str | None = None
        if len(by_last) > 1 and not tag_last:
            by_last = {k for k in by_last if k.split()[0] not in alone} or by_last
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
            dest = clusters[target] = Cluster(target, name=tag_names[target])
        _absorb(dest, clusters.pop(key), vote="PERSON")

    _merge_person_parts(clusters, full_names)
    _merge_surname_variants(clusters, full_names)
    _merge_compass_short_forms(clusters)
    _merge_singulars(clusters)
    _merge_org_parts(clusters)
    _merge_bracketed_names(clusters, text)
    _merge_acronyms(clusters)

    # 5. typos: edit distance 1 against a bigger cluster of the same label, keys >= 8 chars
    merged: list[Cluster] = []
    for cl in sorted(clusters.values(), key=lambda c: (-len(c.mentions), c.key)):
        plain = cl.key.lstrip("\x00").casefold()
        label = cl.majority()
        target_cl = None
        if len(plain) >= 8 and not cl.label and not any(c.isdigit() for c in plain):  # Interstate 5 / 95
            for big in merged:
                bkey = big.key.lstrip("\x00").casefold()
                if (len(bkey) >= 8 and big.majority() == label and edit_distance_le1(plain, bkey)
                        and not _other_initial(plain, bkey)):
                    target_cl = big
                    break
        if target_cl is None:
            merged.append(cl)
        else:
            target_cl.mentions.extend(cl.mentions)
    return merged


def _other_initial(a: str, b: str) -> bool:
    """"D. Bicknell" and "M. Bicknell": one edit apart, but a different initial is a different
    person (brothers, in a scorecard), not a typo."""
    ta, tb = a.split(), b.split()
    return len(ta) >= 2 and len(tb) >= 2 and len(ta[0]) == len(tb[0]) == 1 and ta[0] != tb[0]


def _merge_singulars(clusters: dict[str, Cluster]) -> None:
    """A one-word singular into its plural name of the page, whatever the model called it
    ("Springbok scrum-half" of the Springboks); never a place ("Wale" is no "Wales")."""
    for key in list(clusters):
        cl = clusters.get(key)
        plural = clusters.get(key + "s")
        if cl is None or plural is None or cl.label or plural.label or " " in key or len(key) < 5:
            continue
        if lookup(key) is not None or lookup(key + "s") is not None:
            continue
        _absorb(plural, clusters.pop(key), vote=plural.majority())


def _persons_by_surname(clusters: dict[str, Cluster]) -> None:
    """A name of two or three plain words the model did not call a person ("Mihai Tararache" as
    ORG) is one when its last word stands alone as a person elsewhere on the page and nothing in
    it says organization or place."""
    alone = {k for k, c in clusters.items() if " " not in k and not c.label and c.majority() == "PERSON"}
    if not alone:
        return
    for key, cl in clusters.items():
        toks = key.split()
        if cl.label or not 2 <= len(toks) <= 3 or toks[-1] not in alone or cl.majority() == "PERSON":
            continue
        if any(t in ORG_WORDS for t in toks) or lookup(key) is not None or lookup(toks[0]) is not None:
            continue
        if not looks_like_name(cl.display(), max_tokens=3) or any(m.table for m in cl.mentions):
            continue
        for m in cl.mentions:
            m.vote = "PERSON"


def _merge_person_parts(clusters: dict[str, Cluster], full_names: set[str]) -> None:
    """"Van Moer" -> "Wilfried Van Moer" (a multi-word surname), "Wang" -> "Wang Donghai" and
    "Megawati" -> "Megawati Sukarnoputri" (a first word that is no common first name)."""
    full = {k for k in full_names if k in clusters}
    for key in list(clusters):
        cl = clusters.get(key)
        toks = key.split()
        if cl is None or cl.label or (key in full and toks[0] not in NAME_PARTICLES):
            continue  # "Van Moer" is the surname of "Wilfried Van Moer", not a name of its own
        place = lookup(key)
        if place is not None and cl.majority() not in ("PERSON", "ORG") and not _alias_only(cl):
            continue
        if len(toks) >= 2:
            targets = {k for k in full if k != key and k.endswith(" " + key)}
        elif key.isalpha() and key not in first_names() and (place is None or _alias_only(cl)):
            targets = {k for k in full if k.split()[0] == key}
        else:
            continue
        if len(targets) == 1:
            _absorb(clusters[next(iter(targets))], clusters.pop(key), vote="PERSON")


def _alias_only(cl: Cluster) -> bool:
    """The place data knows the word only as another spelling of a different name ("Chen" for
    Chenzhou) and no mention stands where places stand ("in ..."): a person's name may win."""
    place = lookup(cl.key)
    return (place is not None and merge_key(place.name) != cl.key
            and not any(m.place_context for m in cl.mentions))


def _merge_surname_variants(clusters: dict[str, Cluster], full_names: set[str]) -> None:
    """A one-word name one edit away from the surname of exactly one full person name of the page
    ("Levrentyeva" for "Olga Lavrentyeva"), and no place of its own."""
    surnames: dict[str, set[str]] = {}
    for k in full_names:
        if k in clusters:
            surnames.setdefault(k.split()[-1], set()).add(k)
    for key in list(clusters):
        cl = clusters.get(key)
        if cl is None or cl.label or " " in key or len(key) < 8 or not key.isalpha() or key in surnames:
            continue
        if lookup(key) is not None or is_common_word(key):
            continue
        targets = {k for last, ks in surnames.items() if len(last) >= 8 and edit_distance_le1(key, last) for k in ks}
        if len(targets) == 1:
            _absorb(clusters[next(iter(targets))], clusters.pop(key), vote="PERSON")


def _merge_compass_short_forms(clusters: dict[str, Cluster]) -> None:
    """"the North" for the only "North ..." place of the page (North Korea), likewise South, East, West."""
    for key in COMPASS_WORDS & clusters.keys():
        cl = clusters[key]
        if cl.label or cl.majority() not in ("GPE", "LOC"):
            continue
        targets = {k for k, c in clusters.items() if k.lstrip("\x00").casefold().startswith(key + " ")
                   and len(k.split()) == 2 and c.majority() in ("GPE", "LOC")}
        if len(targets) == 1:
            _absorb(clusters[next(iter(targets))], clusters.pop(key))


def _merge_org_parts(clusters: dict[str, Cluster]) -> None:
    """An organization named by part of exactly one longer organization name of the page:
    its start ("Pirelli" -> "Pirelli Cables"; a place only when a results table calls it a team:
    "Boston" -> "Boston Red Sox", never "Dhaka" -> "Dhaka Stock Exchange"), or what follows a
    place ("Eagles" -> "Philadelphia Eagles"; "Stirling" is no "East Stirling")."""
    orgs = [k for k, c in clusters.items() if not c.label and c.majority() == "ORG" and " " in k]
    for key in list(clusters):
        cl = clusters.get(key)
        if cl is None or cl.label or cl.majority() == "PERSON":
            continue
        is_place = lookup(key) is not None
        team = any(m.table for m in cl.mentions)
        as_start = cl.majority() == "ORG" and (not is_place or team) and not is_common_word(key)
        targets = set()
        for k in orgs:
            if k == key or k not in clusters or len(k.split()) <= len(key.split()):
                continue
            if as_start and k.startswith(key + " "):
                targets.add(k)
            elif not is_place and k.endswith(" " + key) and lookup(k[:-len(key) - 1]) is not None:
                targets.add(k)
        if len(targets) == 1:
            # a geographic name after a place keeps its votes: "the Gulf" of the "U.S. Gulf" is no company
            vote = None if not as_start and cl.majority() == "LOC" else "ORG"
            _absorb(clusters[next(iter(targets))], clusters.pop(key), vote=vote)


_OPEN_BRACKET = re.compile(r"[ \t]*\([ \t]*(?:the[ \t]+)?", re.IGNORECASE)
_CLOSE_BRACKET = re.compile(r"[ \t]*\)")


def _merge_bracketed_names(clusters: dict[str, Cluster], text: str) -> None:
    """An organization's other name given in brackets right after it is the same organization:
    "The Party of Democratic Action (SDA)", "Hizbollah (Party of God)". Only when the brackets
    hold that name alone and both sides are organizations that are not places: "Barcelona
    (Spain)" and "Tony Rominger (Switzerland)" name two things, as do people, whose brackets hold
    their team, country or substitute in lists."""
    if "(" not in text:
        return
    ordered = sorted((m for c in clusters.values() for m in c.mentions), key=lambda m: m.start)
    pairs = [(a, b) for a, b in zip(ordered, ordered[1:], strict=False)
             if a.end <= b.start and not (a.table or b.table)
             and _OPEN_BRACKET.fullmatch(text, a.end, b.start) and _CLOSE_BRACKET.match(text, b.end)]
    for a, b in pairs:
        owner = {id(m): k for k, c in clusters.items() for m in c.mentions}
        ka, kb = owner.get(id(a)), owner.get(id(b))
        if ka is None or kb is None or ka == kb or clusters[ka].label or clusters[kb].label:
            continue
        if clusters[ka].majority() != "ORG" or clusters[kb].majority() != "ORG":
            continue
        if lookup(ka) is not None or lookup(kb) is not None:
            continue
        _absorb(clusters[ka], clusters.pop(kb))


def _merge_acronyms(clusters: dict[str, Cluster]) -> None:
    """An acronym into the only multi-word name of the page whose initials it spells ("NFL"), else
    whose initials it holds in another order (a name translated from another language)."""
    spelled: dict[str, set[str]] = {}
    for k, c in clusters.items():
        if " " in k.lstrip("\x00") and c.majority() != "PERSON":
            for form in {m.name for m in c.mentions} | ({c.name} if c.name else set()):
                for acr in initials(form):
                    spelled.setdefault(acr, set()).add(k)
    for key in list(clusters):
        cl = clusters.get(key)
        if cl is None or cl.label:
            continue
        letters = {acronym_letters(m.name) for m in cl.mentions}
        letter = letters.pop() if len(letters) == 1 else None
        if letter is None:
            continue
        targets = {k for k in spelled.get(letter, set()) if k in clusters and k != key}
        if not targets and len(letter) >= 3:
            # a name translated with its words in another order: "PDI" (Partai Demokrasi Indonesia)
            # is the Indonesian Democratic Party, "FARC" the Revolutionary Armed Forces of Colombia
            targets = {k for acr, ks in spelled.items() if len(acr) == len(letter) and sorted(acr) == sorted(letter)
                       for k in ks if k in clusters and k != key}
        if len(targets) == 1:
            _absorb(clusters[next(iter(targets))], clusters.pop(key))


def canonical_name(cl: Cluster) -> str:
    """Fixed name (table/tag), else the most frequent name form of the cluster's own key."""
    if cl.name:
        return cl.name
    forms: Counter[str] = Counter(m.name for m in cl.mentions if m.key == cl.key)
    if not forms:
        return cl.mentions[0].name
    first: dict[str, int] = {}
    for m in cl.mentions:
        first.setdefault(m.name, m.start)
    best = max(forms, key=lambda f: (not f.islower(), not f.isupper(), forms[f], len(f), -first[f]))
    place = lookup(cl.key) if best.isupper() else None
    if place is not None and merge_key(place.name) == cl.key:
        return place.name  # "BUCHAREST" -> "Bucharest", "ST LOUIS" -> "St. Louis"
    if best.isupper() and (" " in best or cl.majority() == "PERSON"):
        return recase_capitals(best, ACRONYMS)  # "KEVIN BROWN"; one-word "OPEC" stays
    return best
