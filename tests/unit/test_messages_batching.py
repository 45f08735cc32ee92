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


def test_micro_batcher_keeps_a_group_together_and_in_order():
    seen_batches = []

    def double(items):
        seen_batches.append(list(items))
        return [ValueError("odd") if i == 3 else i * 2 for i in items]

    batcher = MicroBatcher(double, max_size=4, max_wait_s=0.5, name="t3")
    first, second = batcher.submit_many([1, 2, 3]), batcher.submit_many([4, 5, 6])
    got = first.result(timeout=5)
    assert got[:2] == [2, 4] and isinstance(got[2], ValueError), "an item's exception is in its place"
    assert second.result(timeout=5) == [8, 10, 12]
    assert all(batch in ([1, 2, 3, 4, 5, 6], [1, 2, 3], [4, 5, 6]) for batch in seen_batches), seen_batches
    assert batcher.submit_many([]).result(timeout=1) == []


def test_micro_batcher_sends_what_it_has_after_max_wait():
    import time

    batcher = MicroBatcher(lambda items: list(items), max_size=500, max_wait_s=0.05, name="t4")
    started = time.monotonic()
    assert batcher.submit_many([1, 2]).result(timeout=5) == [1, 2]
    assert time.monotonic() - started < 1.0, "sent after max_wait_s, not held for max_size"


def test_micro_batcher_hands_a_batch_exception_to_every_group():
    batcher = MicroBatcher(lambda items: 1 / 0, max_size=5, max_wait_s=0.0, name="t5")
    with pytest.raises(ZeroDivisionError):
        batcher.submit_many([1, 2]).result(timeout=5)


def test_the_index_task_takes_the_body_its_consumer_decoded():
    """Celery's strategy decodes a message's body on the consumer's thread; the index task's request
    hands that decoded body to the pool instead of the text, which a thread would decode again."""
    from kombu import Message

    from workers import json_codec
    from workers.celery_app import DecodedOnceRequest, app
    from workers.tasks import index

    assert index.Request is DecodedOnceRequest
    body = json_codec.dumps([[[{"doc_id": "d1", "document": {"url": "u"}}]], {}, {"callbacks": None}])
    message = Message(body=body, content_type="application/json", content_encoding="utf-8",
                      headers={"task": "gleaner.index", "id": "t1"}, delivery_info={}, properties={})
    decoded = message.payload  # what the strategy has done by the time it builds the request
    request = DecodedOnceRequest(message, app=app, task=index, body=message.body)
    assert request.body is decoded and request.content_type is None
    assert request.args == [[{"doc_id": "d1", "document": {"url": "u"}}]]


def test_json_codec_reads_what_kombu_reads():
    from datetime import datetime, timezone

    from kombu.utils import json as kombu_json

    from workers import json_codec

    for value in ({"a": [1, 2.5, None, True, "é"], "b": {"c": "d"}},
                  {"at": datetime(2024, 1, 1, tzinfo=timezone.utc)}, [b"raw bytes"]):
        text = json_codec.dumps(value)
        assert json_codec.loads(text) == json_codec.loads(text.encode()) == kombu_json.loads(text)
    assert json_codec.loads('"\\ud800"') == "\ud800", "what orjson refuses, kombu's reader reads"
    assert json_codec.loads(memoryview(b'{"x": 1}')) == {"x": 1}
