import base64
import threading
import zlib

import pytest

from workers.batching import MicroBatcher
from workers.messages import PageTooLarge, pack_page, unpack_page
from workers.models import PageMessage, RawPage
from workers.stages.errors import PermanentPageError

pytestmark = pytest.mark.unit


def test_pack_unpack_roundtrip():
    page = RawPage(content=b"<p>hello</p>" * 100, source="a.html", url="https://x.org/", kind="html")
    msg = pack_page(page, batch_id="b1", seq=7, max_bytes=10_000)
    assert msg.size == len(page.content) and len(msg.content_z) < msg.size
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
                                      "source": "s", "batch_id": "b"})
    assert msg.codec == "zlib" and unpack_page(msg, max_bytes=1000).content == raw


def test_unpack_refuses_garbage():
    msg = PageMessage(content_z="not base64!!", size=10, source="s", batch_id="b")
    with pytest.raises(PermanentPageError):
        unpack_page(msg, max_bytes=1000)


def test_micro_batcher_batches_and_isolates_errors():
    seen_batches = []

    def double(items):
        seen_batches.append(len(items))
        return [ValueError("odd") if i == 3 else i * 2 for i in items]

    batcher = MicroBatcher(double, max_size=50, max_wait_s=0.2, name="t")
    results, errors = {}, {}

    def call(i):
        try:
            results[i] = batcher.submit(i).result(timeout=5)
        except ValueError as exc:
            errors[i] = exc

    threads = [threading.Thread(target=call, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == {i: i * 2 for i in range(20) if i != 3}
    assert list(errors) == [3]
    assert sum(seen_batches) == 20 and max(seen_batches) > 1


def test_micro_batcher_hands_batch_exception_to_every_caller():
    batcher = MicroBatcher(lambda items: 1 / 0, max_size=5, max_wait_s=0.0, name="t2")
    with pytest.raises(ZeroDivisionError):
        batcher.submit(1).result(timeout=5)


def test_the_producer_waits_while_the_parse_queue_is_full():
    from workers.producer import wait_for_room

    depths = iter([12, 11, 10, 3])
    heard = []
    waited = wait_for_room(lambda: next(depths), 10, poll_s=0.01, on_wait=heard.append)
    assert heard == [12, 11] and waited >= 0.02
    assert wait_for_room(lambda: 10**9, 0) == 0.0, "0 means no limit"
