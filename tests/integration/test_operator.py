"""The operator's view against the running stack: submit --wait (plain mode), status, search with
filters and facets, failures list/show/retry, and the failures index Kibana charts.

Other people use the same stack at the same time: every test works on pages of its own (unique
URLs, hosts and collection) and only looks at those."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

import pytest

from tests.helpers import wait_until
from tests.integration.conftest import batch_id_of, gleaner, jsonl

pytestmark = pytest.mark.integration

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 2
SHORT_PAGE = "<html><head><title>Nothing</title></head><body><p>Too short to be an article.</p></body></html>"


def _article(title: str, published: str, paragraphs: list[str]) -> str:
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (f"<html><head><title>{title}</title><meta property='article:published_time' content='{published}'>"
            f"</head><body><nav><a href='/'>Home</a> <a href='/world'>World</a></nav><article><h1>{title}</h1>"
            f"{body}</article><footer>All rights reserved.</footer></body></html>")


class Corpus:
    """Three articles on two hosts, indexed once for the module, found by a made-up word."""

    def __init__(self, tmp: Path) -> None:
        self.token = f"quorbix{uuid.uuid4().hex[:8]}"
        self.collection = f"op-{self.token}"
        self.host_a = f"news-{self.token}.example.org"
        self.host_b = f"www.daily-{self.token}.example.net"
        t = self.token
        pages = [
            (f"https://{self.host_a}/2021/03/summit", "Merkel and Macron meet in Paris", "2021-03-04T10:00:00Z", [
                f"German Chancellor Angela Merkel met French President Emmanuel Macron in Paris on Thursday to discuss "
                f"the {t} agreement, the budget of the European Union and the recovery plan after the pandemic.",
                "Merkel told reporters at the Elysee Palace that Germany and France would present a joint proposal to "
                "the European Commission in Brussels before the summer, and that the plan had broad support.",
                "Macron said the two leaders also spoke about relations with Russia and with the United States, and "
                "about the situation in Ukraine, where talks between the governments have stalled for months.",
            ]),
            (f"https://{self.host_a}/2023/06/berlin", "Microsoft opens a research centre in Berlin", "2023-06-10T08:30:00Z", [
                f"Microsoft chief executive Satya Nadella opened a research centre in Berlin on Saturday, the company's "
                f"largest in Germany, where engineers will work on the {t} language models and on cloud security.",
                "Nadella said the centre would hire three hundred researchers over the next two years and work with "
                "the Technical University of Munich and with Siemens on industrial applications of the technology.",
                "The mayor of Berlin welcomed the investment, which follows similar announcements by Google and Amazon "
                "in the German capital, and said the city would help the company find housing for its staff.",
            ]),
            (f"https://{self.host_b}/2022/01/tokyo", "Toyota unveils electric cars in Tokyo", "2022-01-15T03:00:00Z", [
                f"Toyota president Akio Toyoda unveiled a range of electric cars in Tokyo on Saturday and said the "
                f"{t} battery would reach the market in Japan, Europe and the United States by the end of next year.",
                "Toyoda told journalists that the company would spend billions of dollars on batteries and software, "
                "and that its factories in Japan and in Kentucky would build the first models for customers.",
                "Analysts at Nomura said the announcement answered investors who had criticised Toyota for moving "
                "too slowly while Tesla and Volkswagen were gaining market share in China and in Europe.",
            ]),
        ]
        self.path = tmp / "corpus.jsonl"
        with self.path.open("w") as fh:
            for url, title, published, paragraphs in pages:
                fh.write(json.dumps({"url": url, "html": _article(title, published, paragraphs)}) + "\n")
        self.titles = [p[1] for p in pages]

    def search(self, *args: str) -> list[dict]:
        result = gleaner("search", self.token, "--collection", self.collection, "--json", *args)
        assert result.returncode == 0, result.stderr
        return jsonl(result.stdout)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Corpus:
    corpus = Corpus(tmp_path_factory.mktemp("corpus"))
    result = gleaner("submit", str(corpus.path), "--collection", corpus.collection, "--wait", "--timeout", "300")
    assert result.returncode == 0, result.stderr
    corpus.batch_id = batch_id_of(result)
    corpus.submit_stderr = result.stderr

    def all_titles_found() -> list[dict] | None:
        hits = corpus.search()
        return hits if sorted(h["title"] for h in hits) == sorted(corpus.titles) else None

    # Indexed means written; searchable follows within the index's refresh interval.
    hits = wait_until(all_titles_found, timeout=30, what="all titles searchable", interval=0.5)
    corpus.docs = {h["title"]: h for h in hits}
    return corpus


# --- submit --wait ----------------------------------------------------------------------------

def test_submit_wait_plain_mode_shows_progress_and_a_summary(tmp_path, collection, example_page):
    (tmp_path / "good.txt").write_bytes(example_page.read_bytes())
    (tmp_path / "logo.html").write_bytes(PNG)
    result = gleaner("submit", str(tmp_path), "--collection", collection, "--wait", "--interval", "0.5",
                     "--timeout", "300")
    assert result.returncode == 1, "a failed page makes the exit status 1"
    err = result.stderr
    assert "\x1b[" not in err, "no terminal escapes when not on a terminal"
    batch = batch_id_of(result)
    lines = err.splitlines()
    assert lines[0] == f"batch {batch}: submitting to collection {collection}"
    assert any(line.startswith(f"batch {batch}: submitted 2 pages (") for line in lines)
    progress = [line for line in lines if line.startswith("[0:")]
    assert progress, err
    assert progress[-1].startswith("[0:") and "2/2 done | parsed 1 | enriched 1 | indexed 1 | failed 1" in progress[-1]
    assert any(line.startswith("done in ") and "indexed 1, failed 1 of 2 pages" in line for line in lines), err
    assert "  parse/binary_content: 1" in lines
    assert f"see why: gleaner failures list --batch {batch}" in lines
    assert result.stdout == ""


def test_submit_without_wait_prints_the_batch_and_returns(tmp_path, collection, example_page):
    (tmp_path / "page.txt").write_bytes(example_page.read_bytes())
    result = gleaner("submit", str(tmp_path), "--collection", collection)
    assert result.returncode == 0, result.stderr
    batch = batch_id_of(result)
    assert f"batch {batch}: submitted 1 pages" in result.stderr and "done in" not in result.stderr


# --- status -----------------------------------------------------------------------------------

def test_status_json_reports_queues_workers_rates_failures_and_health(corpus, es, alias):
    import os

    import redis

    from workers.config import get_settings
    from workers.runtime import progress_store
    from workers.store.failures import FailureStore

    client = redis.Redis.from_url(get_settings().redis_url)

    def readings() -> tuple[dict[str, int], int, int]:
        es.indices.refresh(index=alias)
        queues = {q: int(client.llen(q)) for q in ("parse", "enrich", "index")}
        return queues, FailureStore(client).count(), int(es.count(index=alias)["count"])

    queues0, stored0, docs0 = readings()
    report = json.loads(gleaner("status", "--json").stdout)
    queues1, stored1, docs1 = readings()
    assert report["redis"] == "ok" and report["elasticsearch"] in ("green", "yellow")
    assert report["redis_info"]["version"] and report["redis_info"]["maxmemory_policy"] == "noeviction"
    assert report["elasticsearch_info"]["version"].startswith("9.")
    assert any(i["write_index"] for i in report["elasticsearch_info"]["indices"].values())
    assert {"parse", "enrich", "index", "unacked"} <= set(report["queues"])
    for queue in ("parse", "enrich", "index"):  # what Redis held just before and just after
        low, high = sorted((queues0[queue], queues1[queue]))
        assert low <= report["queues"][queue] <= high, (queue, queues0, report["queues"], queues1)
    # The pools as ops/stack.sh starts them.
    concurrency = {"parse": int(os.environ.get("GLEANER_PARSE_CONCURRENCY", "1")),
                   "enrich": int(os.environ.get("GLEANER_ENRICH_CONCURRENCY", str(len(os.sched_getaffinity(0))))),
                   "index": int(os.environ.get("GLEANER_INDEX_CONCURRENCY", "32"))}
    for queue in ("parse", "enrich", "index"):
        (worker,) = report["workers"][queue]
        assert worker.startswith(f"{queue}@"), worker
        assert queue in report["worker_pools"][worker]["queues"]
        assert report["worker_pools"][worker]["concurrency"] == concurrency[queue], (worker, report["worker_pools"])
    for series in ("submit", "parse", "enrich", "index", "failed"):
        stage = report["stages"][series]
        assert len(stage["per_minute"]) == 15
        assert stage["per_s_1m"] >= 0 and stage["per_s_5m"] >= 0 and stage["per_s_15m"] >= 0
    for series in ("submit", "parse", "enrich", "index"):  # the corpus went through within 15 minutes
        assert sum(report["stages"][series]["per_minute"]) >= 3, series
        assert report["stages"][series]["per_s_15m"] > 0
    assert stored0 <= report["failures"]["stored"] <= stored1
    by_stage = {k.decode(): int(v) for k, v in client.hgetall("gleaner:stats:failed_by_stage").items()}
    assert report["failures"]["recorded_by_stage"].keys() <= by_stage.keys()
    assert all(n <= by_stage[k] for k, n in report["failures"]["recorded_by_stage"].items())
    assert docs0 <= report["documents"] <= docs1
    # The recent batches, as the progress store has them.
    listed = {b["batch_id"]: b for b in report["batches"]}
    assert listed and len(listed) <= 5
    for batch_id, batch in listed.items():
        state = progress_store().get(batch_id)
        assert state is not None and batch["submitted"] == state.submitted and batch["collection"] == state.collection
        assert batch["indexed"] <= state.indexed and batch["failed"] <= state.failed + state.indexed
    corpus_state = progress_store().get(corpus.batch_id)
    assert corpus_state.complete and (corpus_state.indexed, corpus_state.failed) == (3, 0)
    assert corpus_state.collection == corpus.collection


def test_status_text_shows_health_stages_and_failures():
    result = gleaner("status")
    assert result.returncode == 0, result.stderr
    text = result.stdout
    for expected in ("Redis", "Elasticsearch", "Documents", "queued", "workers", "/s 1m", "/s 5m", "/s 15m",
                     "parse", "enrich", "index", "failed", "unacked"):
        assert expected in text, expected


# --- search -----------------------------------------------------------------------------------

def test_search_json_is_one_document_per_line_with_id_and_score(corpus):
    hits = corpus.search()
    assert len(hits) == 3
    for hit in hits:
        assert {"id", "score", "title", "url", "domain", "body", "persons", "organizations", "locations",
                "published_at", "collection", "entities"} <= set(hit)
        assert hit["collection"] == corpus.collection and corpus.token in hit["body"]
    scores = [h["score"] for h in hits]
    assert scores == sorted(scores, reverse=True)


def test_search_filters_by_site_date_and_collection(corpus):
    titles = lambda hits: sorted(h["title"] for h in hits)  # noqa: E731
    a, b = corpus.host_a, corpus.host_b
    assert titles(corpus.search("--site", a)) == sorted(corpus.titles[:2])
    # a host matches with or without www., and as a URL
    assert titles(corpus.search("--site", b.removeprefix("www."))) == [corpus.titles[2]]
    assert titles(corpus.search("--site", f"https://{b}/")) == [corpus.titles[2]]
    assert titles(corpus.search("--site", a, "--site", b)) == sorted(corpus.titles)
    assert titles(corpus.search("--since", "2022-01-01")) == sorted(corpus.titles[1:])
    assert titles(corpus.search("--since", "2022-01-15")) == sorted(corpus.titles[1:]), "a date covers its whole day"
    assert titles(corpus.search("--until", "2022-01-15")) == sorted([corpus.titles[0], corpus.titles[2]])
    assert titles(corpus.search("--since", "2021", "--until", "2021")) == [corpus.titles[0]]
    assert titles(corpus.search("--since", "3650d")) == sorted(corpus.titles)
    assert corpus.search("--since", "2030-01-01") == []
    other = gleaner("search", corpus.token, "--collection", f"{corpus.collection}-other", "--json")
    assert other.returncode == 0 and other.stdout == ""
    bad = gleaner("search", corpus.token, "--since", "last tuesday")
    assert bad.returncode == 2 and "7d" in bad.stderr


def _only_in(corpus: Corpus, field: str, title: str) -> str:
    """A value of ``field`` that the page ``title`` has and the other two do not."""
    others = {v for t, d in corpus.docs.items() if t != title for v in d[field]}
    values = [v for v in corpus.docs[title][field] if v not in others]
    assert values, f"NER found no {field} of its own in {title!r}: {corpus.docs[title][field]}"
    return values[0]


def test_search_filters_by_person_organization_and_place(corpus):
    summit, berlin, tokyo = corpus.titles
    person = _only_in(corpus, "persons", summit)
    assert [h["title"] for h in corpus.search("--person", person)] == [summit]
    assert [h["title"] for h in corpus.search("--person", person.upper())] == [summit], "case-insensitive"
    org = _only_in(corpus, "organizations", berlin)
    assert [h["title"] for h in corpus.search("--org", org)] == [berlin]
    place = _only_in(corpus, "locations", tokyo)
    assert [h["title"] for h in corpus.search("--place", place)] == [tokyo]
    assert corpus.search("--person", person, "--place", place) == [], "filters combine with AND"
    assert "Angela Merkel" in corpus.docs[summit]["persons"], corpus.docs[summit]["persons"]
    assert [h["title"] for h in corpus.search("--person", "Angela Merkel")] == [summit]


def test_search_text_shows_ranked_hits_snippets_and_facets(corpus):
    result = gleaner("search", corpus.token, "--collection", corpus.collection)
    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert text.splitlines()[0] == "3 pages match in 3 stories"
    for title in corpus.titles:
        assert title in text
    assert "1. " in text and "2. " in text and "3. " in text
    assert f"https://{corpus.host_a}/2021/03/summit" in text  # the URL
    assert "2021-03-04" in text and "2023-06-10" in text  # the dates
    assert corpus.host_a.removeprefix("www.") in text  # the site
    assert f"[{corpus.token}]" in text, "the query's terms are marked in the snippet"
    facets = text[text.index("Across the 3 stories (stories counted once):"):]
    for label in ("persons", "organizations", "places", "sites"):
        assert f"\n{label} " in facets or facets.startswith(label), label
    assert f"{corpus.host_a} (2)" in facets and f"{corpus.host_b.removeprefix('www.')} (1)" in facets


def test_search_for_nothing_says_so(corpus):
    result = gleaner("search", f"{corpus.token} zzzunheardofword", "--collection", corpus.collection)
    assert result.returncode == 0 and result.stdout.startswith("0 pages match")


# --- failures ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def failed_batch(tmp_path_factory) -> dict:
    folder = tmp_path_factory.mktemp("bad")
    (folder / "logo.html").write_bytes(PNG)
    (folder / "short.html").write_text(SHORT_PAGE)
    collection = f"op-fail-{uuid.uuid4().hex[:8]}"
    result = gleaner("submit", str(folder), "--collection", collection, "--wait", "--timeout", "300")
    assert result.returncode == 1, result.stderr
    batch = batch_id_of(result)
    records = jsonl(gleaner("failures", "list", "--batch", batch, "--json").stdout)
    by_name = {Path(r["source"]).name: r for r in records}
    assert set(by_name) == {"logo.html", "short.html"}, records
    return {"batch": batch, "collection": collection, "folder": folder, "records": by_name}


def test_failures_list_groups_by_reason(failed_batch):
    logo, short = failed_batch["records"]["logo.html"], failed_batch["records"]["short.html"]
    assert logo["stage"] == "parse" and logo["error"] == "binary_content" and "PNG" in logo["reason"]
    assert short["stage"] == "parse" and short["error"] == "empty_after_cleaning"
    assert all("payload" not in r for r in failed_batch["records"].values())
    by_collection = jsonl(gleaner("failures", "list", "--collection", failed_batch["collection"], "--json").stdout)
    assert {r["id"] for r in by_collection} == {logo["id"], short["id"]}
    only_png = jsonl(gleaner("failures", "list", "--batch", failed_batch["batch"], "--reason", "binary_content",
                             "--json").stdout)
    assert [r["id"] for r in only_png] == [logo["id"]]

    text = gleaner("failures", "list", "--batch", failed_batch["batch"]).stdout
    assert text.startswith("2 failed pages, 2 retryable")
    assert "parse · binary_content · 1 page" in text and f"parse · {short['error']} · 1 page" in text
    assert "not a web page: looks like PNG image" in text
    assert logo["id"][:10] in text and short["id"][:10] in text
    assert str(failed_batch["folder"] / "logo.html") in text.replace("\n", "").replace(" ", ""), text
    # `gleaner failures` alone is the list
    bare = gleaner("failures")
    assert bare.returncode == 0 and "failed page" in bare.stdout


def test_failures_show_gives_the_reason_and_the_page(failed_batch):
    logo, short = failed_batch["records"]["logo.html"], failed_batch["records"]["short.html"]
    shown = json.loads(gleaner("failures", "show", logo["id"][:12], "--json").stdout)
    assert shown["id"] == logo["id"] and shown["stage"] == "parse" and shown["retryable"] is True
    assert shown["excerpt_kind"] == "raw page" and shown["excerpt"].startswith("00000000  89 50 4e 47")
    text = gleaner("failures", "show", logo["id"]).stdout
    for expected in ("binary_content", "not a web page: looks like PNG image", "logo.html", failed_batch["batch"],
                     "raw page, 520 bytes, binary: PNG image", "89 50 4e 47", "gleaner failures retry"):
        assert expected in text, expected
    short_text = gleaner("failures", "show", short["id"]).stdout
    assert "Too short to be an article." in short_text and "raw page" in short_text
    raw = gleaner("failures", "show", short["id"], "--raw")
    assert raw.stdout == SHORT_PAGE
    missing = gleaner("failures", "show", "ffffffffffffffffffff")
    assert missing.returncode == 1 and "no failure" in missing.stderr


def test_failures_retry_one_and_by_reason_resubmits_the_pages(failed_batch):
    batch = failed_batch["batch"]
    logo, short = failed_batch["records"]["logo.html"], failed_batch["records"]["short.html"]

    def listed() -> dict[str, dict]:
        return {r["id"]: r for r in jsonl(gleaner("failures", "list", "--batch", batch, "--json").stdout)}

    by_reason = gleaner("failures", "retry", "--reason", "binary_content", "--batch", batch)
    assert by_reason.returncode == 0, by_reason.stderr
    assert "resubmitted 1 page: parse/binary_content 1" in by_reason.stderr
    # the page goes through parse again and fails again: its record comes back, newer
    again = wait_until(lambda: listed().get(logo["id"]), timeout=120, what="the retried failure", interval=1.0)
    assert again["error"] == "binary_content" and again["last_failed_at"] > logo["last_failed_at"]

    one = gleaner("failures", "retry", short["id"][:12])
    assert one.returncode == 0 and "resubmitted 1 page" in one.stderr
    back = wait_until(lambda: listed().get(short["id"]), timeout=120, what="the retried failure", interval=1.0)
    assert back["error"] == short["error"] and back["last_failed_at"] > short["last_failed_at"]

    nothing = gleaner("failures", "retry", "--reason", "no_such_reason", "--batch", batch)
    assert nothing.returncode == 1 and "no failures match" in nothing.stderr
    usage = gleaner("failures", "retry")
    assert usage.returncode == 2


def test_setup_copies_failures_to_the_failures_index(failed_batch, es):
    from workers.store.failure_index import FAILURES_INDEX

    result = gleaner("setup")
    assert result.returncode == 0, result.stderr
    assert f"failures index '{FAILURES_INDEX}' ready" in result.stderr
    es.indices.refresh(index=FAILURES_INDEX)
    hits = es.search(index=FAILURES_INDEX, query={"term": {"batch_id": failed_batch["batch"]}})["hits"]["hits"]
    docs = {h["_id"]: h["_source"] for h in hits}
    logo = failed_batch["records"]["logo.html"]
    assert logo["id"] in docs and docs[logo["id"]]["error"] == "binary_content"
    assert docs[logo["id"]]["retryable"] is True and docs[logo["id"]]["collection"] == failed_batch["collection"]
    mapping = es.indices.get_mapping(index=FAILURES_INDEX)[FAILURES_INDEX]["mappings"]
    assert mapping["dynamic"] == "strict" and mapping["properties"]["error"]["type"] == "keyword"
    # the Kibana panel's aggregation
    aggs = es.search(index=FAILURES_INDEX, size=0, query={"term": {"batch_id": failed_batch["batch"]}},
                     aggs={"reasons": {"terms": {"field": "error"}}})["aggregations"]["reasons"]["buckets"]
    assert {b["key"] for b in aggs} >= {"binary_content"}


def test_mirror_failure_copies_a_record_to_the_failures_index_in_the_background(es):
    """The hook the runtime gives the failure store, called when it records a failure (see
    workers/store/failure_index.py)."""
    from datetime import datetime, timezone

    from workers.models import FailureRecord
    from workers.runtime import failure_mirror
    from workers.store.failure_index import FAILURES_INDEX

    now = datetime.now(timezone.utc)
    rid = f"mirror-{uuid.uuid4().hex[:12]}"
    record = FailureRecord(id=rid, stage="enrich", reason="boom", error="internal_error", source="/x.html",
                           url="https://www.mirror.example.org/a", first_failed_at=now, last_failed_at=now)
    started = time.monotonic()
    failure_mirror().put(record)
    assert time.monotonic() - started < 0.5, "the hook must not wait for Elasticsearch"
    assert failure_mirror().flush(timeout=30)
    doc = es.get(index=FAILURES_INDEX, id=rid)["_source"]
    assert doc["domain"] == "mirror.example.org" and doc["retryable"] is False and doc["error"] == "internal_error"
    es.delete(index=FAILURES_INDEX, id=rid, refresh=True)


def test_pages_an_index_refused_are_indexed_by_a_retry_and_counted_so(tmp_path, es, alias):
    """The index refuses writes (as Elasticsearch does on a full disk); the pages are recorded
    failures at the index stage; once writes are allowed, a retry indexes them and their batch
    counts them indexed, not failed."""
    from workers.runtime import progress_store

    pages = Corpus(tmp_path)
    index = next(iter(es.indices.get_alias(name=alias)))
    es.indices.put_settings(index=index, settings={"index.blocks.write": True})
    try:
        result = gleaner("submit", str(pages.path), "--collection", pages.collection, "--wait", "--timeout", "300")
    finally:
        es.indices.put_settings(index=index, settings={"index.blocks.write": None})
    assert result.returncode == 1, result.stderr
    batch = batch_id_of(result)
    records = jsonl(gleaner("failures", "list", "--batch", batch, "--json").stdout)
    assert len(records) == 3 and {(r["stage"], r["error"]) for r in records} == {("index", "rejected_by_index")}
    assert all("index write" in r["reason"] for r in records), records
    before = progress_store().get(batch)
    assert (before.indexed, before.failed) == (0, 3)

    retried = gleaner("failures", "retry", "--batch", batch)
    assert retried.returncode == 0 and "resubmitted 3 pages: index/rejected_by_index 3" in retried.stderr

    def counted_indexed():
        state = progress_store().get(batch)
        return state if (state.indexed, state.failed) == (3, 0) else None

    after = wait_until(counted_indexed, timeout=120, what="the retried pages counted indexed", interval=0.5)
    assert after.complete

    def all_searchable() -> list[dict] | None:
        hits = pages.search()
        return hits if len(hits) == 3 else None

    hits = wait_until(all_searchable, timeout=30, what="the retried pages searchable", interval=0.5)
    assert sorted(h["title"] for h in hits) == sorted(pages.titles)
    assert jsonl(gleaner("failures", "list", "--batch", batch, "--json").stdout) == []
