"""Near-duplicate clusters formed by the real pipeline: gleaner submit -> parse -> enrich -> index
workers (two index worker processes, one page per bundle) -> Elasticsearch, then a page whose index
message is delivered again, at the same time as its first delivery and after it.

Every story is new to the index (sentences of the fixture articles drawn in a new order for each
run), so its cluster is decided by the copies of this run alone.
"""

from __future__ import annotations

import json
import os
import random
import re
import signal
import subprocess
import sys
import uuid
from collections import defaultdict
from pathlib import Path

import pytest

from tests.helpers import wait_until
from tests.integration.conftest import GLEANER, ROOT, batch_id_of, docs_of_batch, gleaner, jsonl

pytestmark = pytest.mark.integration

STORIES, COPIES = 3, 6


def _sentences(fixtures_dir: Path) -> list[str]:
    gold = json.loads((fixtures_dir / "pages-ground-truth.json").read_text())
    by_start: dict[str, str] = {}  # one sentence per 12-word start: a phrase search finds one story
    for page in gold.values():
        for s in re.split(r"(?<=[.!?])\s+", page["articleBody"]):
            if 12 <= len(s.split()) <= 40:
                by_start.setdefault(" ".join(s.split()[:12]), s)
    return sorted(by_start.values())


def _stories(rng: random.Random, pool: list[str], n: int) -> list[tuple[str, list[str]]]:
    """Headlines and paragraphs of sentences no article has in this order; no two stories share one."""
    picked = rng.sample(pool, 14 * n)
    stories = []
    for k in range(n):
        sentences = picked[14 * k:14 * (k + 1)]
        stories.append((" ".join(sentences[0].split()[:8]),
                        [" ".join(sentences[i:i + 2]) for i in range(0, len(sentences), 2)]))
    return stories


def _html_copy(site: int, title: str, paragraphs: list[str]) -> str:
    """One site's copy: its own menu, byline, related links and footer around the article."""
    menu = "".join(f"<li><a href='/{s}'>{s.title()} {site}</a></li>" for s in ("world", "politics", "sport", "tech"))
    related = "".join(f"<li><a href='/r/{site}/{k}'>Readers also liked story {k} on site {site}</a></li>"
                      for k in range(4))
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (f"<html><head><title>{title} | Site {site}</title></head><body><header><nav><ul>{menu}</ul></nav>"
            f"</header><main><article><h1>{title}</h1><p class='byline'>By staff writer {site}</p>{body}</article>"
            f"<aside><h3>Most read</h3><ul>{related}</ul></aside></main><footer><p>Copyright 2024 Site {site}. "
            f"All rights reserved.</p><a href='/privacy'>Privacy</a></footer></body></html>")


def _text_copy(site: int, title: str, paragraphs: list[str]) -> str:
    """A text dump of a copy: menu lines, the article, share and footer lines."""
    return "\n\n".join([f"Site {site} | Home | World | Politics | Sport", title, *paragraphs,
                        "Share this article", "Subscribe to our newsletter", f"Copyright 2024 Site {site}"])


@pytest.fixture
def second_index_worker():
    """Another index worker process beside the stack's, for the time of a test (stopped after)."""
    from workers.delivery.queues import workers_by_queue

    name = f"index-it-{uuid.uuid4().hex[:6]}"
    celery = str(Path(sys.executable).with_name("celery"))
    log = (ROOT / ".stack" / "logs" / f"{name}.log").open("ab")
    proc = subprocess.Popen([celery, "-A", "workers.delivery.app", "worker", "-Q", "index", "-n", f"{name}@%h",
                             "--pool", "threads", "--concurrency", "8", "--loglevel", "WARNING",
                             "--without-gossip", "--without-mingle"], cwd=ROOT, stdout=log, stderr=log)
    try:
        wait_until(lambda: any(w.startswith(name) for w in workers_by_queue(timeout=1.0)["index"]), timeout=90,
                   what="the second index worker", interval=0.5)
        yield name
    finally:
        proc.send_signal(signal.SIGTERM)  # warm shutdown: it finishes what it holds
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def test_concurrent_workers_put_every_copy_of_a_story_in_one_cluster(tmp_path, es, alias, collection, fixtures_dir,
                                                                      second_index_worker):
    rng = random.Random(collection)
    pool = _sentences(fixtures_dir)
    stories = _stories(rng, pool, STORIES)
    lines, story_of = [], {}
    for site in range(COPIES):  # the copies of a story spread over the submission
        for i, (title, paragraphs) in enumerate(stories):
            url = f"https://site{site}.example/{collection}/story-{i}"
            page = {"text": _text_copy(site, title, paragraphs)} if site == 3 else {
                "html": _html_copy(site, title, paragraphs)}
            lines.append(json.dumps({"url": url, **page}))
            story_of[url] = i
    path = tmp_path / "copies.jsonl"
    path.write_text("\n".join(lines) + "\n")
    env = {**os.environ, "COLUMNS": "200", "GLEANER_BUNDLE_PAGES": "1"}  # one page per task: all at once
    result = subprocess.run([GLEANER, "submit", str(path), "--collection", collection, "--wait", "--timeout", "600"],
                            capture_output=True, text=True, timeout=900, env=env, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    docs = docs_of_batch(es, alias, batch_id_of(result))
    assert len(docs) == STORIES * COPIES

    by_story: dict[int, list[dict]] = defaultdict(list)
    for doc in docs:
        by_story[story_of[doc["url"]]].append(doc)
    clusters = set()
    for i, copies in by_story.items():
        assert len({d["cluster_id"] for d in copies}) == 1, (i, [(d["url"], d["cluster_id"]) for d in copies])
        firsts = [d for d in copies if "duplicate_of" not in d]
        assert len(firsts) == 1, (i, [(d["url"], d.get("duplicate_of")) for d in copies])
        assert {d["duplicate_of"] for d in copies if d is not firsts[0]} == {firsts[0]["_id"]}
        assert len(firsts[0]["dedup"]["bands"]) == 32, "the first copy is found by its band keys"
        assert all(len(d["dedup"]["bands"]) in (0, 32) and d["dedup"]["signature"] for d in copies)
        clusters.add(copies[0]["cluster_id"])
    assert len(clusters) == STORIES, "different stories are different clusters"

    # gleaner search shows one hit per story with its other copies; --all-copies every page.
    words = " ".join(stories[0][1][2].split()[:12])
    hits = jsonl(gleaner("search", f'"{words}"', "--collection", collection, "--json").stdout)
    assert len(hits) == 1 and hits[0]["similar"]["count"] == COPIES - 1, hits
    assert len(jsonl(gleaner("search", f'"{words}"', "--collection", collection, "--all-copies", "--json").stdout)) \
        == COPIES
    text = gleaner("search", "", "--collection", collection).stdout
    assert f"{STORIES * COPIES} pages match in {STORIES} stories" in text and f"+{COPIES - 1} similar pages" in text

    report = json.loads(gleaner("status", "--json").stdout)["near_duplicates"]
    assert report["duplicates"] >= STORIES * (COPIES - 1) and 0 < report["duplicate_share"] < 1


def test_a_page_delivered_again_keeps_its_cluster(tmp_path, es, alias, collection, fixtures_dir):
    """The index message of a page arrives twice at once (a redelivery racing its first delivery),
    with a copy from another site, then once more after it was indexed: one document, one cluster."""
    from celery import signature

    from workers.delivery.app import app
    from workers.producer import new_batch_id
    from workers.runtime import progress_store
    from workers.stages.urls import document_id

    title, paragraphs = _stories(random.Random(collection), _sentences(fixtures_dir), 1)[0]
    page = tmp_path / "story.html"
    page.write_text(_html_copy(0, title, paragraphs))
    (doc,) = jsonl(gleaner("process", str(page)).stdout)
    assert "cluster_id" not in doc and len(doc["dedup"]["bands"]) == 32, "clusters are decided at indexing"
    batch_id = new_batch_id()
    messages = []
    for seq, site in enumerate(("first.example", "copy.example")):
        url = f"https://{site}/{collection}/story"
        document = {**doc, "url": url, "collection": collection, "batch_id": batch_id}
        messages.append({"doc_id": document_id(url, ""), "document": document, "seq": seq, "source": str(page),
                         "url": url, "collection": collection, "batch_id": batch_id})
    store = progress_store()
    store.add_submitted(batch_id, 2)
    store.close_submission(batch_id, collection)

    def index_runs() -> int:  # pages the index workers have written, redeliveries included
        return store.stage_totals().get("index", 0)

    before = index_runs()
    for bundle in ([messages[0]], [messages[0]], [messages[1]]):  # each its own task: concurrent
        signature("gleaner.index", args=(bundle,), app=app).apply_async()
    wait_until(lambda: index_runs() >= before + 3, timeout=60, what="both deliveries and the copy to be written",
               interval=0.2)

    def placed() -> dict[str, dict]:
        return {d["url"]: d for d in docs_of_batch(es, alias, batch_id)}

    docs = placed()
    assert store.get(batch_id).indexed == 2 and len(docs) == 2
    first, copy = docs[messages[0]["document"]["url"]], docs[messages[1]["document"]["url"]]
    assert first["cluster_id"] == copy["cluster_id"]
    origin = first.get("duplicate_of") or first["_id"]
    assert (copy.get("duplicate_of") or copy["_id"]) == origin and origin in (first["_id"], copy["_id"])

    before = index_runs()
    signature("gleaner.index", args=([messages[0]],), app=app).apply_async()  # delivered once more, later
    wait_until(lambda: index_runs() >= before + 1, timeout=60, what="the late redelivery", interval=0.2)
    again = placed()[first["url"]]
    assert (again["cluster_id"], again.get("duplicate_of")) == (first["cluster_id"], first.get("duplicate_of"))
    es.indices.refresh(index=alias)
    assert es.count(index=alias, query={"term": {"cluster_id": first["cluster_id"]}})["count"] == 2
