"""gleaner parse: offline, no services."""

import json

import pytest
from typer.testing import CliRunner

from workers.cli import app

pytestmark = pytest.mark.unit


def test_parse_prints_one_json_object_per_page(tmp_path, example_page):
    (tmp_path / "png.html").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100))
    result = CliRunner().invoke(app, ["parse", str(example_page), str(tmp_path)])
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert result.exit_code == 1  # one page failed
    page = next(line for line in lines if line.get("source") == str(example_page))
    assert page["title"].startswith("Gantz in US talks")
    assert page["body"].startswith("Defense Minister Benny Gantz") and page["language"] == "en"
    assert page["authors"] and page["authors"][0].lower() == "celia jean"
