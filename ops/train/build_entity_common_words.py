#!/usr/bin/env python3
"""Build the enrich stage's common-word list (workers/stages/entities/data/common_words.tsv).

A capitalized common word at the start of a line, in a heading or in a table ("Attendance",
"Schedule", "Scorer", "Education") is often tagged as a name by the model. This list says how
often each word is written in lowercase INSIDE a sentence (where case carries meaning) in running
text: the gold article bodies of the WCXB and ScrapingHub development pages (web pages of many
sites; no Reuters text). A word seen at least ``MIN_COUNT`` times there, and in English word
frequency lists (wordfreq, Zipf >= ``MIN_ZIPF``), gets a line ``word<TAB>lowercase share<TAB>count``;
the stage drops a one-word mention whose word is lowercase at least ``COMMON_WORD_SHARE`` of the time
(workers/stages/entities/stoplist.py).

    .venv/bin/python ops/train/build_entity_common_words.py   # needs the `data` extra (wordfreq)
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from ops.train.datasets import scrapinghub_pages, wcxb_pages  # noqa: E402

OUT = REPO / "workers" / "stages" / "entities" / "data" / "common_words.tsv"
MIN_COUNT = 5
MIN_ZIPF = 2.5
MIN_SHARE = 0.5  # lines below this are never used; keeps the file small
_WORD = re.compile(r"(?<![\w@./-])[A-Za-z]{2,}(?![\w@/]|\.\w)")
_SENTENCE_END = re.compile(r"(?:^|[.!?:;•|>\-–—\"“”(\[])\s*$")


def main() -> None:
    from wordfreq import zipf_frequency

    lower: Counter[str] = Counter()
    capital: Counter[str] = Counter()
    pages = wcxb_pages() + scrapinghub_pages()
    for page in pages:
        for line in page.gold_body.splitlines():
            for m in _WORD.finditer(line):
                if _SENTENCE_END.search(line[:m.start()]):
                    continue  # start of a line or sentence: case says nothing
                w = m.group()
                # "iPad", "HP": a word written otherwise than in lowercase counts as a name's way
                (lower if w.islower() else capital)[w.lower()] += 1
    rows = []
    for w in set(lower) | set(capital):
        n = lower[w] + capital[w]
        share = lower[w] / n
        if n >= MIN_COUNT and share >= MIN_SHARE and zipf_frequency(w, "en") >= MIN_ZIPF:
            rows.append((w, share, n))
    rows.sort()
    with OUT.open("w", encoding="utf-8") as fh:
        fh.write(f"# word\tlowercase share inside sentences\tcount; {len(pages)} WCXB + ScrapingHub dev gold "
                 "bodies; built by ops/train/build_entity_common_words.py\n")
        for w, share, n in rows:
            fh.write(f"{w}\t{share:.3f}\t{n}\n")
    print(f"{len(rows)} words -> {OUT.relative_to(REPO)}")


if __name__ == "__main__":
    main()
