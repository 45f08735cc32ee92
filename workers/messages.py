"""Packing raw pages into queue messages and back (compressed, size-capped)."""

from __future__ import annotations

import base64
import zlib

from workers.models import PageMessage, RawPage
from workers.stages.errors import PermanentPageError


class PageTooLarge(ValueError):
    def __init__(self, size: int, limit: int) -> None:
        super().__init__(f"page is {size:,} bytes, above the {limit:,}-byte cap (GLEANER_MAX_PAGE_BYTES)")
        self.size = size
        self.limit = limit


def pack_page(page: RawPage, *, batch_id: str, seq: int | None, max_bytes: int) -> PageMessage:
    if len(page.content) > max_bytes:
        raise PageTooLarge(len(page.content), max_bytes)
    return PageMessage(
        content_z=base64.b64encode(zlib.compress(page.content, 6)).decode("ascii"),
        size=len(page.content),
        source=page.source,
        url=page.url,
        fetched_at=page.fetched_at,
        collection=page.collection,
        batch_id=batch_id,
        seq=seq,
        kind=page.kind,
        charset=page.charset,
    )


def unpack_page(message: PageMessage, *, max_bytes: int) -> RawPage:
    """The raw page of a message; refuses content that inflates beyond ``max_bytes``."""
    try:
        inflater = zlib.decompressobj()
        content = inflater.decompress(base64.b64decode(message.content_z), max_bytes + 1)
    except (ValueError, zlib.error) as exc:
        raise PermanentPageError("corrupt_message", f"page content cannot be decoded: {exc}") from exc
    if len(content) > max_bytes or inflater.unconsumed_tail:
        raise PermanentPageError("oversized", f"page inflates beyond the {max_bytes:,}-byte cap")
    return RawPage(
        content=content,
        source=message.source,
        url=message.url,
        fetched_at=message.fetched_at,
        collection=message.collection,
        kind=message.kind,
        charset=message.charset,
    )
