"""The site's name, when the dump states it.

A page names its publisher in its header, its copyright line and its addresses. The name is the
run of capitalised words that spells the site's domain (the URL's, else the most frequent e-mail
or web domain written on the page): every word gives itself or its initial to the domain label, in order
("jpost" <- "Jerusalem Post", "nytimes" <- "New York Times", "bbc" <- "British Broadcasting
Corporation"), and the form written most often on the page wins, with its leading "The". A page
that names no domain, or no run of words that spells it, has no ``site_name``.
"""

from __future__ import annotations

import re
from collections import Counter

from workers.stages.textdump.lines import Line

__all__ = ["find_site_name", "domain_label"]

HEAD_LINES = 30
TAIL_LINES = 80
MAX_NAME_WORDS = 6

_ADDRESS_RE = re.compile(r"(?:[\w.+-]+@|https?://|www\.)?((?:[a-z0-9-]+\.)+(?:com|org|net|co|info|news|[a-z]{2}))\b", re.I)
_EMAIL_RE = re.compile(r"[\w.+-]+@((?:[a-z0-9-]+\.)+[a-z]{2,})", re.I)
_WEB_RE = re.compile(r"(?:https?://|www\.)((?:[a-z0-9-]+\.)+[a-z]{2,})", re.I)
# A run of capitalised words, with the small words names carry inside ("Times of India").
_NAME_RUN_RE = re.compile(
    r"(?:(?:The|La|Le|Les|El|Die|Der|Das|O|A)\s+)?"
    r"(?:[A-Z][\w'’.-]*|\d+)(?:\s+(?:(?:of|the|and|&|de|du|da|do|del|di|für)\s+)?(?:[A-Z][\w'’.-]*|\d+))*"
)
_LEADING_ARTICLES = frozenset("the la le les el die der das o a".split())
_SMALL_WORDS = frozenset("of the and & de du da do del di für".split())
_SECOND_LEVEL = frozenset("co com org net ac gov edu gob go or ne nic".split())
_GENERIC_LABELS = frozenset("gmail yahoo hotmail outlook google facebook twitter instagram youtube linkedin "
                            "apple microsoft amazon wordpress blogspot".split())


def domain_label(host: str) -> str:
    """The registrable domain's own label: ``www.jpost.com`` -> ``jpost``, ``bbc.co.uk`` -> ``bbc``."""
    labels = host.lower().strip(".").removeprefix("www.").split(".")
    if len(labels) >= 3 and len(labels[-1]) == 2 and labels[-2] in _SECOND_LEVEL:
        return labels[-3]
    return labels[-2] if len(labels) >= 2 else labels[0]


def _page_domains(texts: list[str]) -> Counter[str]:
    found: Counter[str] = Counter()
    for text in texts:
        if "@" in text or "www." in text or "://" in text:
            for m in _EMAIL_RE.finditer(text):
                found[domain_label(m.group(1))] += 1
            for m in _WEB_RE.finditer(text):
                found[domain_label(m.group(1))] += 1
    for label in _GENERIC_LABELS:
        found.pop(label, None)
    return found


def _spells(label: str, words: tuple[str, ...]) -> bool:
    """Each word, in order, gives itself or its initial to ``label``; small words and numbers may
    also give nothing ("Times of India" -> "timesofindia" or "toi")."""
    memo: dict[tuple[int, int], bool] = {}

    def go(i: int, j: int) -> bool:
        if j == len(words):
            return i == len(label)
        if i == len(label):
            return all(w in _SMALL_WORDS or w.isdigit() for w in words[j:])
        key = (i, j)
        if key in memo:
            return memo[key]
        w = words[j]
        ok = (
            ((w in _SMALL_WORDS or w.isdigit()) and go(i, j + 1))
            or (label.startswith(w, i) and go(i + len(w), j + 1))
            or (len(w) > 1 and w[0] == label[i] and go(i + 1, j + 1))
        )
        memo[key] = ok
        return ok

    return go(0, 0)


_TLDS = frozenset("com org net co uk info news tv fm de fr it es br in au ca".split())


def _parts(word: str) -> list[str]:
    """The pieces a written word gives to a domain: "Dallas-Fort" -> dallas, fort; "L.A." -> l, a;
    "Phys.org" -> phys."""
    pieces = [p for p in re.split(r"[\W_]+", word.lower()) if p]
    if len(pieces) > 1 and pieces[-1] in _TLDS and len(pieces[0]) > 1:
        pieces = pieces[:-1]
    return pieces


def find_site_name(lines: list[Line], url_host: str | None) -> str | None:
    """The site's name as the page writes it, or None."""
    if not lines:
        return None
    n = len(lines)
    head = set(range(min(n, HEAD_LINES))) | {line.idx for line in lines if line.kind == "legal" or "©" in line.text}
    picked = head | set(range(max(0, n - TAIL_LINES), n))
    label = domain_label(url_host) if url_host else None
    if not label:
        # No URL: the domain of the addresses the page writes, and its name must be in the header
        # or a copyright line (an address in the text may be anyone's).
        domains = _page_domains([lines[i].text for i in sorted(picked)])
        label = domains.most_common(1)[0][0] if domains else None
        picked = head
    if not label or len(label) < 2:
        return None
    label = label.replace("-", "")
    forms: Counter[str] = Counter()
    for i in sorted(picked):
        for m in _NAME_RUN_RE.finditer(lines[i].text):
            raw = m.group(0).split()
            for k, word in enumerate(raw):  # a possessive ends the name: "The Detroit News's staff"
                if word.endswith(("'s", "’s")) and len(word) > 2:
                    raw = raw[:k] + [word[:-2]]
                    break
            parts = [_parts(w) for w in raw]
            for a in range(len(raw)):
                first = parts[a][0] if parts[a] else ""
                if not first or first.isdigit() or (first in _SMALL_WORDS and not (a == 0 and first in _LEADING_ARTICLES)):
                    continue
                if first[0] != label[0] and first not in _LEADING_ARTICLES:
                    continue
                for b in range(a + 1, min(len(raw), a + MAX_NAME_WORDS) + 1):
                    last = parts[b - 1][-1] if parts[b - 1] else ""
                    if not last or last in _SMALL_WORDS or last.isdigit():
                        continue
                    if not _spells(label, tuple(p for ps in parts[a:b] for p in ps)):
                        continue
                    start = a - 1 if a > 0 and parts[a - 1] and parts[a - 1][0] in _LEADING_ARTICLES else a
                    form = " ".join(raw[start:b]).strip(",;:")
                    if form.endswith(".") and form[:-1].split()[-1].count(".") == 0:
                        form = form[:-1]  # a full stop, not an abbreviation's ("L.A.")
                    forms[form] += 1
    if not forms:
        return None
    # A name of several words spelling the domain beats the bare domain word ("JPost").
    def rank(item: tuple[str, int]) -> tuple[bool, int, bool, int]:
        form, count = item
        words = [w for w in form.split() if w.lower() not in _LEADING_ARTICLES]
        return (len(words) > 1, count, not form.isupper(), len(form))

    return max(forms.items(), key=rank)[0]
