"""kombu's JSON written and read by orjson (``workers/delivery/codec.py``)."""

from datetime import datetime, timezone

import pytest
from kombu.utils import json as kombu_json

from workers.delivery import codec

pytestmark = pytest.mark.unit


def test_codec_reads_what_kombu_reads():
    for value in ({"a": [1, 2.5, None, True, "é"], "b": {"c": "d"}},
                  {"at": datetime(2024, 1, 1, tzinfo=timezone.utc)}, [b"raw bytes"]):
        text = codec.dumps(value)
        assert codec.loads(text) == codec.loads(text.encode()) == kombu_json.loads(text)
    assert codec.loads('"\\ud800"') == "\ud800", "what orjson refuses, kombu's reader reads"
    assert codec.loads(memoryview(b'{"x": 1}')) == {"x": 1}
