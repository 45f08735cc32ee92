"""The kept blocks as the document's body text.

Paragraphs are separated by a blank line; the items of one list are one block with one item per
line, the rows of one table one line each (cells of a row separated by " | "); a <br> inside a
paragraph stays a line break.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from workers.stages.html.segment import Segmented

__all__ = ["render"]

_CELLS = frozenset(("td", "th"))


def _line_group(seg: Segmented, holder: int) -> tuple[str, int] | None:
    """(kind, container) for a block whose holder is a list item or a table cell, else None."""
    if holder < 0:
        return None
    tag = seg.el_tag[holder]
    if tag == "li" or tag == "dt" or tag == "dd":
        return ("item", seg.el_parent[holder])
    if tag in _CELLS:
        row = seg.el_parent[holder]
        return ("cell", row)
    return None


def render(seg: Segmented, keep: Sequence[bool] | np.ndarray) -> str:
    """Body text of the kept blocks, in page order."""
    out: list[str] = []
    previous: tuple[str, int] | None = None
    previous_table = -1
    for block, kept in zip(seg.blocks, keep, strict=False):
        if not kept:
            continue
        group = _line_group(seg, block.holder)
        if out:
            if group is not None and previous is not None and group == previous:
                out.append(" | " if group[0] == "cell" else "\n")
            elif group is not None and previous is not None and group[0] == "cell" == previous[0] \
                    and _table_of(seg, group[1]) == previous_table:
                out.append("\n")
            else:
                out.append("\n\n")
        out.append(block.text)
        previous = group
        previous_table = _table_of(seg, group[1]) if group is not None and group[0] == "cell" else -1
    return "".join(out)


def _table_of(seg: Segmented, row: int) -> int:
    """The <table> around a table row (through <tbody>/<thead>), or -1."""
    el = row
    for _ in range(3):
        if el < 0:
            return -1
        el = seg.el_parent[el]
        if el >= 0 and seg.el_tag[el] == "table":
            return el
    return -1
