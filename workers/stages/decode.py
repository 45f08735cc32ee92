"""Bytes to text: BOM, declared charset, detection; and telling HTML from a text dump."""

from __future__ import annotations

import codecs
import re

import charset_normalizer

from workers.errors import PermanentPageError

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_BINARY_MAGIC = {
    b"\x89PNG": "PNG image",
    b"%PDF": "PDF document",
    b"\x7fELF": "ELF executable",
    b"\x1f\x8b": "gzip data",
    b"PK\x03\x04": "ZIP archive",
    b"GIF8": "GIF image",
    b"\xff\xd8\xff": "JPEG image",
    b"RIFF": "RIFF media",
    b"\x00\x00\x01\x00": "icon",
    b"OggS": "Ogg media",
    b"ID3": "MP3 audio",
    b"wOFF": "web font",
    b"\xd0\xcf\x11\xe0": "OLE document",
}
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_:.\-]+)""", re.I)
_HTML_MARKERS = re.compile(
    r"<!doctype\s+html|<html[\s>]|<head[\s>]|<body[\s>]|<meta\s|<title[\s>]|<div[\s>]|<p[\s>]|<article[\s>]",
    re.I,
)
_TAG = re.compile(r"</?[a-zA-Z][a-zA-Z0-9]*(\s[^<>]*)?/?>")
# Some servers declare charsets that Python spells differently or that are supersets in practice.
_CHARSET_ALIASES = {"iso-8859-1": "cp1252", "latin-1": "cp1252", "latin1": "cp1252", "us-ascii": "cp1252",
                    "ascii": "cp1252", "gb2312": "gb18030", "gbk": "gb18030", "x-sjis": "shift_jis",
                    "shift-jis": "shift_jis", "sjis": "shift_jis"}


def _normalize_charset(name: str | None) -> str | None:
    if not name:
        return None
    name = name.strip().strip("\"'").lower()
    name = _CHARSET_ALIASES.get(name, name)
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def sniff_binary(raw: bytes) -> str | None:
    """Name of the binary format ``raw`` starts with, or None if it may be text."""
    head = raw[:16]
    for magic, name in _BINARY_MAGIC.items():
        if head.startswith(magic):
            return name
    sample = raw[:4096]
    if sample and not sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        controls = sum(1 for b in sample if b < 32 and b not in (9, 10, 12, 13, 27))
        if controls / len(sample) > 0.10:
            return "binary data"
    return None


def bomless_utf16(raw: bytes) -> str | None:
    """``utf-16-le`` or ``utf-16-be`` for UTF-16 text without a byte-order mark (NULs in every
    other byte, none in the others, and it decodes to text), else None."""
    sample = raw[:4096]
    sample = sample[: len(sample) // 2 * 2]
    half = len(sample) // 2
    if half < 8:
        return None
    even, odd = sample[0::2].count(0), sample[1::2].count(0)
    for zeros, others, encoding in ((odd, even, "utf-16-le"), (even, odd, "utf-16-be")):
        if zeros >= 0.3 * half and others <= 0.02 * half:
            text = sample.decode(encoding, errors="replace")
            bad = sum(1 for c in text if (ord(c) < 32 and c not in "\t\n\r\f") or c == "\ufffd")
            if bad <= 0.02 * len(text):
                return encoding
    return None


def decode_bytes(raw: bytes, declared_charset: str | None = None) -> tuple[str, str]:
    """Decode a page to text. Returns ``(text, encoding)``.

    Order: UTF-16 without a byte-order mark, byte-order mark, strict UTF-8, charset declared by the transport, ``<meta charset>``
    in the first bytes, statistical detection (charset-normalizer), and last UTF-8 with
    replacement characters. Raises ``PermanentPageError`` for binary or empty content.
    """
    if not raw.strip():
        raise PermanentPageError("empty", "the page is empty")
    utf16 = None if raw.startswith(tuple(bom for bom, _ in _BOMS)) else bomless_utf16(raw)
    if utf16:
        return raw.decode(utf16, errors="replace"), utf16
    binary = sniff_binary(raw)
    if binary:
        raise PermanentPageError("binary_content", f"not a web page: looks like {binary}")
    for bom, encoding in _BOMS:
        if raw.startswith(bom):
            text = raw[len(bom):].decode(encoding, errors="replace")
            if not text.strip():
                raise PermanentPageError("empty", "the page is empty (a byte-order mark alone)")
            return text, encoding
    # Bytes that are valid UTF-8 are UTF-8, whatever a (often stale) declaration says: other
    # encodings' non-ASCII text is practically never valid UTF-8 by accident.
    candidates: list[str | None] = ["utf-8", _normalize_charset(declared_charset)]
    meta = _META_CHARSET.search(raw[:8192])
    if meta:
        candidates.append(_normalize_charset(meta.group(1).decode("ascii", "ignore")))
    for candidate in candidates:
        if not candidate:
            continue
        try:
            return raw.decode(candidate), candidate
        except (UnicodeDecodeError, LookupError):
            continue
    best = charset_normalizer.from_bytes(raw[:200_000]).best()
    if best is not None and best.encoding:
        return raw.decode(best.encoding, errors="replace"), best.encoding
    return raw.decode("utf-8", errors="replace"), "utf-8"


def looks_like_html(text: str) -> bool:
    """True if ``text`` is markup rather than a plain-text dump."""
    head = text[:8192]
    if _HTML_MARKERS.search(head):
        return True
    return len(_TAG.findall(head)) >= 5
