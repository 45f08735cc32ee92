#!/usr/bin/env python3
"""Build the enrich stage's first-name list (workers/stages/entities/data/first_names.txt).

Source: the ``names`` package (MIT), which ships the US Census 1990 first-name frequency lists
(``dist.male.first``, ``dist.female.first``; public-domain data). No text of any evaluation set.
One lowercase name a line.

    .venv/bin/python ops/train/build_entity_first_names.py   # needs: pip install names==0.3.0
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
OUT = REPO / "workers" / "stages" / "entities" / "data" / "first_names.txt"


def main() -> None:
    import names

    folder = Path(names.__file__).resolve().parent
    found: set[str] = set()
    for fname in ("dist.male.first", "dist.female.first"):
        for line in (folder / fname).read_text(encoding="ascii").splitlines():
            if line.strip():
                found.add(line.split()[0].lower())
    kept = sorted(n for n in found if len(n) >= 2)
    OUT.write_text("# first names, US Census 1990 via the `names` package; built by "
                   "ops/train/build_entity_first_names.py\n" + "\n".join(kept) + "\n", encoding="utf-8")
    print(f"{len(kept)} names -> {OUT.relative_to(REPO)}")


if __name__ == "__main__":
    main()
