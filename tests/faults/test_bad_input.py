"""Hostile and broken inputs, submitted together with good pages: each ends as the one outcome
written beside it in ``tests/faults/hostile.py`` (``EXPECTED``: a document containing given text, or
a failure with a given code); no worker dies; the good pages of the same submission are indexed as
usual; nothing in a page is fetched, executed or used as a path."""

from __future__ import annotations

import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.faults.conftest import ROOT, Stack, batch_id_of, pid_alive
from tests.faults.hostile import EXPECTED, HOSTILE_DIR, build_generated_corpus, expected_key
from tests.faults.pages import url_of, write_jsonl

pytestmark = pytest.mark.faults

MAX_PAGE_BYTES = 10 * 1024 * 1024
EXAMPLE = ROOT / "tests" / "fixtures" / "jpost-gantz-2020-09-23.txt"

class _Listener(BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 - http.server API
        _Listener.hits.append(self.path)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"fetched")

    do_POST = do_HEAD = do_GET

    def log_message(self, *args) -> None:
        pass


def _expected_inputs(paths: list[Path]) -> tuple[dict[str, str | None], int]:
    """Source -> URL of every page among the inputs (the producer's own reading), and the non-pages."""
    from workers.inputs import Skipped, iter_inputs

    pages, others = {}, 0
    for item in iter_inputs([str(p) for p in paths], max_bytes=MAX_PAGE_BYTES):
        if isinstance(item, Skipped) and not item.is_page:
            others += 1
        else:
            pages[item.source] = item.url
    return pages, others


def test_hostile_inputs_end_as_documents_or_recorded_failures(stack: Stack, tmp_path) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Listener)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        _run(stack, tmp_path, server.server_address[1])
    finally:
        server.shutdown()


def _run(stack: Stack, tmp_path: Path, port: int) -> None:
    tag = "hostile"
    generated = tmp_path / "generated"
    build_generated_corpus(generated, listener_port=port, max_page_bytes=MAX_PAGE_BYTES)
    good = write_jsonl(tmp_path / "good-pages.jsonl", 10, tag)
    inputs = [HOSTILE_DIR, generated, good, EXAMPLE]
    sources, non_pages = _expected_inputs(inputs)
    hostile = [s for s in sources if not s.startswith((str(good), str(EXAMPLE)))]
    assert len(hostile) >= 40, f"the corpus has {len(hostile)} hostile inputs"

    workers = stack.worker_pids()
    offsets = {w: stack.log_size(f"worker-{w}") for w in workers}
    started = time.monotonic()
    result = stack.gleaner("submit", *map(str, inputs), "--collection", tag, "--plain")
    assert result.returncode in (0, 1), result.stderr
    batch_id = batch_id_of(result.stderr)

    def look() -> tuple[list[dict], dict[str, dict], dict[str, dict], set[str], list[str]]:
        listed = stack.docs(tag)
        by_source = {d["source"]: d for d in listed}
        doc_urls = {d.get("url") for d in listed} - {None}
        failed = {r["source"]: r for r in stack.failures() if r.get("collection") == tag}
        # A page is a document if one has its source, or its URL (two inputs of one URL are one document).
        found = {s for s, url in sources.items() if s in by_source or (url and url in doc_urls and s not in failed)}
        return listed, by_source, failed, found, [s for s in sources if s not in found and s not in failed]

    # Until every input has ended somewhere, or the deadline: what is missing then is lost.
    deadline = time.monotonic() + 400
    while True:
        listed, docs, failures, indexed, missing = look()
        if not missing or time.monotonic() > deadline:
            break
        time.sleep(2)
    elapsed = time.monotonic() - started
    both = [s for s in sources if s in docs and s in failures]
    per_source = Counter(d["source"] for d in listed)
    duplicated = [s for s, k in per_source.items() if k > 1]
    errors = Counter(r["error"] for s, r in failures.items() if s in sources)
    stack.figures("bad input", pages=len(sources), hostile=len(hostile), non_pages=non_pages,
                  documents=len(indexed), failed=sum(1 for s in sources if s in failures),
                  lost=len(missing), duplicated=len(duplicated), indexed_and_failed=len(both), errors=dict(errors),
                  listener_hits=len(_Listener.hits), recover_s="-", total_s=round(elapsed, 1))

    assert not missing, f"inputs that ended nowhere: {missing}"
    assert not both, f"inputs both indexed and failed: {both}"
    assert not duplicated, f"inputs indexed more than once: {duplicated}"
    for source in sources:
        if source in failures:
            record = failures[source]
            assert record["stage"] in ("submit", "parse", "enrich", "index") and record["error"] and record["reason"]
            assert record["first_failed_at"] and record["attempts"] >= 1
    # Every hostile input has one expected outcome, and ends as it.
    keys = {expected_key(s): s for s in hostile}
    assert len(keys) == len(hostile) and set(keys) == set(EXPECTED), (
        f"inputs without an expected outcome: {sorted(set(keys) - set(EXPECTED))}; "
        f"expected outcomes without an input: {sorted(set(EXPECTED) - set(keys))}")
    by_url = {d.get("url"): d for d in docs.values() if d.get("url")}
    wrong = []
    for key, source in sorted(keys.items()):
        outcome = EXPECTED[key]
        document = docs.get(source) or (by_url.get(sources[source]) if source not in failures else None)
        if outcome.failure:
            got = failures.get(source, {}).get("error") or ("document" if document else "nothing")
            if got != outcome.failure:
                wrong.append(f"{key}: expected failure {outcome.failure}, got {got}")
        elif document is None:
            record = failures.get(source, {})
            wrong.append(f"{key}: expected a document with {outcome.text!r}, got {record.get('error')}: "
                         f"{record.get('reason')}")
        elif outcome.text not in f"{document.get('title') or ''}\n{document.get('body') or ''}":
            wrong.append(f"{key}: its document lacks {outcome.text!r}: {(document.get('body') or '')[:120]!r}")
    assert not wrong, "\n".join(wrong)
    for name in ("page-100mb.html", "bomb-zeros.html.gz", "bomb-in-warc.warc.gz", "bomb.jsonl.gz"):
        (record,) = [r for s, r in failures.items() if Path(s.split("#")[0]).name == name]
        assert record["stage"] == "submit" and "cap" in record["reason"], record

    # The other pages of the same submission are unaffected.
    assert all(url_of(i, tag) in {d.get("url") for d in docs.values()} for i in range(10))
    example = docs[str(EXAMPLE)]
    assert example["title"] == "Gantz in US talks of Iran, Israel's QME in shadow of F-35 sales to UAE"
    # The batch's counters agree once they have caught up with the documents found.
    state = stack.wait_batch(batch_id, timeout=60)
    assert state["indexed"] + state["failed"] == state["submitted"]

    # No worker died, no child was lost or killed by the hard time limit.
    assert stack.worker_pids() == workers and all(map(pid_alive, workers.values()))
    logs = "".join(stack.log_since(f"worker-{w}", offsets[w]) for w in workers)
    assert "WorkerLostError" not in logs and "Hard time limit" not in logs and "Unrecoverable" not in logs

    # Page content is data: nothing fetched, no local file read into a document.
    assert _Listener.hits == [], f"a page made the pipeline fetch {_Listener.hits}"
    assert not any("root:x:0:0" in (d.get("body") or "") for d in docs.values())
