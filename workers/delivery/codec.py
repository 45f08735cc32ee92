"""kombu's JSON, written by orjson: 5-10x faster than the standard library on bundles of pages.

What orjson does not write itself (datetimes, bytes and kombu's other tagged types) goes through
kombu's encoder, so the output reads back exactly as kombu's own ``json`` serializer's would
(UUIDs excepted: plain strings). Reading stays kombu's. Used for task bodies (the
``gleaner-json`` serializer, content type ``application/json``) and for the envelope the Redis
transport stores.
"""

from __future__ import annotations

import orjson
from kombu.utils import json as kombu_json

_KOMBU_JSON = kombu_json.JSONEncoder()


def dumps_bytes(obj: object) -> bytes:
    return orjson.dumps(obj, default=_KOMBU_JSON.default, option=orjson.OPT_PASSTHROUGH_DATETIME)


def dumps(obj: object) -> str:
    return dumps_bytes(obj).decode()


loads = kombu_json.loads
