"""What the ingest-time near-duplicate lookup costs (``make bench-dedup-store``): the basis of the
figures in ``ops/COST.md``.

Against the running stack (``GLEANER_ES_URL``, ``GLEANER_REDIS_URL``; an alias of its own, deleted
at the end):

1. Index size: ``--docs`` documents carrying only the near-duplicate fields (``cluster_id``, one in
   ten a ``duplicate_of``, ``dedup``: 32 band keys, signature, shingle count), and the same documents
   without ``dedup``; both force-merged to one segment. The difference is what the fields cost per
   document, ``_source`` included; ``_disk_usage`` splits it by field. Band keys of distinct texts
   are as good as random strings: the documents get random ones of the real format, and a few
   thousand get the real keys of generated stories, for the lookups to find.
2. Lookups: ``assign_clusters`` on batches of ``--batch`` documents (one in five a copy of an
   indexed story): wall time of its Elasticsearch request and of its Redis script, client CPU.
3. Redis: memory held by the claims of one document, the script's time per call (``INFO
   commandstats``).
"""

from __future__ import annotations

import argparse
import base64
import os
import random
import resource
import statistics
import sys
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from elasticsearch import helpers  # noqa: E402

from workers.config import get_settings  # noqa: E402
from workers.runtime import es_client, redis_client  # noqa: E402
from workers.stages import near_duplicates as nd  # noqa: E402
from workers.store.elastic import ensure_index  # noqa: E402
from workers.store.near_duplicates import KEY_PREFIX, assign_clusters, forget_claims  # noqa: E402

VOCAB = [f"w{i}" for i in range(30_000)]


def story(seed: int, words: int = 600) -> str:
    rng = random.Random(seed)
    return " ".join(rng.choice(VOCAB) for _ in range(words))


def random_doc(rng: random.Random) -> dict:
    bands = [f"{i:02d}{rng.getrandbits(48):012x}" for i in range(nd.BANDS)]
    doc = {"cluster_id": f"{rng.getrandbits(128):032x}",
           "dedup": {"bands": bands, "signature": base64.b64encode(rng.randbytes(nd.NUM_PERM)).decode(),
                     "shingles": rng.randrange(50, 3000)}}
    if rng.random() < 0.1:
        doc["duplicate_of"] = f"{rng.getrandbits(128):032x}"
    return doc


def real_doc(seed: int) -> dict:
    keys = nd.fingerprint(story(seed))
    return {"cluster_id": nd.new_cluster_id(f"story-{seed}", keys), "dedup": keys.stored()}


def fill(es, index: str, docs: int, real: int, with_dedup: bool) -> None:
    rng = random.Random(7)

    def actions():
        for i in range(docs):
            doc = real_doc(i) if i < real else random_doc(rng)
            if not with_dedup:
                doc.pop("dedup")
            yield {"_index": index, "_id": f"story-{i}" if i < real else f"doc-{i}", "_source": doc}
    helpers.bulk(es, actions(), chunk_size=2000, request_timeout=120)
    es.indices.refresh(index=index)
    es.indices.forcemerge(index=index, max_num_segments=1, request_timeout=600)


def store_bytes(es, index: str) -> int:
    return int(es.indices.stats(index=index, metric="store")["indices"][index]["primaries"]["store"]["size_in_bytes"])


def field_usage(es, index: str) -> dict[str, int]:
    usage = es.options(request_timeout=600).indices.disk_usage(index=index, run_expensive_tasks=True)[index]
    return {name: int(f["total_in_bytes"]) for name, f in usage["fields"].items()}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--docs", type=int, default=200_000)
    ap.add_argument("--real", type=int, default=5_000, help="documents with the real keys of generated stories")
    ap.add_argument("--batch", type=int, default=500, help="documents per lookup (a bulk batch)")
    ap.add_argument("--batches", type=int, default=10)
    args = ap.parse_args()

    settings = get_settings()
    es, r = es_client(), redis_client()
    alias = f"dedup-cost-{uuid.uuid4().hex[:6]}"
    bare = f"{alias}-bare"
    print(f"stack: {settings.es_url}, {settings.redis_url}; alias {alias}")
    try:
        ensure_index(es, alias)
        index = f"{alias}-000001"
        mappings = es.indices.get_mapping(index=index)[index]["mappings"]
        es.indices.create(index=bare, mappings=mappings)
        t0 = time.time()
        fill(es, index, args.docs, args.real, True)
        fill(es, bare, args.docs, args.real, False)
        with_d, without = store_bytes(es, index), store_bytes(es, bare)
        fields = field_usage(es, index)
        print(f"\nindex of {args.docs:,} documents, one segment (filled in {time.time() - t0:.0f} s): "
              f"{with_d / args.docs:.0f} bytes/doc with dedup, {without / args.docs:.0f} without: "
              f"dedup costs {(with_d - without) / args.docs:.0f} bytes/doc, {(with_d - without) / args.docs * 1e8 / 2**30:.1f} GiB "
              "per 100 million documents")
        for name in ("dedup.bands", "cluster_id", "duplicate_of", "_source", "_id"):
            if name in fields:
                print(f"  {name:<16} {fields[name] / args.docs:>7.1f} bytes/doc")

        forget_claims(r, alias)
        rng = random.Random(11)
        took, eval_ms, cpu_ms, found = [], [], [], 0
        r.config_resetstat()
        mem0 = int(r.info("memory")["used_memory"])
        claimed = 0
        for b in range(args.batches):
            batch = []
            for i in range(args.batch):
                if rng.random() < 0.2:
                    s = rng.randrange(args.real)
                    batch.append((f"copy-{b}-{i}", nd.fingerprint("Menu Home News " + story(s) + " Share")))
                else:
                    batch.append((f"new-{b}-{i}", nd.fingerprint(story(10_000_000 + b * args.batch + i))))
            timer = _Timer(es, r)
            c0 = resource.getrusage(resource.RUSAGE_SELF)
            decisions = assign_clusters(timer.es, timer.redis, alias, batch)
            c1 = resource.getrusage(resource.RUSAGE_SELF)
            claimed += len(batch)
            took.append(timer.es_ms)
            eval_ms.append(timer.redis_ms)
            cpu_ms.append((c1.ru_utime + c1.ru_stime - c0.ru_utime - c0.ru_stime) * 1000)
            found += sum(1 for d in decisions.values() if d.matched)
        mem1 = int(r.info("memory")["used_memory"])
        fields = sum(r.hlen(k) for k in r.scan_iter(match=f"{KEY_PREFIX}{alias}:*", count=5000))
        stats = r.info("commandstats").get("cmdstat_evalsha", {})
        print(f"\nlookups: {args.batches} batches of {args.batch} against {args.docs:,} documents "
              f"({found} of {args.batches * args.batch} placed in an existing cluster)")
        print(f"  Elasticsearch search: median {statistics.median(took):.0f} ms per batch "
              f"({statistics.median(took) / args.batch:.2f} ms per document)")
        print(f"  Redis script: median {statistics.median(eval_ms):.1f} ms per batch; Redis's own time "
              f"{stats.get('usec_per_call', 0) / 1000:.1f} ms per call ({stats.get('usec_per_call', 0) / args.batch:.0f} us per document)")
        print(f"  client CPU (request building, decisions, fingerprints excluded): median "
              f"{statistics.median(cpu_ms) / args.batch:.3f} ms per document")
        print(f"  Redis memory of the claims: {(mem1 - mem0) / claimed:.0f} bytes per document "
              f"({fields / claimed:.1f} hash fields per document)")
        print("(indicative: shared machine)")
    finally:
        for name in es.indices.get(index=f"{alias}-*"):
            es.indices.delete(index=name)
        es.options(ignore_status=404).indices.delete_index_template(name=f"gleaner-{alias}")
        forget_claims(r, alias)
    return 0


class _Timer:
    """The clients, timing the one request each makes."""

    def __init__(self, es, redis_client) -> None:
        self.es_ms = self.redis_ms = 0.0
        timer = self

        class ES:
            def __getattr__(self, name):
                return getattr(es, name)

            def search(self, **kwargs):
                t = time.perf_counter()
                try:
                    return es.search(**kwargs)
                finally:
                    timer.es_ms += (time.perf_counter() - t) * 1000

        class Redis:
            def __getattr__(self, name):
                return getattr(redis_client, name)

            def register_script(self, script):
                run = redis_client.register_script(script)

                def timed(**kwargs):
                    t = time.perf_counter()
                    try:
                        return run(**kwargs)
                    finally:
                        timer.redis_ms += (time.perf_counter() - t) * 1000
                return timed

        self.es, self.redis = ES(), Redis()


if __name__ == "__main__":
    os.environ.setdefault("GLEANER_LOG_JSON", "false")
    raise SystemExit(main())
