"""A text dump as a list of lines, each with the facts its features are made of.

Input is what a browser "save as text" (or inscriptis) produces: one block element per line,
nesting shown as indentation, tables laid out in columns. Blank lines are not kept as lines; each
line records whether a blank line stands before / after it. Bounded: at most ``MAX_CHARS`` of the
dump and ``MAX_LINES`` lines are read, and a line's wording is read on its first ``FEATURE_CHARS``.
"""

from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache
from pathlib import Path

from workers.dates import search_written_date
from workers.stages.textdump.patterns import (
    BULLET_RE,
    CJK_RE,
    COLUMN_GAP_RE,
    NUMBERED_RE,
    SENT_END,
    URL_RE,
    WORD_RE,
    chrome_kind,
)

__all__ = ["Line", "read_lines", "stopwords", "MAX_CHARS", "MAX_LINES"]

MAX_CHARS = 4_000_000
MAX_LINES = 50_000
FEATURE_CHARS = 2_000
# A line shorter than this is compared with the other lines of the page (repeated menus).
DUP_CHARS = 200

_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200d\ufeff]")
_SENTENCE_BREAK_RE = re.compile(r"[.!?。！？](?:[\"”’»)]*)\s+(?=[\"“‘«(]*[A-ZÀ-ÖØ-Þ0-9])")
# A headline run into its teaser text ("Student-AthleteA 24-year-old woman"): a word boundary lost.
_GLUE_RE = re.compile(r"[a-z]{3}[A-Z][a-z]|[a-z0-9][.?!:][A-Z][a-z]|\d[A-Z][a-z]{2}")
_PUNCT_RE = re.compile(r"[^\w\s]")
_DIGIT_RE = re.compile(r"\d")
_YEAR_RE = re.compile(r"(?<!\d)(?:19|20)\d{2}(?!\d)")
_STOPWORDS_PATH = Path(__file__).resolve().parents[1] / "data" / "stopwords.txt"


@lru_cache(maxsize=1)
def stopwords() -> frozenset[str]:
    """Union of the most frequent words of ~45 languages (see the data file's header)."""
    words: set[str] = set()
    with _STOPWORDS_PATH.open(encoding="utf-8") as fh:
        for line in fh:
            if not line.startswith("#") and "\t" in line:
                words.update(line.split("\t", 1)[1].split())
    return frozenset(words)


class Line:
    """One non-blank line of a dump and its surface facts."""

    __slots__ = (
        "idx", "text", "indent", "blank_before", "blank_after", "bullet", "numbered", "units", "chars",
        "stop_ratio", "cap_ratio", "upper_ratio", "digit_ratio", "punct_ratio", "comma_ratio", "sent_end",
        "sentences", "columns", "has_url", "ellipsis", "starts_lower", "separators", "avg_word", "cjk",
        "colon_end", "has_date", "has_year", "title_case", "kind", "dup", "quote", "glued", "content",
    )

    def __init__(self, idx: int, raw: str, blank_before: bool) -> None:
        self.idx = idx
        self.text = text = raw.strip()
        self.indent = len(raw) - len(raw.lstrip())
        self.blank_before = blank_before
        self.blank_after = False
        self.dup = 1
        sample = text if len(text) <= FEATURE_CHARS else text[:FEATURE_CHARS]
        m = BULLET_RE.match(sample)
        self.bullet = m is not None and (m.end() < len(sample) or sample in "*+•-")
        if m is not None and self.bullet:
            sample = sample[m.end():]
        self.numbered = NUMBERED_RE.match(sample) is not None
        words = WORD_RE.findall(sample)
        scale = len(text) / FEATURE_CHARS if len(text) > FEATURE_CHARS else 1.0
        cjk = 0 if sample.isascii() else len(CJK_RE.findall(sample))
        n = len(words)
        self.units = max(float(n), cjk / 2.0) * scale  # length in word units (CJK: ~2 characters a word)
        self.chars = len(text)
        self.cjk = cjk / max(1, len(sample))
        stop = stopwords()
        lower = [w.lower() for w in words]
        caps = [w for w in words if w[0].isupper()]
        n_cap = len(caps)
        n_upper = len([w for w in caps if len(w) > 1 and w.isupper()])
        stop_words = [w for w in lower if w in stop]
        n_stop = len(stop_words)
        # its content words, for how much of the page's topic a line shares
        self.content = frozenset(w for w in lower if len(w) > 2 and w not in stop and not w.isdigit())
        # Title Case headlines: every word capitalised but the short function words ("of", "the")
        n_small = len([1 for w, low in zip(words, lower, strict=True) if not w[0].isupper() and len(w) <= 3 and low in stop])
        k = max(1, n)
        self.stop_ratio = n_stop / k
        self.cap_ratio = n_cap / k
        self.upper_ratio = n_upper / k
        self.title_case = float(n >= 2 and n_cap + n_small == n)
        self.avg_word = sum(map(len, words)) / k
        chars = max(1, len(sample))
        self.digit_ratio = len(_DIGIT_RE.findall(sample)) / chars
        self.punct_ratio = len(_PUNCT_RE.findall(sample)) / chars
        self.comma_ratio = sample.count(",") / k
        tail = sample.rstrip()[-1:]
        self.sent_end = tail in SENT_END and tail != ":"
        self.colon_end = tail == ":"
        self.sentences = len(_SENTENCE_BREAK_RE.findall(sample)) + (1 if self.sent_end else 0)
        self.columns = len(COLUMN_GAP_RE.findall(text[:400])) if "  " in text else 0
        low = sample.lower()
        self.has_url = ("://" in low or "www." in low or "@" in low or ".com" in low or ".org" in low
                        or ".net" in low) and URL_RE.search(sample) is not None
        self.ellipsis = sample.endswith(("...", "…"))
        self.starts_lower = sample[:1].islower()
        self.quote = sample[:1] in "\"“‘«'„"
        self.glued = len(_GLUE_RE.findall(sample))
        self.separators = sum(sample.count(c) for c in "|•·»>/")
        head = sample[:200]
        year = _YEAR_RE.search(head)
        self.has_year = year is not None
        self.has_date = year is not None and self.units <= 30 and search_written_date(head) is not None
        self.kind = chrome_kind(sample, words, set(lower), self.units, self.sent_end, cjk > 0)


def read_lines(text: str) -> list[Line]:
    """The non-blank lines of a dump, analysed (bounded: ``MAX_CHARS``, ``MAX_LINES``)."""
    if len(text) > MAX_CHARS:
        text = text[:MAX_CHARS]
    text = _CONTROL_RE.sub("", text.replace("\r\n", "\n").replace("\r", "\n")).replace("\t", "    ")
    lines: list[Line] = []
    blank = True
    for raw in text.split("\n"):
        if not raw.strip():
            if lines:
                lines[-1].blank_after = True
            blank = True
            continue
        lines.append(Line(len(lines), raw.rstrip(), blank))
        blank = False
        if len(lines) >= MAX_LINES:
            break
    if lines:
        lines[-1].blank_after = True
    counts: Counter[str] = Counter(line.text.lower() for line in lines if len(line.text) < DUP_CHARS)
    for line in lines:
        if len(line.text) < DUP_CHARS:
            line.dup = counts[line.text.lower()]
    return lines
