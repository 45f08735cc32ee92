"""The two runners over the one pipeline: the Celery tasks (``workers/tasks.py``) and the
in-process runner (``workers/offline.py``) end every page the same way."""

from __future__ import annotations

import pytest

from workers import offline
from workers.config import Settings
from workers.models import RawPage
from workers.pipeline import PIPELINE, Resources, Stage, per_page
from workers.tasks import outcome_of

pytestmark = pytest.mark.unit
ARTICLE = "<html><body><article><h1>Story {i}</h1><p>{body}</p></article></body></html>"


def _html(i: int, body: str | None = None) -> str:
    return ARTICLE.format(i=i, body=body or " ".join(f"Benny Gantz met the secretary, part {k}." for k in range(8)))


def _files(tmp_path) -> list[str]:
    for i in range(4):
        body = "BREAK " * 30 if i == 2 else None
        (tmp_path / f"p{i}.html").write_text(_html(i, body))
    (tmp_path / "p4.html").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(64))
    return [str(tmp_path)]


def test_gleaner_process_isolates_the_page_that_breaks_an_entity_batch(tmp_path, fake_entities):
    *before, _ = PIPELINE
    results = list(offline.run(_files(tmp_path), before, Resources(settings=Settings(), entities=fake_entities)))
    failures = {r.source.rsplit("/", 1)[-1]: r for r in results if isinstance(r, offline.PageFailure)}
    documents = [r for r in results if not isinstance(r, offline.PageFailure)]
    assert sorted(failures) == ["p2.html", "p4.html"]
    assert (failures["p2.html"].stage, failures["p2.html"].error) == ("enrich", "internal_error")
    assert (failures["p4.html"].stage, failures["p4.html"].error) == ("parse", "binary_content")
    assert [d.document.title for d in documents] == ["Story 0", "Story 1", "Story 3"], "input order"


def test_the_workers_end_the_same_pages_the_same_way(tmp_path, fake_entities):
    from workers.inputs import iter_inputs
    from workers.messages import pack_page

    resources = Resources(settings=Settings(), entities=fake_entities)
    pages = [p for p in iter_inputs(_files(tmp_path), max_bytes=10**6) if isinstance(p, RawPage)]
    messages = [pack_page(p, batch_id="b", seq=i, max_bytes=10**6).model_dump(mode="json") for i, p in enumerate(pages)]
    parsed = outcome_of(PIPELINE["parse"], messages, resources)
    assert [(f.error, f.page.source.rsplit("/", 1)[-1]) for _, f in parsed.failed] == [("binary_content", "p4.html")]
    enriched = outcome_of(PIPELINE["enrich"], [result for _, result in parsed.done], resources)
    assert [(f.error, m["source"].rsplit("/", 1)[-1]) for m, f in enriched.failed] == [("internal_error", "p2.html")]
    assert [r["document"]["title"] for _, r in enriched.done] == ["Story 0", "Story 1", "Story 3"]
    assert [r["seq"] for _, r in enriched.done] == [0, 1, 3], "each page keeps its reference"
    from workers.stages.near_duplicates import fingerprint

    for _, r in enriched.done:  # near-duplicate keys come with the document; its cluster, at indexing
        document = r["document"]
        assert document["dedup"] == fingerprint(document["body"]).stored()
        assert "cluster_id" not in document and "duplicate_of" not in document


def test_a_worker_refuses_a_message_that_does_not_fit_its_stage():
    outcome = outcome_of(PIPELINE["enrich"], [{"source": "s", "doc_id": "d"}, ["not", "a", "page"]],
                         Resources(settings=Settings()))
    assert [f.error for _, f in outcome.failed] == ["invalid_message", "invalid_message"] and not outcome.done


def test_the_last_stage_hands_nothing_on(fake_entities, fake_writer):
    stage = PIPELINE.last
    message = {"source": "s", "batch_id": "b", "seq": 0, "doc_id": "d1",
               "document": {"title": "ok", "source": "s", "fetched_at": "2024-05-06T07:08:09+00:00"}}
    outcome = outcome_of(stage, [message, {**message, "doc_id": "d2", "document": {"title": "RETRY"}}],
                         Resources(settings=Settings(), entities=fake_entities, write=fake_writer))
    assert outcome.done == [(message, None)] and [why for _, why in outcome.transient] == ["status 503"]


def test_gleaner_process_runs_a_bundle_it_crashed_on_page_by_page():
    def crash_on_the_bundle(values, resources):
        if len(values) > 1:
            raise MemoryError("the whole bundle")
        if values[0].source == "bad":
            raise RuntimeError("this page")
        return values

    stage = Stage("parse", "parsed", takes=RawPage, gives=None, steps=(crash_on_the_bundle,))
    pages = [RawPage(content=b"x", source=s) for s in ("a", "bad", "c")]
    results = list(offline.through(stage, pages, Resources(settings=Settings()), bundle_pages=8))
    assert [r.source for r in results] == ["a", "bad", "c"]
    assert isinstance(results[1], offline.PageFailure) and results[1].error == "internal_error"
    assert results[0] is pages[0] and results[2] is pages[2]


def test_a_refused_input_is_a_submit_failure(tmp_path):
    (tmp_path / "big.html").write_bytes(b"<p>" + b"x" * 2000)
    (item,) = offline.run([str(tmp_path / "big.html")], [], Resources(settings=Settings(max_page_bytes=1000)))
    assert isinstance(item, offline.PageFailure) and (item.stage, item.error) == ("submit", "refused_at_submit")


def test_a_dependency_down_fails_the_pages_in_process_without_a_retry():
    def down(value, resources):
        raise ConnectionError("Elasticsearch is down")

    stage = Stage("index", "indexed", takes=RawPage, gives=None, steps=(per_page(down),))
    (result,) = offline.through(stage, [RawPage(content=b"x", source="a")], Resources(settings=Settings()),
                                bundle_pages=8)
    assert isinstance(result, offline.PageFailure) and result.error == "unavailable"
