"""Stable entity ids: the same thing gets the same id on every page.

Places (GPE, LOC) named in the place data get its external id: ``iso3166:FR`` (ISO 3166-1 country),
``iso3166-2:GB-ENG`` / ``iso3166-2:US-CA`` (UK nation, state, province), ``iso3166-3:YUCS`` (former
country), ``geonames:2988507`` (continent or city, GeoNames). Every other entity gets an id made
from its label and merge key: ``person:benny-gantz``, ``org:white-house``, ``place:middle-east``
(case, accents, a leading "the", honorifics, company suffixes and punctuation do not change it).
"""

from __future__ import annotations

import re

from workers.stages.entities.names import merge_key
from workers.stages.entities.places import lookup

__all__ = ["EXTERNAL_PREFIXES", "entity_id"]

EXTERNAL_PREFIXES = ("iso3166:", "iso3166-2:", "iso3166-3:", "geonames:")
_KIND = {"PERSON": "person", "ORG": "org", "GPE": "place", "LOC": "place"}


def entity_id(label: str, name: str, key: str | None = None) -> str:
    """External id of a known place, else ``<person|org|place>:<slug of the merge key>``."""
    key = (key or "").lstrip("\x00") or merge_key(name)
    if label in ("GPE", "LOC"):
        for k in dict.fromkeys((key, merge_key(name))):
            place = lookup(k)
            if place is not None:
                return place.id
    slug = re.sub(r"[^\w]+", "-", merge_key(name) or key, flags=re.UNICODE).strip("-") or "unnamed"
    return f"{_KIND.get(label, 'other')}:{slug}"
