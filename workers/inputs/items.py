"""What an input yields: a raw page, or the reason something did not become one."""

from __future__ import annotations

from dataclasses import dataclass

from workers.models import RawPage


@dataclass(frozen=True)
class Skipped:
    """An input that did not become a page, and why.

    ``is_page`` is False for things that were never pages (a WARC request record, an image
    response, a path that does not exist); only real pages that were refused are recorded as
    failures.
    """

    source: str
    reason: str
    url: str | None = None
    is_page: bool = True


Item = RawPage | Skipped


def over_cap(max_bytes: int) -> str:
    """The reason of a page larger than the cap."""
    return f"page is larger than the {max_bytes:,}-byte cap (GLEANER_MAX_PAGE_BYTES)"
