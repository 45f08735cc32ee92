"""Gathering concurrent single-item calls into batches (bulk writes, ``nlp.pipe``).

A worker running a thread pool hands each message's item to a ``MicroBatcher`` and blocks on
its future; one background thread calls the batch function when ``max_size`` items are waiting
or the oldest has waited ``max_wait_s`` (0: whatever has gathered while the previous batch
ran). The batch function returns one result per item; an exception instance in its place is
raised to that item's caller only. Each message is acknowledged only after its own item's
result is known, so batching keeps at-least-once delivery.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import Generic, TypeVar

T = TypeVar("T")
In = TypeVar("In")
Out = TypeVar("Out")


def gather(source: queue.Queue[T], max_size: int, max_wait_s: float) -> list[T]:
    """Block for one item, then take what else arrives within ``max_wait_s``, up to ``max_size``."""
    batch = [source.get()]
    deadline = time.monotonic() + max_wait_s
    while len(batch) < max_size:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        try:
            batch.append(source.get(timeout=remaining))
        except queue.Empty:
            break
    return batch


class MicroBatcher(Generic[In, Out]):
    def __init__(
        self, fn: Callable[[Sequence[In]], Sequence[Out]], *, max_size: int, max_wait_s: float, name: str
    ) -> None:
        self._fn = fn
        self._max_size = max_size
        self._max_wait_s = max_wait_s
        self._queue: queue.Queue[tuple[In, Future[Out]]] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def submit(self, item: In) -> Future[Out]:
        future: Future[Out] = Future()
        self._queue.put((item, future))
        return future

    def _run(self) -> None:
        while True:
            batch = gather(self._queue, self._max_size, self._max_wait_s)
            items = [item for item, _ in batch]
            try:
                results = self._fn(items)
            except BaseException as exc:  # noqa: BLE001 - handed to every caller of the batch
                for _, future in batch:
                    future.set_exception(exc)
                continue
            for (_, future), result in zip(batch, results, strict=True):
                if isinstance(result, BaseException):
                    future.set_exception(result)
                else:
                    future.set_result(result)
