"""Packing raw pages into parse messages and back (``workers/messages.py``)."""

import base64
import threading
import zlib

import pytest

from workers.errors import PermanentPageError
from workers.messages import PageTooLarge, pack_page, unpack_page
from workers.models import PageMessage, PageRef, RawPage

pytestmark = pytest.mark.unit


def test_pack_unpack_roundtrip():
    page = RawPage(content=b"<p>hello</p>" * 100, source="a.html", url="https://x.org/", kind="html")
    msg = pack_page(page, batch_id="b1", seq=7, max_bytes=10_000)
    assert msg.size == len(page.content) and len(msg.content_z) < msg.size
    assert msg.page == PageRef(source="a.html", url="https://x.org/", batch_id="b1", seq=7)
    again = unpack_page(PageMessage.model_validate_json(msg.model_dump_json()), max_bytes=10_000)
    assert again.content == page.content and again.url == page.url and again.kind == "html"
    assert again.record is None and "record" not in msg.model_dump(exclude_none=True)


def test_a_jsonl_record_keeps_its_mark_on_the_queue():
    page = RawPage(content=b'{"html": "<p>x</p>"}\n', source="p.jsonl#3", record="jsonl")
    msg = pack_page(page, batch_id="b1", seq=0, max_bytes=10_000)
    again = unpack_page(PageMessage.model_validate_json(msg.model_dump_json()), max_bytes=10_000)
    assert msg.record == "jsonl" and again.record == "jsonl" and again.content == page.content


def test_compressing_from_several_threads_at_once():
    pages = [RawPage(content=(f"<p>page {i}</p>" * 2000).encode(), source=f"{i}") for i in range(64)]
    results: dict[int, bytes] = {}

    def work(start: int) -> None:
        for i in range(start, len(pages), 4):
            msg = pack_page(pages[i], batch_id="b", seq=i, max_bytes=10**6)
            results[i] = unpack_page(msg, max_bytes=10**6).content

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(results[i] == pages[i].content for i in range(len(pages)))


def test_pack_refuses_oversized():
    with pytest.raises(PageTooLarge, match="cap"):
        pack_page(RawPage(content=b"x" * 101, source="s"), batch_id="b", seq=0, max_bytes=100)


def test_unpack_refuses_a_bomb():
    bomb = base64.b64encode(zlib.compress(b"\0" * 5_000_000)).decode()
    msg = PageMessage(content_z=bomb, size=10, source="s", batch_id="b")
    with pytest.raises(PermanentPageError) as err:
        unpack_page(msg, max_bytes=1000)
    assert err.value.code == "oversized"


def test_pack_uses_zstd_and_a_zstd_bomb_is_refused_too():
    import zstandard

    msg = pack_page(RawPage(content=b"<p>x</p>" * 50, source="s"), batch_id="b", seq=0, max_bytes=10_000)
    assert msg.codec == "zstd"
    for bomb in (zstandard.ZstdCompressor().compress(b"\0" * 5_000_000),
                 zstandard.ZstdCompressor(write_content_size=False).compress(b"\0" * 5_000_000)):
        msg = PageMessage(content_z=base64.b64encode(bomb).decode(), codec="zstd", size=10, source="s", batch_id="b")
        with pytest.raises(PermanentPageError) as err:
            unpack_page(msg, max_bytes=1000)
        assert err.value.code == "oversized"


def test_a_zlib_message_of_an_earlier_version_still_unpacks():
    raw = b"<html><p>stored before zstd</p></html>"
    msg = PageMessage.model_validate({"content_z": base64.b64encode(zlib.compress(raw)).decode(), "size": len(raw),
                                      "source": "s", "batch_id": "b", "seq": 3, "url": "https://x.org/"})
    assert msg.codec == "zlib" and unpack_page(msg, max_bytes=1000).content == raw
    assert msg.page == PageRef(source="s", url="https://x.org/", batch_id="b", seq=3)


def test_unpack_refuses_garbage():
    msg = PageMessage(content_z="not base64!!", size=10, source="s", batch_id="b")
    with pytest.raises(PermanentPageError):
        unpack_page(msg, max_bytes=1000)
