"""Knowing an input by its first bytes, not only by its name.

A JSON Lines file, a WARC or a gzip stream given without its usual extension (``split`` output
such as ``half.aa``, a download saved as ``data``) is recognized from its content; a name with a
known extension (``.jsonl``, ``.warc.gz``...) is taken at its word.
"""

from __future__ import annotations

import codecs
import re
from typing import Literal

import orjson

#: what a stream holds: an archive of records, JSON Lines (one page per line), a JSON document
#: that is not JSON Lines (refused: the message says how to give it), or one page
Format = Literal["archive", "jsonl", "json", "page"]

GZIP_MAGIC = b"\x1f\x8b"
ARCHIVE_SUFFIXES = (".warc", ".warc.gz", ".wet", ".wet.gz", ".arc", ".arc.gz")
JSONL_SUFFIXES = (".jsonl", ".jsonl.gz", ".ndjson", ".ndjson.gz")
PAGE_SUFFIXES = (".html", ".htm", ".xhtml", ".txt", ".text")
#: bytes looked at to recognize a stream (a JSON Lines file is recognized by its first line)
HEAD_BYTES = 64 * 1024
#: what to tell a user whose input could have been read under another name
NAMES_THAT_WORK = "name it .jsonl for JSON Lines (one page per line) or .warc/.warc.gz for an archive"


def format_by_name(path: str) -> Format | None:
    """The format an extension promises, or None when the name says nothing."""
    lower = path.lower()
    if lower.endswith(ARCHIVE_SUFFIXES):
        return "archive"
    if lower.endswith(JSONL_SUFFIXES):
        return "jsonl"
    return None


def names_a_page(path: str) -> bool:
    """True when the name says the file is one page (``.html``, ``.txt``, optionally ``.gz``)."""
    return path.lower().removesuffix(".gz").endswith(PAGE_SUFFIXES)


def is_gzip(head: bytes) -> bool:
    return head.startswith(GZIP_MAGIC)


def format_of(head: bytes) -> Format:
    """The format of a stream that starts with ``head`` (after any gzip layer is undone).

    JSON Lines: a first line that is a JSON object with ``url``, ``html`` or ``text`` (or, longer
    than ``head``, starts like one). A JSON document that is not JSON Lines (pretty-printed, an
    array, objects of another shape) is ``json``, refused with a message that says how to give it.
    Anything else is a page, text dumps that happen to start with a brace or a bracket included.
    """
    data = head.removeprefix(codecs.BOM_UTF8).lstrip()
    if data.startswith((b"WARC/", b"filedesc://")):  # WARC, or ARC (read as WARC)
        return "archive"
    if _JSON_ARRAY.match(data):
        return "json"
    if not data.startswith(b"{"):
        return "page"
    if b"\n" not in data:  # a first line longer than the head
        return "jsonl" if _JSON_OBJECT.match(data) else "page"
    line = data.split(b"\n", 1)[0]
    try:
        obj = orjson.loads(line)
    except orjson.JSONDecodeError:
        return "json" if _PRETTY_JSON_OBJECT.match(data) else "page"
    if isinstance(obj, dict) and ("html" in obj or "text" in obj or "url" in obj):
        return "jsonl"
    return "json"


_JSON_OBJECT = re.compile(rb'\{\s*"')
_PRETTY_JSON_OBJECT = re.compile(rb'\{[ \t\r]*\n\s*["}]')
_JSON_ARRAY = re.compile(rb'\[\s*[{\["\]]')


#: the reason a JSON document that is not JSON Lines is refused
NOT_JSON_LINES = ("a JSON document, not JSON Lines: give one page per line, each a JSON object with 'url' and "
                  "'html' or 'text', in a .jsonl file")
