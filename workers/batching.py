"""Gathering concurrent single-item calls into batches (bulk writes, ``nlp.pipe``).

A worker running a thread pool hands each message's items to a ``MicroBatcher`` and blocks on
their future; one background thread calls the batch function when ``max_size`` items are waiting
or the oldest has waited ``max_wait_s`` (0: whatever has gathered while the previous batch ran).
The batch function returns one result per item; an exception instance in its place is that item's
alone. Each message is acknowledged only after its own items' results are known, so batching keeps
at-least-once delivery.

With a ``prepare`` function the batcher is a two-step pipeline: the gathering thread prepares a
batch (the index writer: places its documents in near-duplicate clusters) and hands it to a second
thread that runs the batch function (the bulk request), so the next batch is gathered and prepared
while the previous one is written. Batches are prepared, and written, one at a time and in order.
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


Group = tuple[Sequence[In], Future[list[Out | BaseException]]]


class MicroBatcher(Generic[In, Out]):
    def __init__(
        self,
        fn: Callable[[Sequence[In]], Sequence[Out | BaseException]],
        *,
        max_size: int,
        max_wait_s: float,
        name: str,
        prepare: Callable[[Sequence[In]], Sequence[In]] | None = None,
    ) -> None:
        self._fn = fn
        self._prepare = prepare
        self._max_size = max_size
        self._max_wait_s = max_wait_s
        self._queue: queue.Queue[tuple[Sequence[In], Future[list[Out | BaseException]]]] = queue.Queue()
        # one prepared batch waits while one is written: preparing runs at most one batch ahead
        self._prepared: queue.Queue[tuple[list[Group[In, Out]], Sequence[In]]] = queue.Queue(maxsize=1)
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()
        if prepare is not None:
            self._writer = threading.Thread(target=self._write, name=f"{name}-write", daemon=True)
            self._writer.start()

    def submit(self, item: In) -> Future[Out]:
        """One item; its future raises the item's exception."""
        single: Future[Out] = Future()

        def unpack(group: Future[list[Out | BaseException]]) -> None:
            exc = group.exception()
            result = exc if exc is not None else group.result()[0]
            if isinstance(result, BaseException):
                single.set_exception(result)
            else:
                single.set_result(result)

        self.submit_many([item]).add_done_callback(unpack)
        return single

    def submit_many(self, items: Sequence[In]) -> Future[list[Out | BaseException]]:
        """Several items that go into the same batch (a bundle's documents): one future for all of
        them, whose result is each item's result or exception in order; it raises only what the
        batch function raised for the whole batch. One future per group instead of per item keeps
        the batcher's own cost per bundle, not per document."""
        future: Future[list[Out | BaseException]] = Future()
        if items:
            self._queue.put((items, future))
        else:
            future.set_result([])
        return future

    def _gather(self) -> list[Group[In, Out]]:
        """Block for one group, then take the groups that arrive within ``max_wait_s``, until
        ``max_size`` items (a group is never split)."""
        batch = [self._queue.get()]
        size = len(batch[0][0])
        deadline = time.monotonic() + self._max_wait_s
        while size < self._max_size:
            remaining = deadline - time.monotonic()
            try:
                group = self._queue.get(timeout=remaining) if remaining > 0 else self._queue.get_nowait()
            except queue.Empty:
                break
            batch.append(group)
            size += len(group[0])
        return batch

    def _run(self) -> None:
        while True:
            batch = self._gather()
            items: Sequence[In] = [item for group, _ in batch for item in group]
            if self._prepare is None:
                self._finish(batch, items)
                continue
            try:
                items = self._prepare(items)
                if len(items) != sum(len(group) for group, _ in batch):
                    raise RuntimeError(f"prepare returned {len(items)} items for a batch of {len(batch)} groups")
            except BaseException as exc:  # noqa: BLE001 - handed to every caller of the batch
                _fail(batch, exc)
                continue
            self._prepared.put((batch, items))

    def _write(self) -> None:
        while True:
            self._finish(*self._prepared.get())

    def _finish(self, batch: list[Group[In, Out]], items: Sequence[In]) -> None:
        """Run the batch function on a batch's items and hand each group its results."""
        try:
            results: list[Out | BaseException] = list(self._fn(items))
            if len(results) != len(items):
                raise RuntimeError(f"batch function returned {len(results)} results for {len(items)} items")
        except BaseException as exc:  # noqa: BLE001 - handed to every caller of the batch
            _fail(batch, exc)
            return
        start = 0
        for group, future in batch:
            future.set_result(results[start:start + len(group)])
            start += len(group)


def _fail(batch: list[Group[In, Out]], exc: BaseException) -> None:
    """Every group of the batch gets the exception that stopped the whole batch."""
    for _, future in batch:
        future.set_exception(exc)
