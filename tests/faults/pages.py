"""Distinct synthetic news pages for the fault tests (deterministic, no fixtures needed)."""

from __future__ import annotations

import json
import random
import re
from datetime import datetime, timezone
from pathlib import Path

_WORDS = (
    "the council approved a new budget for roads schools and hospitals after a long debate in which "
    "members argued about taxes spending priorities and the future of public transport across the "
    "region while residents gathered outside to ask for cleaner air safer streets and better housing "
    "officials said the plan would create jobs support local business and reduce traffic during the "
    "next five years although critics warned that costs could rise and delays were likely because "
    "contractors had already struggled with earlier projects on bridges tunnels and rail lines"
).split()
_PEOPLE = ("Maria Lopez", "John Carter", "Aiko Tanaka", "Pierre Dubois", "Fatima Khan", "David Cohen",
           "Olga Petrova", "Samuel Okafor", "Li Wei", "Emma Schmidt")
_PLACES = ("Lisbon", "Toronto", "Nairobi", "Osaka", "Lyon", "Haifa", "Krakow", "Denver", "Porto", "Adelaide")
_ORGS = ("the World Bank", "Siemens", "the Red Cross", "Reuters", "the United Nations", "Airbus")


def marker(i: int, tag: str) -> str:
    """The word in page ``i``'s text that no other page has (every fetch of the page has it):
    ``tests/faults/evidence.py`` finds the page by it, wherever it ended."""
    return "zq" + re.sub(r"[^a-z0-9]", "", tag.lower()) + f"{i:06d}qz"


def markers(n: int, tag: str, start: int = 0) -> dict[str, int]:
    """Marker -> page number of pages ``start`` .. ``start + n - 1``."""
    return {marker(i, tag): i for i in range(start, start + n)}


def article(i: int, tag: str, variant: str = "", paragraphs: int = 4) -> tuple[str, str]:
    """(title, html) of page ``i``: a few paragraphs, unique words so every body differs, and the
    page's marker in its first paragraph."""
    rng = random.Random(f"{tag}-{i}-{variant}")
    person, place, org = rng.choice(_PEOPLE), rng.choice(_PLACES), rng.choice(_ORGS)
    title = f"{place} report {tag} {i}{(' ' + variant) if variant else ''}: {person} and {org}"
    paras = []
    for p in range(paragraphs):
        words = [rng.choice(_WORDS) for _ in range(45)]
        ref = f" Reference {marker(i, tag)}." if p == 0 else ""
        paras.append(
            f"{person} said in {place} on day {i} that {' '.join(words)}. {org} confirmed item {tag}-{i}-{p}{variant}.{ref}"
        )
    body = "".join(f"<p>{p}</p>" for p in paras)
    html = (f"<html><head><title>{title}</title></head><body><nav><a href='/'>Home</a></nav>"
            f"<article><h1>{title}</h1>{body}</article><footer>All rights reserved</footer></body></html>")
    return title, html


def url_of(i: int, tag: str) -> str:
    return f"https://faults.example/{tag}/{i}"


def write_jsonl(path: Path, n: int, tag: str, *, fetched_at: datetime | None = None, variant: str = "",
                start: int = 0, paragraphs: int = 4) -> Path:
    fetched_at = fetched_at or datetime(2024, 1, 1, tzinfo=timezone.utc)
    with path.open("w", encoding="utf-8") as fh:
        for i in range(start, start + n):
            _, html = article(i, tag, variant, paragraphs)
            fh.write(json.dumps({"url": url_of(i, tag), "html": html, "fetched_at": fetched_at.isoformat()}) + "\n")
    return path
