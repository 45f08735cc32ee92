"""Hostile and broken inputs, submitted together with good pages: each ends as a valid document or a
recorded failure with a clear reason; no worker dies; the good pages of the same submission are
indexed as usual; nothing in a page is fetched, executed or used as a path."""

from __future__ import annotations

import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.faults.conftest import ROOT, Stack, batch_id_of, pid_alive
from tests.faults.hostile import HOSTILE_DIR, build_generated_corpus
from tests.faults.pages import url_of, write_jsonl

pytestmark = pytest.mark.faults

MAX_PAGE_BYTES = 10 * 1024 * 1024
EXAMPLE = ROOT / "tests" / "fixtures" / "jpost-gantz-2020-09-23.txt"

# What some inputs must become (file name -> "document" or the failure's error code); the others
# may end either way, as long as they end.
EXPECTED = {
    "empty.html": "empty", "whitespace-only.html": "empty",
    "image.png": "binary_content", "png-named-html.html": "binary_content", "document.pdf": "binary_content",
    "program.elf": "binary_content", "archive.zip": "binary_content", "photo.jpg": "binary_content",
    "all-nul.html": "binary_content",
    "script-only.html": "empty_after_cleaning", "style-only.html": "empty_after_cleaning",
    "corrupt.html.gz": "refused_at_submit", "not-gzip.html.gz": "refused_at_submit",
    "page-100mb.html": "refused_at_submit", "bomb-zeros.html.gz": "refused_at_submit",
    "bomb-markup.html.gz": "refused_at_submit", "nested-million-closed.html": "refused_at_submit",
    "rtl-arabic.html": "document", "rtl-hebrew.txt": "document", "cjk-chinese.html": "document",
    "cjk-japanese.txt": "document", "korean.html": "document", "emoji.html": "document",
    "shift-jis-declared.html": "document", "utf16-bom.html": "document", "invalid-utf8.html": "document",
    "mixed-encodings.html": "document", "latin1-undeclared.txt": "document", "nul-bytes.html": "document",
    "unclosed-tags.html": "document", "zalgo-combining.html": "document", "bidi-controls.html": "document",
    "javascript-urls.html": "document", "external-resources.html": "document", "xxe-entities.xhtml": "document",
    "huge-single-line.txt": "document",
}


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
    state = stack.wait_batch(batch_id, timeout=400)
    elapsed = time.monotonic() - started

    docs = {d["source"]: d for d in stack.docs(tag)}
    doc_urls = {d.get("url") for d in docs.values()} - {None}
    failures = {r["source"]: r for r in stack.failures() if r.get("collection") == tag}
    # A page is a document if one has its source, or its URL (two inputs of one URL are one document).
    indexed = {s for s, url in sources.items() if s in docs or (url and url in doc_urls and s not in failures)}
    missing = [s for s in sources if s not in indexed and s not in failures]
    both = [s for s in sources if s in docs and s in failures]
    errors = Counter(r["error"] for s, r in failures.items() if s in sources)
    stack.figures("bad input", pages=len(sources), hostile=len(hostile), non_pages=non_pages,
                  documents=len(indexed), failed=sum(1 for s in sources if s in failures),
                  lost=len(missing), duplicated=len(both), errors=dict(errors), listener_hits=len(_Listener.hits),
                  recover_s="-", total_s=round(elapsed, 1))

    assert not missing, f"inputs that ended nowhere: {missing}"
    assert not both, f"inputs both indexed and failed: {both}"
    for source in sources:
        if source in failures:
            record = failures[source]
            assert record["stage"] in ("submit", "parse", "enrich", "index") and record["error"] and record["reason"]
            assert record["first_failed_at"] and record["attempts"] >= 1
    for name, outcome in EXPECTED.items():
        (source,) = [s for s in sources if Path(s.split("#")[0]).name == name]
        got = "document" if source in indexed else failures[source]["error"]
        assert got == outcome, f"{name}: expected {outcome}, got {got} ({failures.get(source, {}).get('reason')})"
    for name in ("page-100mb.html", "bomb-zeros.html.gz", "bomb-in-warc.warc.gz", "bomb.jsonl.gz"):
        (record,) = [r for s, r in failures.items() if Path(s.split("#")[0]).name == name]
        assert record["stage"] == "submit" and "cap" in record["reason"], record

    # The other pages of the same submission are unaffected.
    assert all(url_of(i, tag) in {d.get("url") for d in docs.values()} for i in range(10))
    example = docs[str(EXAMPLE)]
    assert example["title"] == "Gantz in US talks of Iran, Israel's QME in shadow of F-35 sales to UAE"
    assert state["indexed"] + state["failed"] == state["submitted"]

    # No worker died, no child was lost or killed by the hard time limit.
    assert stack.worker_pids() == workers and all(map(pid_alive, workers.values()))
    logs = "".join(stack.log_since(f"worker-{w}", offsets[w]) for w in workers)
    assert "WorkerLostError" not in logs and "Hard time limit" not in logs and "Unrecoverable" not in logs

    # Page content is data: nothing fetched, no local file read into a document.
    assert _Listener.hits == [], f"a page made the pipeline fetch {_Listener.hits}"
    assert not any("root:x:0:0" in (d.get("body") or "") for d in docs.values())
