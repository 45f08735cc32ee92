"""The whole path: gleaner submit -> Redis -> parse/enrich/index workers -> Elasticsearch."""

from __future__ import annotations

import gzip
import json
import re
from collections import Counter

import pytest

from tests.integration.conftest import batch_id_of, docs_of_batch, gleaner, jsonl
from workers.config import get_settings
from workers.stages.text_stats import count_words

pytestmark = pytest.mark.integration


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


def test_example_and_benchmark_pages_are_all_indexed(es, alias, collection, example_page, fixtures_dir):
    pages = sorted((fixtures_dir / "pages").glob("*.html.gz"))
    assert len(pages) >= 20
    result = gleaner("submit", str(example_page), str(fixtures_dir / "pages"), "--collection", collection, "--wait",
                     "--timeout", "600")
    assert result.returncode == 0, result.stderr
    batch_id = batch_id_of(result)
    docs = docs_of_batch(es, alias, batch_id)
    assert len(docs) == len(pages) + 1
    assert {d["collection"] for d in docs} == {collection}

    example = next(d for d in docs if d["source"] == str(example_page))
    assert example["title"] == "Gantz in US talks of Iran, Israel's QME in shadow of F-35 sales to UAE"
    assert example["body"].startswith("Defense Minister Benny Gantz discussed")
    assert example["body"].rstrip().endswith("normalization and stability in the Middle East.")
    for boilerplate in ("Most Read", "photo credit", "Tags", "Israel News WORLD NEWS", "All rights reserved"):
        assert boilerplate not in example["body"]
    assert {"Benny Gantz", "Jared Kushner", "Mark Esper", "Robert O'Brien"} <= set(example["persons"])
    assert example["language"] == "en" and example["published_at"].startswith("2020-09-23")
    assert example["word_count"] == count_words(example["body"])
    assert example["pipeline"]["ner_model"].startswith(get_settings().spacy_model)

    # Each benchmark page's body is its article: its words against the hand-made ground truth. The
    # floor per page leaves room for what the learned stage keeps beside an article (a headline, a
    # caption); the word F1 over all the pages is the stricter check.
    gold = json.loads((fixtures_dir / "pages-ground-truth.json").read_text())
    by_source = {d["source"].rsplit("/", 1)[-1].split(".")[0]: d for d in docs}
    assert set(gold) <= set(by_source)
    matched = extracted = expected = 0
    for page_id, truth in gold.items():
        got, want = Counter(_words(by_source[page_id]["body"])), Counter(_words(truth["articleBody"]))
        common = sum((got & want).values())
        precision, recall = common / max(sum(got.values()), 1), common / max(sum(want.values()), 1)
        assert precision >= 0.85 and recall >= 0.6, (page_id, round(precision, 2), round(recall, 2))
        matched, extracted, expected = matched + common, extracted + sum(got.values()), expected + sum(want.values())
    assert 2 * matched / (extracted + expected) >= 0.95, "word F1 over all the pages"


def test_resubmitting_creates_no_second_document(es, alias, collection, example_page):
    first = gleaner("submit", str(example_page), "--collection", collection, "--wait", "--timeout", "300")
    assert first.returncode == 0, first.stderr
    es.indices.refresh(index=alias)
    before = es.count(index=alias)["count"]
    doc_id = docs_of_batch(es, alias, batch_id_of(first))[0]["_id"]
    second = gleaner("submit", str(example_page), "--collection", collection, "--wait", "--timeout", "300")
    assert second.returncode == 0, second.stderr
    es.indices.refresh(index=alias)
    assert es.count(index=alias)["count"] == before
    again = docs_of_batch(es, alias, batch_id_of(second))
    assert [d["_id"] for d in again] == [doc_id]


def test_bad_pages_are_recorded_failures_and_do_not_stop_the_batch(tmp_path, es, alias, collection, example_page):
    (tmp_path / "image.html").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(200))
    (tmp_path / "empty.html").write_bytes(b"")
    (tmp_path / "nav-only.html").write_text("<html><body><nav><a href='/'>Home</a> <a href='/x'>News</a></nav></body></html>")
    (tmp_path / "good.txt").write_bytes(example_page.read_bytes())
    with gzip.open(tmp_path / "bomb.html.gz", "wb") as fh:
        fh.write(b"<p>" + b"a" * 30_000_000)
    result = gleaner("submit", str(tmp_path), "--collection", collection, "--wait", "--timeout", "300")
    assert result.returncode == 1, "a batch with failed pages exits 1"
    assert "failed 3" in result.stderr
    docs = docs_of_batch(es, alias, batch_id_of(result))
    assert [d["source"].rsplit("/", 1)[-1] for d in docs] == ["good.txt"]

    listing = jsonl(gleaner("failures", "list", "--json").stdout)
    mine = {r["source"].rsplit("/", 1)[-1]: r for r in listing if r["collection"] == collection}
    assert mine["image.html"]["error"] == "binary_content" and "PNG" in mine["image.html"]["reason"]
    assert mine["empty.html"]["error"] == "empty"
    assert mine["nav-only.html"]["error"] == "empty_after_cleaning"
    assert mine["bomb.html.gz"]["stage"] == "submit" and "cap" in mine["bomb.html.gz"]["reason"]
    assert all(r["attempts"] >= 1 and r["first_failed_at"] for r in mine.values())

    shown = json.loads(gleaner("failures", "show", mine["image.html"]["id"], "--json").stdout)
    assert shown["stage"] == "parse" and shown["url"] is None


def test_jsonl_lines_are_decoded_by_the_parse_stage(tmp_path, es, alias, collection, example_page):
    """Lines travel as they were read; the parse worker takes the page out of each, and a line
    without a page is a recorded parse failure (with the URL when the line had one)."""
    path = tmp_path / "pages.jsonl"
    good_url = f"https://jsonl.example/{collection}/good"
    nav_url = f"https://jsonl.example/{collection}/nav"
    lines = [
        # Its own body too: other tests find the example's document by its content hash.
        json.dumps({"url": good_url, "text": example_page.read_text().replace("Defense Minister", "Defence Minister"),
                    "fetched_at": "2024-05-06T07:08:09Z"}),
        "{not json",
        json.dumps({"url": f"https://jsonl.example/{collection}/nobody"}),
        json.dumps({"url": nav_url, "html": "<html><body><nav><a href='/'>Home</a></nav></body></html>"}),
    ]
    path.write_text("\n".join(lines) + "\n")
    result = gleaner("submit", str(path), "--collection", collection, "--wait", "--timeout", "300")
    assert result.returncode == 1 and "submitted 4 pages" in result.stderr and "failed 3" in result.stderr
    (doc,) = docs_of_batch(es, alias, batch_id_of(result))
    assert doc["url"] == good_url and doc["source"] == f"{path}#1" and doc["collection"] == collection
    assert doc["fetched_at"].startswith("2024-05-06T07:08:09") and "Benny Gantz" in doc["persons"]

    mine = {r["source"]: r for r in jsonl(gleaner("failures", "list", "--json").stdout) if r["collection"] == collection}
    assert mine[f"{path}#2"]["error"] == "invalid_record" and "line 2 is not valid JSON" in mine[f"{path}#2"]["reason"]
    assert mine[f"{path}#3"]["error"] == "invalid_record" and "neither" in mine[f"{path}#3"]["reason"]
    assert mine[f"{path}#4"]["stage"] == "parse" and mine[f"{path}#4"]["url"] == nav_url
    assert all(r["stage"] == "parse" for r in mine.values())


def test_search_finds_the_example_by_text_and_person(example_page, collection):
    assert gleaner("submit", str(example_page), "--collection", collection, "--wait").returncode == 0
    hits = jsonl(gleaner("search", "Gantz Esper Pentagon", "--person", "Mark Esper", "--json").stdout)
    assert hits and hits[0]["title"].startswith("Gantz in US talks")
    assert all("Mark Esper" in h["persons"] for h in hits), "the person filter"
    assert "Gantz" in hits[0]["body"] and "Pentagon" in hits[0]["body"] and hits[0]["score"] > 0
    text = gleaner("search", "qualitative military edge").stdout
    assert "Gantz in US talks of Iran" in text and "persons" in text


def test_process_index_writes_the_same_document(es, alias, example_page):
    result = gleaner("process", str(example_page), "--index")
    assert result.returncode == 0, result.stderr
    (doc,) = jsonl(result.stdout)
    assert doc["title"].startswith("Gantz in US talks") and "Mark Esper" in doc["persons"]
    es.indices.refresh(index=alias)
    hits = es.search(index=alias, query={"term": {"content_hash": doc["content_hash"]}})["hits"]["hits"]
    assert len(hits) == 1 and hits[0]["_source"]["body"] == doc["body"]


def test_status_reports_queues_workers_and_documents(es, alias):
    es.indices.refresh(index=alias)
    before = int(es.count(index=alias)["count"])
    report = json.loads(gleaner("status", "--json").stdout)
    es.indices.refresh(index=alias)
    after = int(es.count(index=alias)["count"])
    assert report["redis"] == "ok" and report["elasticsearch"] in ("green", "yellow")
    assert set(report["queues"]) >= {"parse", "enrich", "index"}
    for queue in ("parse", "enrich", "index"):
        assert [w.split("@")[0] for w in report["workers"][queue]] == [queue], report["workers"]
    assert before <= report["documents"] <= after, (before, report["documents"], after)


def test_a_document_elasticsearch_refuses_fails_alone_in_its_bundle(es, alias, collection, example_page):
    """An index bundle of three documents, one of which the mapping refuses (an integer field
    overflows): two are indexed, the third is a recorded failure with Elasticsearch's reason."""
    from celery import signature

    from tests.helpers import wait_until
    from workers.delivery.app import app
    from workers.producer import new_batch_id
    from workers.runtime import progress_store
    from workers.stages.urls import document_id

    (doc,) = jsonl(gleaner("process", str(example_page)).stdout)
    batch_id = new_batch_id()
    messages = []
    for seq in range(3):
        url = f"https://bundle.example/{collection}/{seq}"
        # Its own content hash too: other tests find the example's document by it.
        document = {**doc, "url": url, "collection": collection, "batch_id": batch_id,
                    "content_hash": f"{doc['content_hash']}-{collection}-{seq}"}
        if seq == 1:
            document["word_count"] = 2**40  # valid for the model, not for the integer mapping
        messages.append({"doc_id": document_id(url, ""), "document": document, "seq": seq})
    store = progress_store()
    store.add_submitted(batch_id, 3)
    store.close_submission(batch_id, collection)
    signature("gleaner.index", args=(messages,), app=app).apply_async()

    state = wait_until(lambda: (s := store.get(batch_id)) and s.complete and s, timeout=60,
                       what="the bundle to be indexed or failed")
    assert (state.indexed, state.failed) == (2, 1)
    assert sorted(d["url"] for d in docs_of_batch(es, alias, batch_id)) == [messages[0]["document"]["url"],
                                                                            messages[2]["document"]["url"]]
    (record,) = [r for r in jsonl(gleaner("failures", "list", "--json").stdout) if r["collection"] == collection]
    assert record["stage"] == "index" and record["error"] == "rejected_by_index"
    assert "word_count" in record["reason"]


def test_the_producer_waits_for_room_in_the_parse_queue(tmp_path):
    """Backpressure against the real Redis: in a database no worker consumes, the producer stops
    sending once the parse queue is over GLEANER_MAX_QUEUED_BUNDLES and goes on as it drains."""
    import os
    import subprocess
    import time

    import redis

    from tests.helpers import wait_until
    from tests.integration.conftest import GLEANER, ROOT
    from workers.config import get_settings
    from workers.delivery.publisher import IN_FLIGHT
    from workers.producer import ROOM_EVERY

    for i in range(40):
        (tmp_path / f"p{i}.html").write_text(f"<html><body><p>page {i}</p></body></html>")
    url = get_settings().redis_url.rsplit("/", 1)[0] + "/14"
    client = redis.Redis.from_url(url)
    client.flushdb()
    env = {**os.environ, "GLEANER_REDIS_URL": url, "GLEANER_BUNDLE_PAGES": "1", "GLEANER_MAX_QUEUED_BUNDLES": "4"}
    proc = subprocess.Popen([GLEANER, "submit", str(tmp_path)], env=env, cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        wait_until(lambda: client.llen("parse") >= 4, timeout=30, what="the producer to fill the queue")
        time.sleep(2)
        assert proc.poll() is None, "the producer waits while the queue is full"
        assert client.llen("parse") <= 4 + ROOM_EVERY + IN_FLIGHT, "it looks at the depth every 8 groups"
        while proc.poll() is None:  # a worker draining the queue
            client.lpop("parse")
            time.sleep(0.05)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
        client.flushdb()
    assert proc.returncode == 0, err
    assert "submitted 40 pages" in err and "for room in the parse queue" in err
