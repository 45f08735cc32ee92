"""Near-duplicate clusters decided against the real Redis and Elasticsearch: copies in one batch, in
concurrent threads and processes, across Elasticsearch's refresh gap, and a page delivered twice.

Each test has an index alias of its own whose index never refreshes by itself (refresh_interval -1):
what a search cannot see yet is exactly what the refresh gap hides, for as long as the test needs.
"""

from __future__ import annotations

import multiprocessing
import threading
import time
import uuid
from collections import Counter, defaultdict
from datetime import datetime, timezone

import pytest

from tests.texts import random_story
from workers.models import Document
from workers.stages import near_duplicates as nd
from workers.store.elastic import IndexItem, bulk_index, ensure_index, load_template
from workers.store.near_duplicates import KEY_PREFIX, assign_clusters, forget_claims

pytestmark = pytest.mark.integration

def story(seed: int, words: int = 300) -> str:
    return random_story(seed, words, sentence_words=15, sentences_per_paragraph=3, vocabulary=20_000,
                        word_prefix="word")


def copy_of(text: str, n: int) -> str:
    """Another site's copy: its own menu on top and footer below."""
    return f"Home World Politics menu{n}\n\n{text}\n\nShare this story {n} | Cookie settings | Contact"


class CountingES:
    """The real client, counting the requests made through it."""

    def __init__(self, es) -> None:
        self._es = es
        self.calls: Counter[str] = Counter()

    def __getattr__(self, name):
        attr = getattr(self._es, name)
        if not callable(attr):
            return attr

        def counted(*args, **kwargs):
            self.calls[name] += 1
            return attr(*args, **kwargs)
        return counted


@pytest.fixture(scope="module")
def redis_client():
    from workers.runtime import redis_client

    return redis_client()


@pytest.fixture
def dedup_alias(es, redis_client):
    alias = f"dedup-it-{uuid.uuid4().hex[:8]}"
    ensure_index(es, alias)
    es.indices.put_settings(index=alias, settings={"index": {"refresh_interval": "-1"}})
    yield alias
    for name in es.indices.get(index=f"{alias}-*"):
        es.indices.delete(index=name)
    es.options(ignore_status=404).indices.delete_index_template(name=f"gleaner-{alias}")
    forget_claims(redis_client, alias)


def write(es, alias: str, docs: dict[str, str], decisions: dict[str, nd.ClusterDecision]) -> None:
    """Index the documents with their clusters, as the index stage will."""
    items = []
    for doc_id, text in docs.items():
        d = decisions[doc_id]
        doc = Document(body=text, word_count=len(text.split()), content_hash="h", simhash="0" * 16, source=doc_id,
                       ingested_at=datetime.now(timezone.utc), pipeline={"extractor": "test", "gleaner": "test"},
                       cluster_id=d.cluster_id, duplicate_of=d.duplicate_of, dedup=nd.fingerprint(text).stored())
        items.append(IndexItem(doc_id, doc.model_dump(mode="json"), 0))
    results = bulk_index(es, alias, items)
    assert [r.outcome for r in results] == ["indexed"] * len(items), results


def assign(es, redis_client, alias: str, docs: dict[str, str], **kwargs) -> dict[str, nd.ClusterDecision]:
    return assign_clusters(es, redis_client, alias, [(i, nd.fingerprint(t)) for i, t in docs.items()], **kwargs)


def assert_one_cluster_per_story(decisions: dict[str, nd.ClusterDecision], story_of: dict[str, int]) -> None:
    clusters: dict[int, set[str]] = defaultdict(set)
    firsts: dict[int, list[str]] = defaultdict(list)
    for doc_id, d in decisions.items():
        clusters[story_of[doc_id]].add(d.cluster_id)
        if d.duplicate_of is None:
            firsts[story_of[doc_id]].append(doc_id)
    for s, ids in clusters.items():
        assert len(ids) == 1, f"story {s} split into clusters {ids}"
        assert len(firsts[s]) == 1, f"story {s} has first copies {firsts[s]}"
        for doc_id, d in decisions.items():
            if story_of[doc_id] == s and d.duplicate_of is not None:
                assert d.duplicate_of == firsts[s][0]
    assert len({next(iter(c)) for c in clusters.values()}) == len(clusters), "two stories share a cluster"


def test_copies_in_one_batch_form_one_cluster_with_one_search(es, redis_client, dedup_alias):
    a, b = story(1), story(2)
    docs = {"a1": a, "b1": b, "a2": copy_of(a, 2), "a3": copy_of(a, 3), "b2": copy_of(b, 2), "empty": "..."}
    counting = CountingES(es)
    decisions = assign(counting, redis_client, dedup_alias, docs)
    assert dict(counting.calls) == {"search": 1}
    assert decisions["a1"].duplicate_of is None and decisions["b1"].duplicate_of is None
    assert [decisions[x].duplicate_of for x in ("a2", "a3", "b2")] == ["a1", "a1", "b1"]
    assert decisions["a2"].cluster_id == decisions["a3"].cluster_id == decisions["a1"].cluster_id
    assert decisions["b2"].cluster_id == decisions["b1"].cluster_id != decisions["a1"].cluster_id
    assert decisions["a2"].similarity > nd.DUPLICATE_THRESHOLD
    assert decisions["empty"].duplicate_of is None
    assert len({d.cluster_id for d in decisions.values()}) == 3


def test_refresh_gap_is_covered_by_claims_then_the_index_takes_over(es, redis_client, dedup_alias):
    text = story(3)
    first = assign(es, redis_client, dedup_alias, {"x1": text})
    write(es, dedup_alias, {"x1": text}, first)  # written, not searchable yet
    assert es.count(index=dedup_alias)["count"] == 0
    second = assign(es, redis_client, dedup_alias, {"x2": copy_of(text, 2)})
    assert (second["x2"].cluster_id, second["x2"].duplicate_of, second["x2"].matched) == (first["x1"].cluster_id, "x1", "x1")

    forget_claims(redis_client, dedup_alias)  # the claims have expired; the index now shows x1
    es.indices.refresh(index=dedup_alias)
    counting = CountingES(es)
    third = assign(counting, redis_client, dedup_alias, {"x3": copy_of(text, 3), "y1": story(4)})
    assert dict(counting.calls) == {"search": 1}
    assert (third["x3"].cluster_id, third["x3"].duplicate_of, third["x3"].matched) == (first["x1"].cluster_id, "x1", "x1")
    assert third["y1"].duplicate_of is None and third["y1"].cluster_id != first["x1"].cluster_id


def test_claims_expire(es, redis_client, dedup_alias):
    text = story(5)
    first = assign(es, redis_client, dedup_alias, {"z1": text}, claim_ttl_s=1)
    keys = list(redis_client.scan_iter(match=f"{KEY_PREFIX}{dedup_alias}:*"))
    assert len(keys) == nd.BANDS + 1  # a hash per band position, one of records
    assert all(0 < redis_client.pttl(k) <= 2000 for k in keys)
    time.sleep(2.2)
    assert not list(redis_client.scan_iter(match=f"{KEY_PREFIX}{dedup_alias}:*"))
    late = assign(es, redis_client, dedup_alias, {"z2": copy_of(text, 1)}, claim_ttl_s=1)  # z1 never written
    assert late["z2"].duplicate_of is None and late["z2"].cluster_id != first["z1"].cluster_id


def test_concurrent_threads_put_copies_of_a_story_in_one_cluster(es, redis_client, dedup_alias):
    for round_ in range(3):
        stories = {s: story(100 * round_ + s) for s in range(4)}
        threads, results, errors = [], [], []
        barrier = threading.Barrier(8)

        def work(worker: int, round_: int = round_, stories: dict[int, str] = stories,
                 barrier: threading.Barrier = barrier, results: list = results, errors: list = errors) -> None:
            try:
                batch = {f"r{round_}-w{worker}-s{s}": copy_of(t, worker) for s, t in stories.items()}
                keys = [(doc_id, nd.fingerprint(text)) for doc_id, text in batch.items()]
                barrier.wait()
                results.append(assign_clusters(es, redis_client, dedup_alias, keys))
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        for w in range(8):
            threads.append(threading.Thread(target=work, args=(w,)))
            threads[-1].start()
        for t in threads:
            t.join(timeout=60)
        assert not errors
        decisions = {k: v for r in results for k, v in r.items()}
        assert len(decisions) == 32
        assert_one_cluster_per_story(decisions, {k: int(k.rsplit("-s", 1)[1]) for k in decisions})


def _process_batch(alias: str, worker: int, start, out) -> None:
    """One worker process: its own clients, a batch of copies of three stories."""
    from workers.runtime import es_client, redis_client

    es, r = es_client(), redis_client()
    batch = [(f"p{worker}-s{s}", nd.fingerprint(copy_of(story(500 + s), worker))) for s in range(3)]
    es.info()
    start.wait(timeout=60)
    decisions = assign_clusters(es, r, alias, batch)
    out.put({k: (d.cluster_id, d.duplicate_of) for k, d in decisions.items()})


def test_concurrent_processes_and_a_later_batch_share_the_clusters(es, redis_client, dedup_alias):
    ctx = multiprocessing.get_context("spawn")
    start, out = ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=_process_batch, args=(dedup_alias, w, start, out)) for w in range(4)]
    for p in procs:
        p.start()
    start.set()
    got = {}
    for _ in procs:
        got.update(out.get(timeout=120))
    for p in procs:
        p.join(timeout=30)
        assert p.exitcode == 0
    decisions = {k: nd.ClusterDecision(c, o) for k, (c, o) in got.items()}
    story_of = {k: int(k.rsplit("-s", 1)[1]) for k in decisions}
    assert_one_cluster_per_story(decisions, story_of)

    write(es, dedup_alias, {k: copy_of(story(500 + story_of[k]), int(k[1:].split("-")[0])) for k in decisions}, decisions)
    es.indices.refresh(index=dedup_alias)
    forget_claims(redis_client, dedup_alias)
    later = assign(es, redis_client, dedup_alias, {f"late-s{s}": copy_of(story(500 + s), 99) for s in range(3)})
    for s in range(3):
        assert later[f"late-s{s}"].cluster_id == next(d.cluster_id for k, d in decisions.items() if story_of[k] == s)
        assert later[f"late-s{s}"].duplicate_of is not None


def test_redelivered_page_keeps_its_cluster(es, redis_client, dedup_alias):
    text = story(7)
    first = assign(es, redis_client, dedup_alias, {"orig": text, "copy": copy_of(text, 1)})
    cluster = first["orig"].cluster_id
    again = assign(es, redis_client, dedup_alias, {"orig": text})  # redelivered while its claims live
    assert (again["orig"].cluster_id, again["orig"].duplicate_of, again["orig"].matched) == (cluster, None, "orig")

    barrier, seen = threading.Barrier(2), []

    def redeliver() -> None:
        barrier.wait()
        seen.append(assign(es, redis_client, dedup_alias, {"copy": copy_of(text, 1)})["copy"])
    threads = [threading.Thread(target=redeliver) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert [(d.cluster_id, d.duplicate_of) for d in seen] == [(cluster, "orig")] * 2

    write(es, dedup_alias, {"orig": text, "copy": copy_of(text, 1)}, first)
    es.indices.refresh(index=dedup_alias)
    forget_claims(redis_client, dedup_alias)
    late = assign(es, redis_client, dedup_alias, {"orig": text, "copy": copy_of(text, 1)})  # long after: from the index
    assert (late["orig"].cluster_id, late["orig"].duplicate_of) == (cluster, None)
    assert (late["copy"].cluster_id, late["copy"].duplicate_of) == (cluster, "orig")
    assert {late["orig"].matched, late["copy"].matched} <= {"orig", "copy"}  # the cluster's best hit

    changed = assign(es, redis_client, dedup_alias, {"orig": story(8)})  # the URL now shows another text
    assert changed["orig"].cluster_id != cluster and changed["orig"].duplicate_of is None


def test_clustered_documents_are_indexed_and_collapse_by_cluster(es, redis_client, dedup_alias):
    texts = {"n1": story(9), "n2": copy_of(story(9), 2), "n3": copy_of(story(9), 3), "m1": story(10)}
    decisions = assign(es, redis_client, dedup_alias, texts)
    write(es, dedup_alias, texts, decisions)
    es.indices.refresh(index=dedup_alias)
    resp = es.search(index=dedup_alias, query={"match_all": {}}, collapse={"field": "cluster_id"},
                     aggs={"stories": {"cardinality": {"field": "cluster_id"}},
                           "copies": {"filter": {"exists": {"field": "duplicate_of"}}}})
    assert len(resp["hits"]["hits"]) == 2
    assert resp["aggregations"]["stories"]["value"] == 2 and resp["aggregations"]["copies"]["doc_count"] == 2
    band = nd.fingerprint(texts["n1"]).bands[0]
    assert es.count(index=dedup_alias, query={"term": {"dedup.bands": band}})["count"] == 3


def test_setup_adds_the_near_duplicate_fields_to_an_older_index(es, dedup_alias):
    old = f"{dedup_alias}-old"
    template = load_template(dedup_alias)["template"]
    mappings = template["mappings"]
    v1 = {k: v for k, v in mappings["properties"].items() if k not in ("cluster_id", "duplicate_of", "dedup")}
    es.indices.delete(index=f"{dedup_alias}-000001")
    es.indices.delete_index_template(name=f"gleaner-{dedup_alias}")  # as before mapping version 2
    es.indices.create(index=old, mappings={"dynamic": "strict", "properties": v1},
                      aliases={dedup_alias: {"is_write_index": True}})
    assert "cluster_id" not in es.indices.get_mapping(index=old)[old]["mappings"]["properties"]
    ensure_index(es, dedup_alias, update_template=True)
    props = es.indices.get_mapping(index=old)[old]["mappings"]["properties"]
    assert props["cluster_id"] == {"type": "keyword"} and props["dedup"]["properties"]["bands"]["doc_values"] is False


def test_near_identical_copies_are_not_searched_and_a_later_variant_still_joins(es, redis_client, dedup_alias):
    from workers.store.near_duplicates import place_in_clusters

    text = story(40, words=400)
    paragraphs = text.split("\n\n")
    variant = "\n\n".join(paragraphs[: len(paragraphs) * 2 // 3])  # a cut story: below NEAR_IDENTICAL

    def place(docs: dict[str, str]) -> dict[str, dict]:
        items = [IndexItem(i, {"body": t, "dedup": nd.fingerprint(t).stored()}, 0) for i, t in docs.items()]
        placed = {item.doc_id: dict(item.source) for item in place_in_clusters(es, redis_client, dedup_alias, items)}
        forget_claims(redis_client, dedup_alias)  # what follows is found through the index alone
        for doc_id, source in placed.items():  # indexed as the index stage writes them (what the lookup reads)
            es.index(index=dedup_alias, id=doc_id, document=_stored(doc_id, source))
        es.indices.refresh(index=dedup_alias)
        return placed

    first = place({"n1": text})
    copies = place({f"n{k}": copy_of(text, k) for k in range(2, 6)})
    assert all(c["duplicate_of"] == "n1" and c["cluster_id"] == first["n1"]["cluster_id"] for c in copies.values())
    assert all(c["dedup"]["bands"] == [] for c in copies.values()), "near-identical copies leave their keys out"
    hits = es.search(index=dedup_alias, query={"terms": {"dedup.bands": first["n1"]["dedup"]["bands"]}}, size=10)
    assert [h["_id"] for h in hits["hits"]["hits"]] == ["n1"], "the lookup's search reads the first copy only"

    later = place({"v1": variant, "n6": copy_of(text, 6)})
    assert later["v1"]["cluster_id"] == first["n1"]["cluster_id"] and later["v1"]["duplicate_of"] == "n1"
    assert later["v1"]["dedup"]["bands"], "a copy that differs keeps its keys: later variants of it find it"
    assert later["n6"]["cluster_id"] == first["n1"]["cluster_id"]


def _stored(doc_id: str, source: dict) -> dict:
    doc = Document(body=source["body"], word_count=len(source["body"].split()), content_hash="h", simhash="0" * 16,
                   source=doc_id, ingested_at=datetime.now(timezone.utc), pipeline={"extractor": "test", "gleaner": "test"},
                   cluster_id=source["cluster_id"], duplicate_of=source.get("duplicate_of"), dedup=source["dedup"])
    return doc.model_dump(mode="json")
