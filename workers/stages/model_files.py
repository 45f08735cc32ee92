"""Where a learned component finds its model file.

Each component ships its model beside its code (``workers/stages/<package>/model/<name>``).
A model folder given at run time (``GLEANER_MODEL_DIR``, passed down by the runner) replaces any
shipped file of the same name: cross-validation runs the parse stage of fold ``k`` with the models
trained without fold ``k``. Model file names are unique across components.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["model_path"]


def model_path(name: str, shipped_dir: Path, override_dir: Path | None = None) -> Path:
    """``override_dir/name`` when that file exists, else the shipped ``shipped_dir/name``."""
    if override_dir is not None:
        candidate = Path(override_dir) / name
        if candidate.is_file():
            return candidate
    return Path(shipped_dir) / name
