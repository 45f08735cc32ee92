"""What the benchmark scripts share: where the repo and ../shared are, and running a scorer."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def shared_dir() -> Path:
    env = os.environ.get("GLEANER_SHARED_DIR")
    return Path(env).resolve() if env else (REPO.parent / "shared").resolve()


def run_scorer(cmd: list[str], last_line: re.Pattern[str], *, timeout: float,
               env: dict[str, str] | None = None) -> dict[str, str] | str:
    """Run a scorer; the named groups of its last line, or ``"error: ..."``."""
    try:
        res = subprocess.run(cmd, capture_output=True, text=True, cwd=str(REPO), env=env, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired) as err:
        return f"error: {type(err).__name__}"
    lines = res.stdout.strip().splitlines()
    match = last_line.search(lines[-1]) if lines else None
    if res.returncode != 0 or not match:
        tail = (res.stderr.strip().splitlines() or ["no output"])[-1]
        return f"error: {tail[:70]}"
    return match.groupdict()
