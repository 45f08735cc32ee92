from pathlib import Path

import pytest

from workers.stages.model_files import model_path

pytestmark = pytest.mark.unit


def test_a_model_in_the_override_folder_replaces_the_shipped_one(tmp_path: Path) -> None:
    shipped, override = tmp_path / "shipped", tmp_path / "fold-2"
    shipped.mkdir()
    override.mkdir()
    (shipped / "a.txt").write_text("shipped")
    (override / "a.txt").write_text("fold")
    assert model_path("a.txt", shipped, override).read_text() == "fold"


def test_the_shipped_model_is_used_when_the_override_folder_lacks_it(tmp_path: Path) -> None:
    (tmp_path / "b.txt").write_text("shipped")
    assert model_path("b.txt", tmp_path, tmp_path / "missing").read_text() == "shipped"
    assert model_path("b.txt", tmp_path, None).read_text() == "shipped"
