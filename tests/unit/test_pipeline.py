"""The pipeline table (``workers/pipeline.py``): its order, and each stage's steps on a bundle,
with stand-ins for the NER model and the index writer."""

from __future__ import annotations

import pytest

from workers.config import Settings
from workers.errors import PermanentPageError, TransientError
from workers.messages import pack_page
from workers.models import IndexMessage, PageMessage, PageRef, ParsedPage, RawPage
from workers.pipeline import PIPELINE, Pipeline, Resources, Stage, can_retry, per_page, task_name

pytestmark = pytest.mark.unit
ARTICLE = "<html><body><article><h1>{title}</h1><p>{body}</p></article></body></html>"


def _page(i: int, *, title: str = "Gantz in Washington", body: str | None = None) -> RawPage:
    text = body or " ".join(f"Benny Gantz met the defense secretary in Washington, story {i} part {k}." for k in range(6))
    return RawPage(content=ARTICLE.format(title=title, body=text).encode(), source=f"p{i}.html",
                   url=f"https://x.org/{i}", kind="html", collection="c")


def _message(i: int, **kw) -> PageMessage:
    return pack_page(_page(i, **kw), batch_id="b", seq=i, max_bytes=10**6)


def test_the_order_is_written_once_and_every_stage_knows_the_next():
    assert PIPELINE.names == ("parse", "enrich", "index")
    assert [stage.next for stage in PIPELINE] == ["enrich", "index", None]
    assert PIPELINE.first.name == "parse" and PIPELINE.last.name == "index" and PIPELINE.next("index") is None
    assert [stage.name for stage in PIPELINE.from_stage("enrich")] == ["enrich", "index"]
    assert PIPELINE["parse"].takes is PageMessage and PIPELINE["parse"].gives is ParsedPage
    assert PIPELINE["enrich"].gives is IndexMessage and PIPELINE["index"].gives is None
    assert [stage.done for stage in PIPELINE] == ["parsed", "enriched", "indexed"]
    assert task_name("enrich") == "gleaner.enrich"
    with pytest.raises(ValueError, match="stage names"):
        Pipeline(PIPELINE["parse"], PIPELINE["index"])


def test_parse_cleans_each_page_and_a_bad_page_fails_alone():
    messages = [_message(0), pack_page(RawPage(content=b"\x89PNG\r\n\x1a\n" + bytes(64), source="logo.png"),
                                        batch_id="b", seq=1, max_bytes=10**6), _message(2)]
    results = PIPELINE["parse"].run(messages, Resources(settings=Settings()))
    assert isinstance(results[0], ParsedPage) and isinstance(results[2], ParsedPage)
    assert isinstance(results[1], PermanentPageError) and results[1].code == "binary_content"
    assert results[2].page == PageRef(source="p2.html", url="https://x.org/2", collection="c", batch_id="b", seq=2)
    assert results[0].extraction.title == "Gantz in Washington"


def test_a_json_lines_record_names_its_page_even_when_it_fails():
    line = b'{"url": "https://x.org/short", "html": "<p>too short</p>", "collection": "own"}\n'
    message = pack_page(RawPage(content=line, source="p.jsonl#4", collection="sub", record="jsonl"), batch_id="b",
                        seq=3, max_bytes=10**6)
    (failed,) = PIPELINE["parse"].run([message], Resources(settings=Settings()))
    assert isinstance(failed, PermanentPageError) and failed.code in ("empty_after_cleaning", "too_short_after_cleaning")
    assert failed.page == PageRef(source="p.jsonl#4", url="https://x.org/short", collection="own", batch_id="b", seq=3)


def test_enrich_isolates_the_page_that_breaks_the_entity_batch(fake_entities):
    parsed = PIPELINE["parse"].run([_message(0), _message(1, body="BREAK " * 30), _message(2)],
                                   Resources(settings=Settings()))
    results = PIPELINE["enrich"].run(parsed, Resources(settings=Settings(), entities=fake_entities))
    assert fake_entities.batches == [3] and fake_entities.singles == 3, "the batch broke: each page on its own"
    assert isinstance(results[1], ValueError)
    docs = [results[0], results[2]]
    assert all(isinstance(d, IndexMessage) and d.document.persons == ["Benny Gantz"] for d in docs)
    assert docs[1].page.seq == 2 and docs[1].document.pipeline.ner_model == "fake-ner-1"
    assert docs[1].document.source == "p2.html" and docs[1].document.batch_id == "b"


def test_index_writes_and_sorts_what_the_index_refuses_or_did_not_take(fake_entities, fake_writer):
    resources = Resources(settings=Settings(), entities=fake_entities, write=fake_writer)
    parsed = PIPELINE["parse"].run([_message(0), _message(1, title="REJECT me"), _message(2, title="RETRY me")],
                                   resources)
    documents = PIPELINE["enrich"].run(parsed, resources)
    results = PIPELINE["index"].run(documents, resources)
    assert results[0].outcome == "indexed" and fake_writer.written == [documents[0].doc_id]
    assert isinstance(results[1], PermanentPageError) and results[1].code == "rejected_by_index"
    assert isinstance(results[2], TransientError) and "503" in str(results[2])


def test_a_dependency_down_stops_the_whole_bundle():
    def down(value, resources):
        raise ConnectionError("Elasticsearch is down")

    stage = Stage("index", "indexed", takes=IndexMessage, gives=None, steps=(per_page(down),))
    with pytest.raises(ConnectionError):
        stage.run([object(), object()], Resources(settings=Settings()))


def test_a_runner_s_interruption_stops_the_bundle_and_a_crash_on_one_page_does_not():
    class TimeLimit(Exception):
        pass

    def step(value, resources):
        if value == "slow":
            raise TimeLimit()
        if value == "bug":
            raise KeyError("a bug")
        return value

    stage = Stage("parse", "parsed", takes=PageMessage, gives=None, steps=(per_page(step),))
    results = stage.run(["a", "bug", "b"], Resources(settings=Settings()))
    assert results[0] == "a" and isinstance(results[1], KeyError) and results[2] == "b"
    with pytest.raises(TimeLimit):
        stage.run(["a", "slow"], Resources(settings=Settings(), interrupts=(TimeLimit,)))


def test_a_failure_can_be_retried_when_it_failed_in_a_stage_and_its_message_was_kept():
    from tests.unit.cli.conftest import record

    assert can_retry(record("a", stage="enrich", payload={"x": 1}))
    assert not can_retry(record("b", stage="enrich"))
    assert not can_retry(record("c", stage="submit", payload={"x": 1}))
