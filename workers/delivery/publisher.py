"""Bundling pages and publishing them in order, off the producer's main thread.

The producer reads pages into groups (``Group``); a group is packed (zstd, base64) into one bundle,
or more when its compressed pages pass ``GLEANER_BUNDLE_BYTES`` (``pack_group``), and published
by ``OrderedPublisher``: packing runs on two threads and publishing on a third, in input order,
so reading goes on while a bundle travels to Redis.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from workers.config import Settings
from workers.messages import pack_page
from workers.models import RawPage

IN_FLIGHT = 4  # groups read but not yet published, at most (beyond those being packed)
Message = dict[str, Any]


@dataclass
class Group:
    """Raw pages read and waiting to be packed into one bundle (or more, see ``pack_group``)."""

    pages: list[RawPage] = field(default_factory=list)
    seqs: list[int] = field(default_factory=list)
    raw_bytes: int = 0
    opened_at: float = 0.0

    def add(self, page: RawPage, seq: int) -> None:
        if not self.pages:
            self.opened_at = time.monotonic()
        self.pages.append(page)
        self.seqs.append(seq)
        self.raw_bytes += len(page.content)

    def full(self, settings: Settings) -> bool:
        # Compressed sizes are known only once packed; raw content is capped at four times the
        # bundle's byte budget, which bounds the producer's memory.
        return (len(self.pages) >= settings.bundle_pages or self.raw_bytes >= 4 * settings.bundle_bytes
                or time.monotonic() - self.opened_at >= settings.bundle_wait_s)

    @property
    def sources(self) -> list[str]:
        return [page.source for page in self.pages]


@dataclass
class Packed:
    """A group packed into messages of at most ``GLEANER_BUNDLE_BYTES`` of compressed content."""

    bundles: list[list[Message]]
    sent_pages: int = 0  # how many of the group's pages were published (a prefix of them)
    sent_bundles: int = 0
    error: BaseException | None = None  # why publishing stopped, if it did


def pack_group(group: Group, *, batch_id: str, max_page_bytes: int, bundle_bytes: int) -> Packed:
    """The group's pages as parse messages, in bundles of at most ``bundle_bytes`` of compressed content."""
    bundles: list[list[Message]] = [[]]
    size = 0
    for page, seq in zip(group.pages, group.seqs, strict=True):
        message = pack_page(page, batch_id=batch_id, seq=seq, max_bytes=max_page_bytes).model_dump(
            mode="json", exclude_none=True)
        if bundles[-1] and size + len(message["content_z"]) > bundle_bytes:
            bundles.append([])
            size = 0
        bundles[-1].append(message)
        size += len(message["content_z"])
    return Packed(bundles=bundles)


class OrderedPublisher:
    """Packs groups on ``pack_threads`` threads and publishes them, in order, on one more.

    zstd and socket writes release the GIL, so packing and publishing overlap with reading the
    next pages; the main thread only reads. At most ``max_in_flight`` groups are held. Publishing
    is in input order and stops at the first group that cannot be published, so the pages
    submitted are always a prefix of the input.
    """

    def __init__(self, publish: Callable[[list[Message]], None], *, pack: Callable[[Group], Packed],
                 pack_threads: int = 2, max_in_flight: int = IN_FLIGHT) -> None:
        self._publish, self._pack = publish, pack
        self._packers = ThreadPoolExecutor(max_workers=pack_threads, thread_name_prefix="gleaner-pack")
        self._publisher = ThreadPoolExecutor(max_workers=1, thread_name_prefix="gleaner-publish")
        self._in_flight: deque[tuple[Group, Future[Packed]]] = deque()
        self.max_in_flight = max_in_flight
        self.failed: BaseException | None = None

    def send(self, group: Group) -> None:
        packing = self._packers.submit(self._pack, group)
        self._in_flight.append((group, self._publisher.submit(self._publish_packed, packing)))

    def _publish_packed(self, packing: Future[Packed]) -> Packed:
        """Publishes the group's bundles in order, up to the first that fails; none once a group
        has failed."""
        try:
            packed = packing.result()
        except BaseException as exc:
            self.failed = self.failed or exc
            raise
        for i, bundle in enumerate(packed.bundles):
            if self.failed is not None:
                break
            try:
                self._publish(bundle)
            except Exception as exc:  # noqa: BLE001 - handed to the main thread with the group
                self.failed = packed.error = exc
                break
            packed.sent_pages += len(bundle)
            packed.sent_bundles += 1
            packed.bundles[i] = []  # published: drop the content early
        return packed

    def finished(self, *, wait: bool = False) -> Iterator[tuple[Group, Future[Packed]]]:
        """Groups whose publishing ended, oldest first: those beyond ``max_in_flight`` (all of them
        with ``wait``) and any already done."""
        while self._in_flight and (wait or len(self._in_flight) > self.max_in_flight or self._in_flight[0][1].done()):
            group, future = self._in_flight.popleft()
            future.exception()  # waits
            yield group, future

    def close(self) -> None:
        self._packers.shutdown(wait=True, cancel_futures=True)
        self._publisher.shutdown(wait=True, cancel_futures=True)
