"""Enrich stage: the article's named entities, one canonical entity per real thing, by salience.

Pure package: plain data in, plain data out; the only I/O is loading the spaCy model (``ner``).

For one page (``extract_entities_batch`` does many at once through one ``nlp.pipe``):

1. ``text``: title + blank line + body, capped at ``MAX_TEXT_CHARS`` (or ``max_chars``); body lines
   that are page furniture (credits, captions, bylines, share buttons) are marked. A page whose
   declared language is not the model's gets no entities.
2. ``ner``: spaCy NER on the title (a text of its own) and on body chunks of at most
   ``CHUNK_CHARS`` cut on paragraph boundaries, inside ``nlp.memory_zone()``.
3. ``mentions``: spans with labels PERSON, ORG, GPE, LOC are cleaned and repaired, junk and
   furniture mentions are dropped, a title mention is kept only when the body writes it too.
   ``teams``: in a results report, a place standing for the page's team of that place is the team.
4. ``merge``: mentions grouped into one cluster per real thing (same key, alias data, short forms
   of person names, typos); the label is a vote over the cluster's mentions.
5. ``document``: canonical name, aliases, salience in [0, 1], and a stable ``id`` (``ids``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from workers.models import Entity
from workers.stages.entities.aliases import ACRONYMS
from workers.stages.entities.casing import recase_capitals
from workers.stages.entities.datelines import dateline_mentions
from workers.stages.entities.document import entities_from_mentions
from workers.stages.entities.ner import (
    CHUNK_CHARS,
    LABELS,
    chunk_limit,
    chunks,
    load_ner,
    ner_model_version,
    run_ner,
)
from workers.stages.entities.text import MAX_TEXT_CHARS, EntityInput, Prepared, prepare

if TYPE_CHECKING:  # pragma: no cover
    from spacy.language import Language

__all__ = [
    "CHUNK_CHARS",
    "LABELS",
    "MAX_TEXT_CHARS",
    "EntityInput",
    "extract_entities",
    "extract_entities_batch",
    "load_ner",
    "ner_model_version",
    "split_by_label",
]


def extract_entities(nlp: Language, page: EntityInput, max_chars: int | None = None) -> list[Entity]:
    """Entities of one page, sorted by salience (highest first). See the package docstring."""
    return extract_entities_batch(nlp, [page], batch_size=1, max_chars=max_chars)[0]


def extract_entities_batch(
    nlp: Language, pages: Sequence[EntityInput], batch_size: int = 32, max_chars: int | None = None
) -> list[list[Entity]]:
    """Entities of each page (same order as ``pages``), running NER through one ``nlp.pipe``.

    The title is a text of its own, so a headline never changes how the body's first sentence is
    read. ``max_chars`` caps title + body (default ``MAX_TEXT_CHARS``; the pipeline passes
    ``GLEANER_NER_MAX_CHARS``).
    """
    cap = MAX_TEXT_CHARS if max_chars is None else max(1000, int(max_chars))
    prepared: list[Prepared | None] = [prepare(page, nlp.lang or "", cap) for page in pages]
    jobs: list[tuple[int, int, str]] = []
    limit = chunk_limit(nlp)
    for i, prep in enumerate(prepared):
        if prep is None:
            continue
        model_text = recase_capitals(prep.text, ACRONYMS)
        if prep.has_title:
            jobs.append((i, 0, model_text[:prep.title_end]))
        if prep.body_start < len(prep.text):
            body = model_text[prep.body_start:]
            jobs.extend((i, prep.body_start + off, piece) for off, piece in chunks(body, limit))
    raw = run_ner(nlp, jobs, len(pages), batch_size)
    for i, prep in enumerate(prepared):  # surfaces as the page writes them (not recased)
        if prep is not None:
            raw[i] = [(prep.text[start:end], label, start, end) for _, label, start, end in raw[i]]
            for mention in dateline_mentions(prep.text, prep.body_start):
                if not any(s < mention[3] and mention[2] < e for _, _, s, e in raw[i]):
                    raw[i].append(mention)
    return [[] if prep is None else entities_from_mentions(prep, raw[i]) for i, prep in enumerate(prepared)]


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
