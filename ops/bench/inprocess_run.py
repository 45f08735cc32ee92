#!/usr/bin/env python3
"""One in-process process of the bench's mode (a): what ``gleaner process PART --index`` does, with
its start-up done and reported before the timed part.

    inprocess_run.py PART DOCS WARMUP

Start-up (interpreter, imports, spaCy's model, trafilatura's set-up, the Elasticsearch client and
alias): everything up to printing ``ready``, including one pass over WARMUP (a page or two, not
indexed). Then it waits for a line on stdin and runs, timed: every page of PART parsed, enriched
(``nlp.pipe`` over batches of ``GLEANER_NER_BATCH_SIZE``) and assembled by ``workers.offline``,
placed in near-duplicate clusters (``workers.store.near_duplicates.place_in_clusters``, one search and
one Redis script per bulk) and indexed by ``workers.store.elastic.bulk_index`` in bulks of
``GLEANER_INDEX_BATCH_SIZE`` with the workers' clients, as ``gleaner process --index`` does. Each document is written to DOCS as a JSON line
(orjson; the bench's index comparisons read them), where ``gleaner process`` prints it. Ends with
``done SECONDS PAGES FAILED`` (SECONDS: the timed part, ``time.monotonic``).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path[:0] = [p for p in (str(Path(__file__).resolve().parents[2]),) if p not in sys.path]


def main() -> int:
    part, docs_path, warmup = sys.argv[1:4]
    import orjson

    from workers.config import get_settings
    from workers.offline import PageFailure, ProcessedPage, process_inputs
    from workers.runtime import ensure_index_once, es_client, redis_client
    from workers.store.elastic import bulk_index, index_item
    from workers.store.near_duplicates import place_in_clusters

    settings = get_settings()
    for _ in process_inputs([warmup], settings, batch_size=settings.ner_batch_size):
        pass
    ensure_index_once()
    client = es_client()
    client.info()
    redis_client().ping()
    print("ready", flush=True)
    sys.stdin.readline()

    started = time.monotonic()
    pages = failed = 0
    batch: list[ProcessedPage] = []

    def flush() -> int:
        items = place_in_clusters(client, redis_client(), settings.index_alias,
                                  [index_item(p.doc_id, p.document) for p in batch],
                                  claim_ttl_s=settings.dedup_claim_ttl_s, max_candidates=settings.dedup_candidates)
        results = bulk_index(client, settings.index_alias, items, chunk_size=settings.index_batch_size)
        return sum(1 for r in results if r.outcome in ("rejected", "retry"))

    with open(docs_path, "wb") as out:
        for item in process_inputs([part], settings, batch_size=settings.ner_batch_size):
            pages += 1
            if isinstance(item, PageFailure):
                failed += 1
                continue
            out.write(orjson.dumps(item.document.model_dump(mode="json")) + b"\n")
            batch.append(item)
            if len(batch) >= settings.index_batch_size:
                failed += flush()
                batch = []
        if batch:
            failed += flush()
    print(f"done {time.monotonic() - started:.3f} {pages} {failed}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
