"""Datelines: the place a news story was filed from ("COLOMBO 1996-08-30", "WASHINGTON (Reuters) -",
"ARLINGTON, Texas 1996-08-31"), which the small model rarely tags. A dateline is the body's
first line or the start of its first paragraph: a place in capitals (and an optional region),
then a date, a wire-agency credit or a dash. Only names the place data knows become mentions.
"""

from __future__ import annotations

import re

from workers.stages.entities.names import merge_key
from workers.stages.entities.ner import RawMention
from workers.stages.entities.places import lookup

__all__ = ["dateline_mentions"]

_MONTH = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\.?\s+\d"
_DATELINE = re.compile(
    r"(?P<place>[A-Z][A-Z'’.\-]*(?:\s[A-Z][A-Z'’.\-]*){0,3})"
    r"(?:,\s(?P<region>[A-Z][A-Za-z.]*(?:\s[A-Z][A-Za-z.]*)?))?"
    r"(?=\s*(?:\d{4}-\d{2}-\d{2}|\([A-Z][\w ]{1,20}\)|[-–—]\s|,\s*" + _MONTH + r"|" + _MONTH + r"))",
)


def _known(name: str) -> bool:
    return len(name.replace(".", "")) >= 2 and lookup(merge_key(name)) is not None


def dateline_mentions(text: str, body_start: int) -> list[RawMention]:
    """GPE mentions of the dateline at the start of the body, if it has one."""
    start = body_start
    while start < len(text) and text[start].isspace():
        start += 1
    line_end = text.find("\n", start)
    line = text[start:line_end if line_end >= 0 else len(text)]
    m = _DATELINE.match(line)
    if m is None or not _known(m.group("place")):
        return []
    out: list[RawMention] = [(m.group("place"), "GPE", start + m.start("place"), start + m.end("place"))]
    region = m.group("region")
    if region and _known(region):
        out.append((region, "GPE", start + m.start("region"), start + m.end("region")))
    return out
