"""One page's entities from its spans: mentions, merging, label, salience."""

from __future__ import annotations

import bisect
import re
from collections import Counter

from workers.models import Entity
from workers.stages.entities.acronyms import (
    acronym_letters,
    is_common_noun_abbreviation,
)
from workers.stages.entities.ids import entity_id
from workers.stages.entities.labels import country_vote
from workers.stages.entities.mentions import Mention, page_mentions, title_supported
from workers.stages.entities.merge import Cluster, canonical_name, merge
from workers.stages.entities.ner import RawMention
from workers.stages.entities.stoplist import CALENDAR_WORDS, is_common_word
from workers.stages.entities.teams import team_mentions
from workers.stages.entities.text import Prepared


def _kept(cl: Cluster, text: str) -> bool:
    """A one-word cluster that is a common word, month or weekday is dropped, unless a table names
    it or the page capitalizes it inside a sentence ("reported by the Globe")."""
    letters = {acronym_letters(m.surface) for m in cl.mentions}
    letter = letters.pop() if len(letters) == 1 else None
    if letter is not None and is_common_noun_abbreviation(letter, text):
        return False  # "qualitative military edge (QME)"
    if cl.label or any(m.table for m in cl.mentions) or not is_common_word(cl.key.lstrip("\x00")):
        return True
    if cl.key in CALENDAR_WORDS:
        return False
    if any(_acronym_in_text(m, text) for m in cl.mentions):
        return True  # "HP", "AC" in running text are written as names
    return bool(country_vote(cl.key)) or any(_inside_sentence(m, text) for m in cl.mentions)


def _acronym_in_text(m: Mention, text: str) -> bool:
    """In capitals on a line that is not all in capitals."""
    if not (m.surface.isupper() and len(m.surface) <= 5):
        return False
    line_start = text.rfind("\n", 0, m.start) + 1
    line_end = text.find("\n", m.end)
    return any(c.islower() for c in text[line_start:line_end if line_end >= 0 else len(text)])


def _inside_sentence(m: Mention, text: str) -> bool:
    """Written in title case after a word of the same sentence (case then says it is a name)."""
    if not m.surface[:1].isupper() or m.surface.isupper():
        return False
    before = text[max(0, m.start - 40):m.start].rstrip(" \t\"'“‘(")
    return bool(before) and before[-1].isalnum() and "\n" not in text[max(0, m.start - 2):m.start]


_CAPITALS_LINE = re.compile(r"^[^a-z\d\n]*[A-Z][^a-z\d\n]*$", re.MULTILINE)


def _within(spans: list[tuple[int, int]], position: int) -> bool:
    """Whether ``position`` falls inside one of ``spans`` (sorted, not overlapping)."""
    j = bisect.bisect_right(spans, (position, float("inf"))) - 1
    return j >= 0 and position < spans[j][1]


def _supported_outside_capitals(mentions: list[Mention], prep: Prepared) -> list[Mention]:
    """A mention on a body line written in capitals that reads as a heading (two words or more,
    no figures: a teaser, "WILL OBAMA PLAY ...") counts only when the same name is also mentioned
    outside such lines, as a title mention needs the body."""
    lines = [(m.start(), m.end()) for m in _CAPITALS_LINE.finditer(prep.text, prep.body_start)
             if len(m.group().split()) >= 2]
    if not lines:
        return mentions
    inside = [_within(lines, m.start) for m in mentions]
    outside_keys = {m.key for m, i in zip(mentions, inside, strict=True) if not i}
    return [m for m, i in zip(mentions, inside, strict=True) if not i or m.key in outside_keys or m.table]


#: A list item that is no sentence: "* Safety officials urge Boeing to redesign part on 737s".
LIST_PAGE_SHARE = 1 / 3
_LINK_ITEM = re.compile(r"^[ \t]*[*•▪►][ \t]+(?P<item>.*?)[ \t]*$", re.MULTILINE)


def _named_outside_link_items(clusters: list[Cluster], prep: Prepared) -> list[Cluster]:
    """A cluster named only on bulleted lines that do not end like a sentence (lists of related
    links and teasers) is dropped; a name of the article is written in its text as well. On a page
    whose text is mostly lists (``LIST_PAGE_SHARE`` of its words or more) the lists are the article."""
    bullets = list(_LINK_ITEM.finditer(prep.text, prep.body_start))
    if not bullets:
        return clusters
    body_words = len(prep.text[prep.body_start:].split())
    if sum(len(m.group("item").split()) for m in bullets) >= LIST_PAGE_SHARE * body_words:
        return clusters
    items = [(m.start(), m.end()) for m in bullets
             if m.group("item").rstrip("\"'”’)")[-1:] not in (".", "!", "?", "")]
    if not items:
        return clusters
    return [cl for cl in clusters
            if any(m.table or (m.start >= prep.body_start and not _within(items, m.start)) for m in cl.mentions)]


def entities_from_mentions(prep: Prepared, raw: list[RawMention]) -> list[Entity]:
    mentions = _supported_outside_capitals([m for m in page_mentions(prep, raw) if title_supported(m, prep)], prep)
    if not mentions:
        return []
    clusters = _named_outside_link_items(
        [cl for cl in merge(team_mentions(mentions, prep), prep.tags, prep.text) if _kept(cl, prep.text)], prep)
    if not clusters:
        return []
    max_count = max(len(c.mentions) for c in clusters)
    n_paras = max(1, len(prep.para_starts))
    entities: list[tuple[float, int, int, Entity]] = []
    for cl in clusters:
        label = cl.majority()
        name = canonical_name(cl)
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
        entity = Entity(id=entity_id(label, name, cl.key), name=name, label=label, count=count,
                        salience=salience, aliases=aliases)
        entities.append((salience, count, -first_pos, entity))
    entities.sort(key=lambda t: (-t[0], -t[1], -t[2]))
    # two clusters can still end up with the same id (a tag spelling, "Beograd" and "Belgrade"):
    # fold them into the more salient one
    out: dict[str, Entity] = {}
    for _, _, _, ent in entities:
        k = ent.id
        if k in out:
            prev = out[k]
            extra = [a for a in [ent.name, *ent.aliases] if a not in prev.aliases and a != prev.name]
            out[k] = prev.model_copy(update={"count": prev.count + ent.count,
                                             "aliases": prev.aliases + extra})
        else:
            out[k] = ent
    return list(out.values())
