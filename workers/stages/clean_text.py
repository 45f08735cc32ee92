"""Text-dump cleaner: main article text and metadata from a plain-text dump of a web page.

A pure stage: no I/O besides reading the shipped stopword list once, no network, no services.

Input is what a browser "save as text" (or inscriptis) produces: one block element per line,
nesting shown as indentation, the article surrounded by menus, share buttons, "Most read" lists,
captions, newsletter blurbs and footers.

How the body is found (every step is linear in the input, which is bounded by MAX_CHARS and
MAX_LINES):

1. Line features and kind (``_analyse``/``_classify``): length in word units (CJK: characters),
   stopword density over ~45 languages, sentence punctuation, Capitalised-word share, bullet
   marker, repetition on the page, and boilerplate kinds recognised by cheap patterns: sidebar
   headings ("Related", "Most read", "Tags", "Comments"...), legal/cookie lines, captions and
   photo credits, share-button rows, ad furniture, bylines, datelines, table rows.
2. Line score (``_score_line``, weights in ``W``): fixed negative scores for boilerplate kinds,
   small negatives for short lines (more for bullets and repeats), and for prose
   ``length * (quality - threshold)``.
3. Region (``_find_region``): the maximum-sum run of line scores (Kadane).  Anchors — the first
   prose after a dateline or byline, preferably one under a headline — override it when their
   run is not much weaker; anchored runs end at a comment-thread heading or a deep drawdown.
   A second pass adds the article's indentation (inscriptis indents nesting: the paragraphs share
   one indent, sidebars and captions rarely do) and searches again.  The region is then bridged
   (``_bridge``) over a stretch that stays nested in the article (at its indentation or deeper:
   product boxes, long lists) when article prose resumes after it, and trimmed
   (``_trim_trailing_lists``) before trailing lists under a label or sidebar heading.
4. Selection (``_keep``): prose, subheads/data lines at the article's indentation, table rows,
   sentence-like items of lists nested in the article, and the non-boilerplate lines of a bridged
   stretch; boilerplate, captions, bylines and datelines are dropped, and so are teaser boxes set
   into the article (``_teaser_items``: a sidebar heading and the list items / headlines under
   it) and a label line just before the first or after the last paragraph.  Paragraphs are joined
   with blank lines.

Metadata comes from the lines around the region: the headline (scored by shared words with the
lead, nearness to the byline/dateline, URL slug if given), standfirst, "By" bylines, the
publication date (labelled "Published"/"Updated" lines, datelines, a leading ``date
YYYY-MM-DD`` line, then the URL path) and the "Tags" line (run-together tags are split on the
longest phrases found in the article).
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path

from workers.models import Extraction

__all__ = ["clean_text_dump", "clean_text_body"]

# --------------------------------------------------------------------------- limits
# Pathological input: only this many characters are looked at (a real article dump is < 1 MB).
MAX_CHARS = 4_000_000
# Features are computed on at most this many characters of a line (a huge single line is still
# kept whole if chosen; only its analysis is truncated, so regexes stay cheap).
FEATURE_CHARS = 2_000
# ... and at most this many lines (a long article page has a few thousand).
MAX_LINES = 100_000
# Only the first anchors (datelines/bylines) are tried as article starts.
MAX_ANCHORS = 20
# Tag phrases are looked up in at most this much of the article.
TAG_ARTICLE_CHARS = 50_000

_STOPWORDS_PATH = Path(__file__).parent / "data" / "clean_text_stopwords.txt"


@lru_cache(maxsize=1)
def _stopwords() -> frozenset[str]:
    """Union of the most frequent words of ~45 languages (see the data file's header)."""
    words: set[str] = set()
    try:
        with _STOPWORDS_PATH.open(encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("#") or "\t" not in line:
                    continue
                words.update(line.split("\t", 1)[1].split())
    except OSError:  # data file missing from an install: fall back to a tiny English list
        words.update(
            "the of and to a in is that for it as was with on be by at this are from or an "
            "he she they we you his her their not but have has had which will would".split()
        )
    return frozenset(words)


# --------------------------------------------------------------------------- regexes
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200d\ufeff]")
_WORD_RE = re.compile(r"\w+")
# CJK ideographs, kana, hangul, thai: scripts where a "word" is not space-delimited.
_CJK_RE = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\u0e00-\u0e7f\uf900-\ufaff]")
# inscriptis marks list items "* ", "+ ", "o " by nesting level; others use "•", "- " ...
_BULLET_RE = re.compile(r"^(?:[*+•·◦▪►‣]|[-o](?=\s))\s*")
_SENT_END = frozenset('.!?。！？…"”’»)\'』」:;')
_COLUMN_GAP_RE = re.compile(r"\S {2,}(?=\S)")
_URL_RE = re.compile(r"https?://|www\.|\.(?:com|org|net)\b", re.I)

# Headings that open a sidebar or end an article ("Related", "Most read", "Comments", "Tags"),
# keyed by their first word; the value must match the rest of the (lower-cased) line.
_ANY = r".*"
_SECTION_HEADS = {
    "related": r"(?:\s+\w+)?\W*",  # "Related", "Related articles" (not "Related: <headline>")
    "more": r"\s+(?:from|in|on|about|stories|news|articles|to explore)\b.*",
    "most": r"\s+(?:read|popular|viewed|shared|emailed|commented|watched)\b.*",
    "you": r"\s+(?:may|might|will)\s+(?:also\s+)?(?:like|enjoy|be interested)\b.*",
    "we": r"\s+think you (?:may|might|will) (?:also )?like\b.*",
    "recommended": _ANY,
    "read": r"\s+(?:more|next|also)\b.*",
    "see": r"\s+(?:more|also)\b.*",
    "trending": _ANY,
    "popular": _ANY,
    "top": r"\s+(?:stories|news|rated)\b.*",
    "latest": r"\s+(?:news|stories|articles|videos?)\b.*",
    "comment": _ANY,
    "comments": _ANY,
    "leave": r"\s+a\s+(?:comment|reply)\b.*",
    "join": r"\s+the\s+(?:discussion|conversation)\b.*",
    "tag": _ANY,
    "tags": _ANY,
    "topic": _ANY,
    "topics": _ANY,
    "filed": r"\s+under\b.*",
    "about": r"\s+the\s+authors?\b.*",
    "sign": r"\s+up\b.*",
    "subscribe": _ANY,
    "newsletter": _ANY,
    "newsletters": _ANY,
    "follow": r"\s+us\b.*",
    "don": r"'?t\s+miss\b.*",
    "do": r"\s+not\s+miss\b.*",
    # Portuguese, Spanish, Italian, French, German.
    "leia": r"\s+(?:também|mais)\b.*",
    "veja": r"\s+(?:também|mais)\b.*",
    "saiba": r"\s+mais\b.*",
    "você": r"\s+pode\s+gostar\b.*",
    "artigos": r"\s+relacionad.*",
    "notícias": r"\s+relacionad.*",
    "noticias": r"\s+relacionad.*",
    "comentários": _ANY,
    "comentarios": _ANY,
    "te": r"\s+puede\s+(?:interesar|gustar)\b.*",
    "más": r"\s+(?:leídas|leidas|vistas|populares)\b.*",
    "articoli": r"\s+correlat.*",
    "leggi": r"\s+anche\b.*",
    "potrebbe": r"\s+(?:interessarti|piacerti)\b.*",
    "commenti": _ANY,
    "articles": r"\s+(?:similaires|connexes|liés)\b.*",
    "lire": r"\s+aussi\b.*",
    "à": r"\s+lire\s+aussi\b.*",
    "vous": r"\s+(?:aimerez|pourriez aimer)\b.*",
    "commentaires": _ANY,
    "lesen": r"\s+sie\s+auch\b.*",
    "mehr": r"\s+zum\s+thema\b.*",
    "kommentare": _ANY,
}
_SECTION_REST = {word: re.compile(rest, re.S) for word, rest in _SECTION_HEADS.items()}
# Section headings that open a comment thread: nothing after them is the article.
_COMMENTS_RE = re.compile(r"comment|coment|komment|discussion|conversation|reply|댓글")
_FIRST_WORD_RE = re.compile(r"[\W_]*(?:\d+\s+)?([^\W\d_]+)")
_SECTION_CJK_RE = re.compile(r"\W*(?:관련\s*기사|많이\s*본|相关|推荐|人気|関連)")


def _is_section(body: str, cjk: bool) -> bool:
    """``body``: the lower-cased line without its bullet."""
    m = _FIRST_WORD_RE.match(body)
    if m is not None:
        rest = _SECTION_REST.get(m.group(1))
        if rest is not None and rest.fullmatch(body, m.end()):
            return True
    return cjk and _SECTION_CJK_RE.match(body) is not None


# Legal / site chrome: dropped and penalised.
_LEGAL_RE = re.compile(
    r"©|\(c\) ?\d{4}|copyright|all rights reserved|privacy policy|terms (?:of|and) (?:use|service|conditions)"
    r"|\bcookies?\b|skip to (?:main )?content|\blog ?in\b|\bsign ?in\b|\blog ?out\b|direitos reservados|diritti riservati"
    r"|derechos reservados|tous droits|alle rechte|무단\s*전재|版权所有",
    re.I,
)
# Inline ads and page furniture inside articles: dropped, small penalty.
_FURNITURE_RE = re.compile(
    r"^(?:advertisement|advertising|ad|sponsored(?: content)?|promoted|continue reading(?: the main story)?|story continues below.*"
    r"|scroll (?:down )?to continue.*|click to .*|skip ad|close|menu|search|home|back to top|print|email|share|tweet|next|previous"
    r"|anzeige|werbung|publicidade|pubblicità|publicité|publicidad|광고|广告|\[?\s*read all comments\s*\]?|\(?view all\)?)$",
    re.I,
)
_YEAR_RE = re.compile(r"\d{4}")
# Cheap gates: a line can only be a caption / legal line if one of its words is in these sets.
_CAPTION_WORDS = frozenset(
    "photo photos image images credit credits getty gettyimages ap afp reuters epa shutterstock foto "
    "fonte crédito quelle copyright associated".split()
)
_LEGAL_WORDS = frozenset(
    "c copyright rights reserved privacy policy terms cookie cookies skip log login logout sign signin "
    "direitos diritti derechos droits rechte".split()
)
_SHARE_RE = re.compile(r"^share (?:this|on|the|article|story|via)\b", re.I)
_SOCIAL_WORDS = frozenset(
    "facebook twitter email e mail whatsapp linkedin pinterest reddit print copy link url copied tweet share "
    "google flipboard pocket tumblr telegram vkontakte odnoklassniki messenger sms instagram youtube rss pint "
    "baixar comments comment save more sharing options show close extra".split()
)
_CAPTION_RE = re.compile(
    r"photo credit|image copyright|\bphoto:|\bphotos?\s+by\b|\bimage:|\bimage (?:credit|source)|\bcredit:|credit\.\.\.|getty ?images"
    r"|\(ap photo|\bap photo\b|,\s*(?:the )?(?:associated press|ap|reuters|afp|epa|getty images)$|/ ?(?:ap|afp|reuters|epa|getty)\b|shutterstock|\bfoto:|\bfonte:|\bcrédito:|\bquelle:",
    re.I,
)
# Month names (English, French, Portuguese, Spanish, Italian, German) mapped to numbers.
_MONTH_NAMES = {
    1: "january jan janvier janv janeiro jan enero ene gennaio gen januar jänner",
    2: "february feb février févr fevereiro fev febrero febbraio februar",
    3: "march mar mars março marzo märz",
    4: "april apr avril abril aprile",
    5: "may mai maio mayo maggio",
    6: "june jun juin junho junio giugno juni",
    7: "july jul juillet julho julio luglio juli",
    8: "august aug août agosto ago",
    9: "september sep sept septembre setembro set septiembre settembre",
    10: "october oct octobre outubro out octubre ottobre oktober okt",
    11: "november nov novembre novembro noviembre",
    12: "december dec décembre déc dezembro dez diciembre dic dicembre dezember",
}
_MONTH_NUM = {name: num for num, names in _MONTH_NAMES.items() for name in names.split()}
_MONTHS = "|".join(sorted(_MONTH_NUM, key=len, reverse=True))
_DATE_RE = re.compile(
    rf"\b(?:(?:{_MONTHS})\.?\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}"
    rf"|\d{{1,2}}(?:st|nd|rd|th|er|º|°)?\.?\s+(?:de\s+)?(?:{_MONTHS})\.?,?\s+(?:de\s+)?\d{{4}}"
    r"|\d{4}-\d{1,2}-\d{1,2}(?:[T ]\d{1,2}:\d{2}(?::\d{2})?(?:Z|[+-]\d{2}:?\d{2})?)?"
    r"|\d{4}[./]\d{1,2}[./]\d{1,2}|\d{1,2}[./]\d{1,2}[./]\d{4}"
    r"|\d{4}\s*[年년]\s*\d{1,2}\s*[月월]\s*\d{1,2}\s*[日일]?)"
    r"(?:(?:,|\s+(?:at|às|as|a las|alle|um|à|kl\.?)|\s*[•|·-])?\s+\d{1,2}[:.h]\d{2}(?:\s*[ap]\.?m\.?)?(?:\s*\(?[A-Z]{2,4}\)?(?![a-z]))?)?",
    re.I,
)


def _search_date(text: str) -> re.Match[str] | None:
    """First date in ``text``; the (costly) date regex only runs around 4-digit numbers."""
    for year in _YEAR_RE.finditer(text):
        lo = max(0, year.start() - 32)
        m = _DATE_RE.search(text, lo, year.end() + 40)
        if m is not None:
            return m
    return None


_RELATIVE_TIME_RE = re.compile(
    r"^(?:updated|published|posted)?\s*:?\s*\d+\s*(?:[smhd]|min(?:ute)?s?|hours?|hrs?|days?|weeks?)\s+ago\b", re.I
)
_TWEET_SIG_RE = re.compile(r"^[—–-]\s*\S.*\(@\w+\)")
_BYLINE_RE = re.compile(r"^(?:by|por|par|di|von|door|av|af)\s*:?\s+(?=\w)(.{2,120})$", re.I)


# --------------------------------------------------------------------------- line features
class _Line:
    """One line of the dump with the features the scorer uses (named, for explainability)."""

    __slots__ = (
        "idx", "text", "indent", "units", "stop_ratio", "sent_end", "bullet", "cap_ratio", "cjk",
        "kind", "dup", "score", "bridged",
    )

    def __init__(self, idx: int, raw: str) -> None:
        self.idx = idx
        text = raw.strip()
        self.text = text
        self.indent = len(raw) - len(raw.lstrip()) if text else 0
        self.units = 0.0  # length in word units (CJK: ~2 characters per word)
        self.stop_ratio = 0.0
        self.sent_end = False
        self.bullet = False
        self.cap_ratio = 0.0
        self.kind = "blank" if not text else ""
        self.dup = 1
        self.score = 0.0
        self.cjk = 0
        self.bridged = False  # inside a stretch nested in the article that ``_bridge`` spanned


def _analyse(line: _Line, stop: frozenset[str]) -> None:
    """Fill the line's features (length, stopword density, punctuation, case, bullet)."""
    text = line.text
    sample = text if len(text) <= FEATURE_CHARS else text[:FEATURE_CHARS]
    m = _BULLET_RE.match(sample)
    if m is not None and (m.end() < len(sample) or sample in "*+•-"):
        line.bullet = True
        sample = sample[m.end() :]
    words = _WORD_RE.findall(sample)
    n = len(words)
    if len(text) > FEATURE_CHARS and n:  # extrapolate counts of a truncated huge line
        n = int(n * len(text) / FEATURE_CHARS)
    cjk = 0 if sample.isascii() else len(_CJK_RE.findall(sample))
    line.cjk = cjk
    # Word units: space-delimited words, or ~2 CJK characters per word.
    line.units = max(float(n), cjk / 2.0)
    if words:
        k = len(words)
        n_stop = n_cap = 0
        for w in words:
            if w[0].isupper():
                n_cap += 1
                if w.lower() in stop:
                    n_stop += 1
            elif w in stop:
                n_stop += 1
        line.stop_ratio = n_stop / k
        line.cap_ratio = n_cap / k
    line.sent_end = sample.rstrip()[-1:] in _SENT_END
    line.kind = _classify(line, sample, words)


def _classify(line: _Line, sample: str, words: list[str]) -> str:
    """Kind of a non-blank line: prose/short/table or one of the boilerplate kinds.

    The expensive regexes only run when a cheap keyword test on the line's words says they
    could match.
    """
    units = line.units
    if units <= 12:
        body = sample.lower().strip()
        if _is_section(body, line.cjk > 0):
            return "comments" if _COMMENTS_RE.search(body) else "section"
        if units <= 8 and _FURNITURE_RE.match(body.strip("[]() ")):
            return "furniture"
        if units <= 6 and (_SHARE_RE.match(body) or all(w.lower() in _SOCIAL_WORDS for w in words)):
            return "social"
    if units <= 40:
        low_words = {w.lower() for w in words}
        gate_all = line.cjk > 0 or "©" in sample or "ⓒ" in sample
        if (gate_all or not low_words.isdisjoint(_CAPTION_WORDS)) and _CAPTION_RE.search(sample.lower()):
            return "caption"
        if (gate_all or not low_words.isdisjoint(_LEGAL_WORDS)) and _LEGAL_RE.search(sample.lower()):
            return "legal"
    text = line.text
    if units <= 20 and text[0] in "—–-" and "(@" in text and _TWEET_SIG_RE.match(text):
        return "quote_sig"  # "— Name (@handle) November 1, 2019": end of an embedded tweet
    if units <= 25 and _BYLINE_RE.match(sample) and not line.sent_end:
        # "By Jane Doe", or a longer one carrying a date / separators: "By X | Nov 18, 2019 ..."
        if units <= 8 or "|" in sample or "•" in sample or _YEAR_RE.search(sample):
            return "byline"
    if units <= 14:
        head = text[:200]
        m = _search_date(head)
        if m and len(_WORD_RE.findall(head[: m.start()] + " " + head[m.end() :])) <= 6:
            return "date"
        if "ago" in sample and _RELATIVE_TIME_RE.match(sample):
            return "reldate"
    if not line.bullet and "  " in text and len(_COLUMN_GAP_RE.findall(text[:400])) >= 2:
        return "table"
    if units >= 8:
        return "prose"
    return "short"


# Line-score weights (hand-tuned on the dev set; every one is a named, single-purpose feature).
W = {
    # Fixed scores of boilerplate kinds.
    "section": -4.0,  # "Related", "Most read", "Comments", "Tags" ... headings: sidebar starts
    "legal": -4.0,  # copyright, privacy policy, cookies, log in
    "caption": -1.5,  # photo credits and captions
    "social": -1.5,  # share-button rows
    "furniture": -1.0,  # "Advertisement", "Continue reading", single-word controls
    "meta": -1.0,  # bylines and datelines
    "table": -0.05,  # table rows: neutral, they neither make nor break a region
    # Short lines (< 8 word units).
    "short": -0.3,
    "short_bullet": -0.7,  # menus are bullet lists
    "short_dup": -0.6,  # ... and repeat on the page
    "short_sentence": 0.3,  # ends like a sentence
    # Prose lines: score = min(units, units_cap) * scale * (quality - threshold).
    "q_stop": 0.5,  # weight of stopword density (saturates at 25 % of the words)
    "q_end": 0.3,  # ends with sentence punctuation
    "q_case": 0.2,  # few Capitalised Words (menus and headlines are title-cased)
    "q_cjk": 0.6,  # CJK text (no stopwords, no case): base quality, the rest from punctuation
    "q_bullet": -0.15,
    "q_dup": -0.3,
    "q_threshold": 0.45,
    "scale": 0.2,
    "units_cap": 80.0,
}


def _score_line(line: _Line) -> float:
    """Score of one line for the region search: > 0 looks like article text, < 0 like chrome."""
    kind = line.kind
    if kind == "blank" or kind == "quote_sig":
        return 0.0
    if kind in _FIXED_KIND_WEIGHT:
        return W[_FIXED_KIND_WEIGHT[kind]]
    units = line.units
    dup = line.dup > 1
    if kind == "short":
        s = W["short"]
        if line.bullet:
            s += W["short_bullet"]
        if dup:
            s += W["short_dup"]
        if line.sent_end and units >= 4:
            s += W["short_sentence"]
        return s
    # prose candidate: quality in [0, 1] from stopword density, punctuation and capitalisation.
    if line.cjk >= units:  # CJK text: stopwords do not apply, punctuation does
        q = W["q_cjk"] + (1.0 - W["q_cjk"]) * line.sent_end
    else:
        q = (
            W["q_stop"] * min(line.stop_ratio / 0.25, 1.0)
            + W["q_end"] * line.sent_end
            + W["q_case"] * (1.0 - line.cap_ratio)
        )
    if line.bullet:
        q += W["q_bullet"]
    if dup:
        q += W["q_dup"]
    return min(units, W["units_cap"]) * W["scale"] * (q - W["q_threshold"])


_FIXED_KIND_WEIGHT = {
    "section": "section",
    "comments": "section",
    "legal": "legal",
    "caption": "caption",
    "social": "social",
    "furniture": "furniture",
    "byline": "meta",
    "date": "meta",
    "reldate": "meta",
    "table": "table",
}


def _max_run(scores: list[float]) -> tuple[int, int, float]:
    """Maximum-sum contiguous run of ``scores`` (Kadane): (start, end_exclusive, sum)."""
    best, best_a, best_b = 0.0, 0, 0
    cur, cur_a = 0.0, 0
    for i, s in enumerate(scores):
        if cur <= 0.0:
            cur, cur_a = s, i
        else:
            cur += s
        if cur > best:
            best, best_a, best_b = cur, cur_a, i + 1
    return best_a, best_b, best


# A run stops once its sum has fallen this far below its best so far (an absolute floor and a
# share of the best): a barrier of sidebar/comment chrome ends the article even if more text-like
# lines (comments, teasers) follow it.
DRAWDOWN_MIN = 12.0
DRAWDOWN_SHARE = 0.75


def _run_from(scores: list[float], start: int, barriers: frozenset[int] = frozenset()) -> tuple[int, float]:
    """Best run that starts exactly at ``start``, cut at the first deep drawdown or barrier."""
    best, best_b, cur = float("-inf"), start, 0.0
    for i in range(start, len(scores)):
        if i in barriers:
            break
        cur += scores[i]
        if cur > best:
            best, best_b = cur, i + 1
        elif best - cur > max(DRAWDOWN_MIN, DRAWDOWN_SHARE * best):
            break
    return best_b, best


def _prepare(text: str) -> list[_Line]:
    """Split into lines (bounded: MAX_CHARS, MAX_LINES; runs of blank lines count once) and
    compute every line's features, kind and score."""
    if len(text) > MAX_CHARS:
        text = text[:MAX_CHARS]
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL_RE.sub("", text).replace("\t", "    ")
    lines: list[_Line] = []
    blank = False
    for raw in text.split("\n"):
        raw = raw.rstrip()
        if not raw:
            if blank:
                continue
            blank = True
        else:
            blank = False
        lines.append(_Line(len(lines), raw))
        if len(lines) >= MAX_LINES:
            break
    stop = _stopwords()
    counts: Counter[str] = Counter()
    for line in lines:
        if line.text:
            _analyse(line, stop)
            if len(line.text) < 200:
                counts[line.text.lower()] += 1
    for line in lines:
        if line.text and len(line.text) < 200:
            line.dup = counts[line.text.lower()]
    _mark_captions(lines)
    for line in lines:
        if line.text:
            line.score = _score_line(line)
    return lines


CAPTION_MAX_UNITS = 60


def _mark_captions(lines: list[_Line]) -> None:
    """Photo captions: text glued (no blank line between) to a credit line below it.

    The credit is either recognised as such ("Photo: ...", "Getty Images") or is a short
    Title Case name closing a two-line block ("Air pollution in Delhi ...\nBerkeley Earth").
    """
    n = len(lines)
    for i in range(1, n):
        line = lines[i]
        prev = lines[i - 1]
        if prev.kind not in ("prose", "short") or prev.bullet or prev.units > CAPTION_MAX_UNITS:
            continue
        if line.kind == "caption":
            prev.kind = "caption"
        elif (
            line.kind == "short"
            and line.units <= 5
            and line.cap_ratio >= 0.6
            and not line.sent_end
            and not line.bullet
            and (i < 2 or not lines[i - 2].text)
            and (i + 1 >= n or not lines[i + 1].text)
            and not _URL_RE.search(line.text)
            and not any(c.isdigit() for c in line.text)
        ):
            prev.kind = "caption"
            line.kind = "caption"


# The article's indentation is read from its first prose lines (sidebars come later).
INDENT_LINES = 8


def _main_indent(lines: list[_Line], a: int, b: int) -> int | None:
    weight: Counter[int] = Counter()
    seen = 0
    for line in lines[a:b]:
        if line.kind == "prose" and line.score > 0:
            weight[line.indent] += line.units
            seen += 1
            if seen >= INDENT_LINES:
                break
    return weight.most_common(1)[0][0] if weight else None


# Below this many word units the "article" is a stray blurb, not an article.
MIN_BODY_UNITS = 15

# An anchor (dateline/byline) counts if prose follows within this many non-blank lines.
ANCHOR_WINDOW = 6
# The anchored run wins over the global best run if its sum reaches this share of it.
ANCHOR_SHARE = 0.15


def _is_headline(line: _Line) -> bool:
    """A title-like line: a few words, not a bullet, not ending like a sentence."""
    return (
        line.kind in ("prose", "short")
        and not line.bullet
        and 2 <= line.units <= 30
        and line.text[-1:] not in ".,;:"
    )


def _anchors(lines: list[_Line]) -> list[tuple[int, bool]]:
    """Article-start candidates: (first prose line after a dateline/byline, has a headline).

    Relative times ("3 hours ago") are not anchors: they mark teaser lists, not articles.
    """
    out: list[tuple[int, bool]] = []
    n = len(lines)
    last_start = -1
    for i, line in enumerate(lines):
        if line.kind not in ("date", "byline") or i <= last_start:
            continue
        start = None
        seen = 0
        for j in range(i + 1, n):
            nxt = lines[j]
            if not nxt.text:
                continue
            if nxt.kind == "prose" and nxt.score > 0:
                start = j
                break
            seen += 1
            if seen >= ANCHOR_WINDOW:
                break
        if start is None:
            continue
        headed = False
        seen = 0
        for j in range(i - 1, max(-1, i - 12), -1):
            prev = lines[j]
            if not prev.text or prev.kind in ("date", "byline", "caption", "social"):
                continue
            if _is_headline(prev):
                headed = True
                break
            seen += 1
            if seen >= 3:
                break
        out.append((start, headed))
        last_start = start
        if len(out) >= MAX_ANCHORS:
            break
    return out


def _first_positive(scores: list[float], start: int) -> int:
    n = len(scores)
    while start < n and scores[start] <= 0.0:
        start += 1
    return start


def _search(
    scores: list[float], anchors: list[tuple[int, bool]], barriers: frozenset[int]
) -> tuple[int, int, float]:
    """The article's run of lines: the best-scoring run, unless an anchored run (one starting
    right after a dateline/byline) is not much weaker (ANCHOR_SHARE).  Anchored runs stop at a
    comment-thread heading (``barriers``) and at deep drawdowns."""
    a, b, total = _max_run(scores)
    if total <= 0:
        return a, b, total
    for want_headed in (True, False):
        for start, headed in anchors:
            if headed != want_headed:
                continue
            start = _first_positive(scores, start)
            if start >= len(scores):
                continue
            if a <= start < b and not headed:
                return a, b, total
            b2, total2 = _run_from(scores, start, barriers)
            # A headed anchor inside the best run: what precedes it is the page header
            # (teasers, standfirst) rather than the article.
            if a <= start < b or total2 >= ANCHOR_SHARE * total:
                return start, b2, total2
    return a, b, total


LIST_NEST = 4
# A page with more than this share of its lines at the article's indentation is "flat".
FLAT_SHARE = 0.8


def _nested_item(line: _Line, indent: int) -> bool:
    """An item of a list nested in the article: one level deeper and reading like a sentence,
    not like a teaser headline (Title Case, few stopwords, cut off with "...")."""
    return (
        line.bullet
        and line.kind == "prose"
        and indent < line.indent <= indent + LIST_NEST
        and line.stop_ratio >= 0.2
        and line.cap_ratio < 0.5
        and not line.text.endswith(("...", "…"))
    )


def _rescore(line: _Line, indent: int) -> float:
    """Second-pass score once the article's indentation is known."""
    s = line.score
    if not line.text:
        return s
    if line.kind == "table" and line.indent >= indent:
        return max(s, 0.05)  # tables are laid out deeper than the text around them
    if _nested_item(line, indent):
        return max(s, 0.05)
    if line.indent != indent:
        # Off the article's indentation: needs more evidence to count as text.
        return s - 0.5 if s > 0 else s * 1.5 - 0.3
    if not line.bullet and line.kind in ("short", "table", "prose"):
        # On it: subheads, data lines and list-like paragraphs of the article are not chrome.
        return max(s, 0.1 if line.dup == 1 else 0.0)
    return s


def _find_region(lines: list[_Line]) -> tuple[int, int, int | None]:
    """[a, b) bounds of the article and its indentation (None when nothing was found)."""
    scores = [line.score for line in lines]
    anchors = _anchors(lines)
    barriers = frozenset(line.idx for line in lines if line.kind == "comments")
    a, b, total = _search(scores, anchors, barriers)
    if total <= 0:
        return 0, 0, None
    indent = _main_indent(lines, a, b)
    if indent is not None:
        # Indentation only tells the article from the chrome when the page has some: in a flat
        # dump (everything at one indent) the second pass would only blur the first.
        text_lines = [line for line in lines if line.text]
        on = sum(1 for line in text_lines if line.indent == indent)
        if on > FLAT_SHARE * len(text_lines):
            return a, b, None
        adj = [_rescore(line, indent) for line in lines]
        a2, b2, total2 = _search(adj, anchors, barriers)
        if total2 > 0:
            a, b = a2, b2
        b = _bridge(lines, adj, b, indent, barriers)
    return a, b, indent


# A bridge spans at most this many lines ...
BRIDGE_MAX_LINES = 300
# ... and must reach a paragraph at the article's indentation scoring at least this much.
BRIDGE_MIN_SCORE = 2.0


def _bridge(lines: list[_Line], adj: list[float], b: int, indent: int, barriers: frozenset[int]) -> int:
    """Extend the region over a stretch nested in the article (product boxes, bullet lists, an
    embedded widget) when article prose resumes after it.

    inscriptis indents nesting, so everything inside the article's container sits at its
    indentation or deeper; the page's chrome after the article comes back to a shallower one.  A
    stretch of low-scoring lines that never leaves the article's container, followed by another
    real paragraph at the article's indentation, is part of the article, however negative its sum.
    """
    n = len(lines)
    while b < n:
        target = None
        for j in range(b, min(n, b + BRIDGE_MAX_LINES)):
            line = lines[j]
            if not line.text:
                continue
            if line.indent < indent or line.kind in ("comments", "legal") or j in barriers:
                break
            if line.indent == indent and line.kind == "section":
                break  # a sidebar heading beside the paragraphs, not inside them
            if line.indent == indent and line.kind == "prose" and line.score >= BRIDGE_MIN_SCORE:
                target = j
                break
        if target is None:
            return b
        b2, _ = _run_from(adj, target, barriers)
        if b2 <= b:
            return b
        for line in lines[b:target]:
            line.bridged = True
        b = b2
    return b


def _keep(line: _Line, indent: int | None) -> bool:
    kind = line.kind
    if line.bridged and kind in ("prose", "short", "table") and not (line.bullet and kind == "short"):
        return True  # nested in the article between two of its paragraphs (short bullets: link lists)
    if kind == "prose":
        return line.score > 0 or line.indent == indent
    if kind == "table":
        return indent is not None and line.indent >= indent
    if indent is not None and _nested_item(line, indent):
        return True
    if kind == "short":
        return line.indent == indent and line.dup == 1
    if kind == "quote_sig":
        return True
    return False


_NUMBERED_RE = re.compile(r"^\d{1,2}[.)]\s+\S")
# A bare label introducing a list of links ("More:", "See also"); longer ones are section heads.
_TEASER_LABEL_RE = re.compile(r"^(?:more|see also|also see|further reading|more on this(?: story| topic)?)\W*$", re.I)
# A label above a list: a few words, not a bullet, not ending like a sentence or an intro ("...:").
LABEL_MAX_UNITS = 10


def _listish(line: _Line) -> bool:
    """A list item: bulleted or numbered ("1. Headline")."""
    return line.bullet or _NUMBERED_RE.match(line.text) is not None


def _opens_box(line: _Line) -> bool:
    return line.kind == "section" or (line.units <= 4 and _TEASER_LABEL_RE.match(line.text) is not None)


# A teaser headline is at most this long.
TEASER_MAX_UNITS = 25


_CLOSERS = "\"'”’»)]』」"


def _ends_sentence(text: str) -> bool:
    """Ends with a full stop, question or exclamation mark (closing quotes and brackets aside)."""
    return text.rstrip(_CLOSERS + " ")[-1:] in ".!?。！？…"


def _teaser_items(lines: list[_Line], a: int, b: int) -> set[int]:
    """Teasers right under a sidebar heading inside the region ("Trending News", "More:", "Don't
    miss" and the headlines below them): a box set into the article, not part of it.

    The box holds list items and headline-like lines (no sentence end) at the heading's
    indentation or deeper; the first sentence, or a line back at a shallower indentation, ends it.
    """
    out: set[int] = set()
    box: _Line | None = None
    for line in lines[a:b]:
        if not line.text:
            continue
        if _opens_box(line):
            box = line
        elif (
            box is not None
            and line.indent >= box.indent
            and (_listish(line) or (line.units <= TEASER_MAX_UNITS and not _ends_sentence(line.text)))
        ):
            out.add(line.idx)
        else:
            box = None
    return out


def _trim_trailing_lists(lines: list[_Line], a: int, b: int, indent: int | None) -> int:
    """End the region before trailing lists that hang under a label or sidebar heading ("Next Up
    In Science", "Most Read" + headlines): the article ends where its own text does."""
    region = [line for line in lines[a:b] if line.text]
    end = len(region)
    while end > 0:
        j = end
        items = 0
        while j > 0 and (_listish(region[j - 1]) or (region[j - 1].kind != "section" and not _keep(region[j - 1], indent))):
            items += _listish(region[j - 1])
            j -= 1
        if items == 0 or j == 0:
            break
        label = region[j - 1]
        is_label = (
            label.kind in ("short", "prose")
            and not label.bullet
            and label.units <= LABEL_MAX_UNITS
            and label.text[-1:] not in _SENT_END
            and label.text[-1:] not in ",;"
        )
        if not (_opens_box(label) or is_label):
            break
        end = j - 1
    return region[end].idx if end < len(region) else b


def _extract_body(lines: list[_Line]) -> tuple[list[_Line], int, int]:
    """Kept lines of the article region and the region's bounds ([] if nothing article-like)."""
    a, b, indent = _find_region(lines)
    b = _trim_trailing_lists(lines, a, b, indent)
    teasers = _teaser_items(lines, a, b)
    kept = [line for line in lines[a:b] if line.idx not in teasers and _keep(line, indent)]
    if indent is None and kept:
        # Flat dump: no indentation to vouch for short lines; keep those standing between two
        # kept paragraphs (subheads, one-line paragraphs).
        kept_ids = {line.idx for line in kept}
        region = [line for line in lines[a:b] if line.text]
        for k in range(1, len(region) - 1):
            line = region[k]
            if (
                line.kind == "short"
                and not line.bullet
                and line.dup == 1
                and region[k - 1].idx in kept_ids
                and region[k + 1].idx in kept_ids
            ):
                kept.append(line)
        kept.sort(key=lambda line: line.idx)
    # A short line before the first paragraph is a label of the page ("Why you can trust us"),
    # not a subhead: subheads come between paragraphs.
    if len(kept) > 1 and kept[0].kind == "short" and not kept[0].sent_end and kept[1].kind == "prose":
        kept.pop(0)
    # ... and one after the last paragraph labels what follows it ("Next Up In Tech").
    if len(kept) > 1 and kept[-1].kind == "short" and not kept[-1].bullet and not _ends_sentence(kept[-1].text) and kept[-2].kind == "prose":
        kept.pop()
    units = sum(line.units for line in kept)
    if units < MIN_BODY_UNITS or not any(line.kind == "prose" and line.score > 0 for line in kept):
        return [], a, a
    return kept, a, b


def _join(kept: list[_Line]) -> str:
    """One paragraph per line; adjacent list items / table rows stay together in one block."""
    parts: list[str] = []
    prev: _Line | None = None
    for line in kept:
        if parts and prev is not None and line.idx == prev.idx + 1 and _listy(line) and _listy(prev):
            parts.append("\n")
        elif parts:
            parts.append("\n\n")
        parts.append(line.text)
        prev = line
    return "".join(parts)


def _listy(line: _Line) -> bool:
    return line.bullet or line.kind == "table"


# --------------------------------------------------------------------------- metadata
# How far above the article the header (title, standfirst, byline, dateline) is looked for.
HEADER_LINES = 25

_TZ_OFFSETS = {
    "UTC": 0, "GMT": 0, "Z": 0, "WET": 0, "BST": 1, "CET": 1, "CEST": 2, "EET": 2, "EEST": 3, "MSK": 3,
    "IST": 5.5, "SGT": 8, "HKT": 8, "JST": 9, "KST": 9, "AEST": 10, "AEDT": 11, "NZST": 12,
    "EST": -5, "EDT": -4, "ET": -5, "CST": -6, "CDT": -5, "CT": -6, "MST": -7, "MDT": -6, "MT": -7,
    "PST": -8, "PDT": -7, "PT": -8, "AKST": -9, "HST": -10,
}
_LEADING_DATE_RE = re.compile(r"^\s*date\s+(\d{4}-\d{2}-\d{2})\b", re.I)
_UPDATED_RE = re.compile(r"\b(?:updated|modified|atualizado|aggiornato|mis à jour|aktualisiert)\b", re.I)
_TIME_RE = re.compile(r"(?<!\d)(\d{1,2})[:.h](\d{2})(?::(\d{2}))?\s*([ap])?\.?\s?m?\.?(?![\w])", re.I)
_TZ_RE = re.compile(r"\b([A-Z]{1,4})\b")
_URL_DATE_RE = re.compile(r"/((?:19|20)\d{2})[/-](\d{1,2})[/-](\d{1,2})(?:/|[^\d])")
_BY_RE = re.compile(r"(?:^|[\s|•·,(])(?:by|BY|By)\s*:?\s+(.+)$")
_NAME_STOP_RE = re.compile(r"\s*(?:[|•·–—(\[]|\s-\s|,\s*(?!and\b)|\s(?:on|at|in|for|published|updated|posted)\s|\d).*$", re.I)
_NAME_SPLIT_RE = re.compile(r"\s*(?:,|&|\band\b|\bund\b|\be\b|\by\b|\bet\b)\s*")
_NAME_PARTICLES = frozenset("de da do dos das del della di van von der den la le du bin al ibn".split())


def _titlecase_name(name: str) -> str:
    """"CELIA JEAN" -> "Celia Jean", "O'BRIEN" -> "O'Brien"; mixed-case names are kept."""
    if not name.isupper():
        return name
    out = []
    for word in name.split():
        low = word.lower()
        if low in _NAME_PARTICLES:
            out.append(low)
            continue
        out.append(re.sub(r"[^\W\d_]+", lambda m: m.group(0).capitalize(), low))
    return " ".join(out)


# Job titles glued after a byline ("By Meg James Staff Writer"): cut from the role word on,
# together with one qualifier before it.
_ROLE_WORDS = frozenset(
    "writer columnist contributor correspondent reporter editor producer journalist photographer "
    "analyst critic author".split()
)
_ROLE_QUALIFIERS = frozenset(
    "staff senior business contributing political chief associate deputy managing news science "
    "tech technology health sports special foreign national opinion investigative digital".split()
)


def _strip_role(words: list[str]) -> list[str]:
    for k, w in enumerate(words):
        if k and w.lower() in _ROLE_WORDS:
            if k > 1 and words[k - 1].lower() in _ROLE_QUALIFIERS:
                k -= 1
            return words[:k]
    return words


def _parse_authors(line: str) -> list[str]:
    m = _BY_RE.search(line)
    if m is None:
        return []
    names = _NAME_STOP_RE.sub("", m.group(1)).strip(" .:")
    out = []
    for name in _NAME_SPLIT_RE.split(names):
        words = _strip_role(name.strip(" .:").split())
        name = " ".join(words)
        if not 1 <= len(words) <= 5 or not words[0][:1].isupper():
            continue
        if any(not (w[:1].isupper() or w.lower() in _NAME_PARTICLES) for w in words):
            continue
        out.append(_titlecase_name(name))
    return out


def _parse_date(text: str) -> datetime | None:
    """A timezone-aware datetime from the first date in ``text`` (UTC when no zone is given)."""
    m = _search_date(text)
    if m is None:
        return None
    s = m.group(0)
    try:
        iso = re.match(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ](\d{1,2}):(\d{2})(?::(\d{2}))?(Z|[+-]\d{2}:?\d{2})?)?", s)
        if iso:
            y, mo, d = int(iso[1]), int(iso[2]), int(iso[3])
            hh, mm, ss = int(iso[4] or 0), int(iso[5] or 0), int(iso[6] or 0)
            tz = timezone.utc
            if iso[7] and iso[7] != "Z":
                sign = 1 if iso[7][0] == "+" else -1
                off = iso[7][1:].replace(":", "")
                tz = timezone(sign * timedelta(hours=int(off[:2]), minutes=int(off[2:])))
            return datetime(y, mo, d, hh, mm, ss, tzinfo=tz)
        cjk = re.match(r"(\d{4})\s*[年년]\s*(\d{1,2})\s*[月월]\s*(\d{1,2})", s)
        num = cjk or re.match(r"(\d{1,4})[./](\d{1,2})[./](\d{1,4})", s)
        if num:
            p1, p2, p3 = int(num[1]), int(num[2]), int(num[3])
            if p1 > 31:  # Y/M/D
                y, mo, d = p1, p2, p3
            elif p1 > 12 or "." in s[:6]:  # D/M/Y (dots are day-first)
                d, mo, y = p1, p2, p3
            else:  # M/D/Y
                mo, d, y = p1, p2, p3
            rest = s[num.end() :]
        else:
            words = re.findall(r"[^\W\d_]+|\d+", s)
            mo = next(_MONTH_NUM[w.lower()] for w in words if w.lower() in _MONTH_NUM)
            nums = [w for w in re.findall(r"(?<![:.\d])\d{1,4}(?![:\d])", s)]
            y = next(int(n) for n in nums if len(n) == 4)
            d = next(int(n) for n in nums if len(n) <= 2)
            rest = s
        hh = mm = 0
        before = text[max(0, m.start() - 20) : m.start()]
        tm = _TIME_RE.search(rest) or _TIME_RE.search(before)  # "2:16 AM EST Nov 20, 2019"
        if tm:
            hh, mm = int(tm[1]), int(tm[2])
            if tm[4]:
                if tm[4].lower() == "p" and hh < 12:
                    hh += 12
                elif tm[4].lower() == "a" and hh == 12:
                    hh = 0
        tz = timezone.utc
        around = text[max(0, m.start() - 12) : m.end() + 8]
        for abbr in _TZ_RE.findall(around):
            if abbr in _TZ_OFFSETS:
                tz = timezone(timedelta(hours=_TZ_OFFSETS[abbr]))
                break
        return datetime(y, mo, d, hh, mm, tzinfo=tz)
    except (ValueError, StopIteration, OverflowError):
        return None


def _prev_nonblank(lines: list[_Line], i: int, count: int) -> list[int]:
    """Indices of up to ``count`` non-blank lines before ``i``, nearest first (share buttons and
    other page furniture are passed over without being counted)."""
    out: list[int] = []
    j = i - 1
    seen = 0
    while j >= 0 and seen < count:
        line = lines[j]
        if line.text:
            out.append(j)
            if line.kind not in ("social", "furniture"):
                seen += 1
        j -= 1
    return out


_SLUG_SPLIT_RE = re.compile(r"[^\w]+|_")


def _slug_words(url: str | None) -> set[str]:
    if not url:
        return set()
    path = url.split("://", 1)[-1].split("/", 1)[-1].split("?", 1)[0]
    return {w for w in _SLUG_SPLIT_RE.split(path.lower()) if len(w) > 2 and not w.isdigit()}


TITLE_MARGIN = 0.35
_NOT_TITLE_RE = re.compile(r"@\w|https?://|www\.|\s[>»]\s|^[(\[{>»—–-]|\b(?:published|updated|posted)\b|\d{1,2}:\d{2}", re.I)


def _content_words(text: str, stop: frozenset[str]) -> set[str]:
    return {w for w in _WORD_RE.findall(text.lower()) if len(w) > 2 and w not in stop}


def _find_title(lines: list[_Line], a: int, lead: str, url: str | None) -> int | None:
    """Index of the article's headline among the lines just above the region.

    Candidates are headline-shaped lines; they score for sharing words with the article's lead
    (and the URL slug when known), for sitting right above a byline/dateline, and lose a bit
    with distance from the article.
    """
    window = _prev_nonblank(lines, a, HEADER_LINES)
    stop = _stopwords()
    slug = _slug_words(url)
    lead_words = _content_words(lead, stop)
    scored: list[tuple[int, int, float]] = []  # (position in window, distance, score)
    d = -1
    for pos, i in enumerate(window):
        line = lines[i]
        if line.kind not in ("social", "furniture"):
            d += 1  # distance in lines that are not share buttons
        if (
            not _is_headline(line)
            or line.kind in ("date", "byline")
            or len(line.text) > 300
            or line.text.endswith(")")  # "(Photo: ...)" captions
            or _NOT_TITLE_RE.search(line.text)
        ):
            continue
        words = _content_words(line.text, stop)
        if not words:
            continue
        # Share of its words found in the lead (smoothed: one shared word of a two-word label is
        # weaker evidence than five of a ten-word headline).
        score = 2.0 * len(words & lead_words) / (len(words) + 1.5) - 0.04 * d
        near = [lines[j] for j in window[max(0, pos - 4) : pos + 4] if j != i]
        if any(x.kind in ("date", "byline") for x in near):
            score += 0.7  # a headline sits right next to its byline / dateline
        if 5 <= line.units <= 25:
            score += 0.3
        elif line.units <= 2:
            score -= 0.3  # section labels ("Trading Nation", "City Talk")
        if " | " in line.text or line.dup > 2:
            score -= 0.5
        if slug:
            score += 2.0 * len(words & slug) / max(len(words), len(slug))
        if score > 0:
            scored.append((pos, d, score))
    if not scored:
        return None
    pos, d, score = max(scored, key=lambda x: x[2])
    # Headline then standfirst: when the best candidate reads like a sentence (a standfirst), a
    # similar candidate just above it is the headline.
    if lines[window[pos]].cap_ratio < 0.4:
        for pos2, d2, score2 in scored:
            if d < d2 <= d + 4 and score2 >= score - TITLE_MARGIN:
                pos, d, score = pos2, d2, score2
    return window[pos]


_TAG_SEP_RE = re.compile(r"\s*(?:[,;|•·]|\s/\s|\s{2,})\s*")
_GLUE_RE = re.compile(r"(?<=[a-z0-9]{3})(?=[A-Z][a-z])|(?<=[a-z]{3})(?=[A-Z]{2,}\b)")
_TAG_PREFIX_RE = re.compile(
    r"^[\W_]*(?:related tags|tags?|tagged(?: with| in)?|topics?|keywords|filed under|etiquetas|schlagworte|"
    r"palavras-chave|tag)\b\s*[:\-–]?\s*(.*)$",
    re.I,
)


class _Article:
    """The article's words, normalised only if a run-together tag line needs them."""

    def __init__(self, parts: list[str | None]) -> None:
        self._parts = parts
        self._text: str | None = None

    def __contains__(self, phrase: str) -> bool:
        """``" Mark Esper "`` in the article, as whole words."""
        if self._text is None:
            self._text = " " + _norm_phrase(" ".join(p for p in self._parts if p)) + " "
        return phrase in self._text


def _split_run_together(text: str, article: _Article) -> list[str]:
    """Split "Benny Gantz Jared Kushner" into tags with the longest phrases found in the article."""
    tokens = text.split()
    tags: list[str] = []
    unmatched: list[str] = []

    def flush() -> None:
        # Nothing in the article to go by: capitalised runs are taken two words at a time
        # (most run-together tags are person names).
        i = 0
        while i < len(unmatched):
            take = 2 if len(unmatched) - i != 3 else 3
            tags.append(" ".join(unmatched[i : i + take]))
            i += take
        unmatched.clear()

    i = 0
    while i < len(tokens):
        for j in range(min(len(tokens), i + 6), i + 1, -1):
            phrase = " ".join(tokens[i:j])
            if f" {_norm_phrase(phrase)} " in article:
                flush()
                tags.append(phrase)
                i = j
                break
        else:
            unmatched.append(tokens[i])
            i += 1
    flush()
    return tags


def _norm_phrase(text: str) -> str:
    return " ".join(re.findall(r"[\w'’-]+", text.replace("’", "'")))


def _find_tags(lines: list[_Line], start: int, end: int, article: _Article) -> list[str]:
    for i in range(start, min(len(lines), end)):
        line = lines[i]
        if not line.text or line.units > 40:
            continue
        m = _TAG_PREFIX_RE.match(line.text)
        if m is None:
            continue
        rest = m.group(1).strip()
        if rest:
            items = _split_tags(rest, article)
        else:  # "Tags:" heading, then one tag line or one tag per line below it
            items = []
            for j in range(i + 1, min(len(lines), i + 15)):
                nxt = lines[j]
                if not nxt.text:
                    if items:
                        break
                    continue
                if nxt.units > 12 or nxt.kind in ("section", "legal", "social"):
                    break
                if items and not nxt.bullet:
                    break  # the bullet list of tags is over
                text = _BULLET_RE.sub("", nxt.text, count=1).strip()
                items.extend(_split_tags(text, article) if not nxt.bullet else [text.rstrip(",;|")])
        items = [t.strip(" .:#") for t in items]
        items = [t for t in items if t and len(t) <= 60]
        if items:
            seen: set[str] = set()
            return [t for t in items if not (t.lower() in seen or seen.add(t.lower()))]
    return []


def _split_tags(text: str, article: _Article) -> list[str]:
    if _TAG_SEP_RE.search(text):
        return [t for t in _TAG_SEP_RE.split(text) if t]
    pieces = [p for p in _GLUE_RE.split(text) if p.strip()]
    out: list[str] = []
    for piece in pieces:
        piece = piece.strip()
        if len(piece.split()) <= 2:
            out.append(piece)
        else:
            out.extend(_split_run_together(piece, article))
    return out


def _metadata(lines: list[_Line], a: int, b: int, body: str, url: str | None) -> dict:
    meta: dict = {}
    title_idx = _find_title(lines, a, body[:2000], url) if b > a else None
    header_start = title_idx + 1 if title_idx is not None else max(0, a - HEADER_LINES)
    if title_idx is not None:
        meta["title"] = _BULLET_RE.sub("", lines[title_idx].text, count=1).strip()
    header = [line for line in lines[header_start:a] if line.text]
    region_head = [line for line in lines[a : min(b, a + 6)] if line.text and line.kind in ("byline", "date")]
    # Datelines also sit just above the headline (kicker, date, headline).
    above = [lines[i] for i in reversed(_prev_nonblank(lines, title_idx, 3))] if title_idx is not None else []

    # Standfirst: a sentence between the headline and the byline / article.
    if title_idx is not None:
        for line in header:
            if line.kind in ("byline", "date"):
                break
            if line.kind == "prose" and not line.bullet and 8 <= line.units <= 80 and line.text[-1:] in ".!?”\"":
                meta["description"] = line.text
                break

    authors: list[str] = []
    for line in above + header + region_head:
        if line.kind in ("byline", "date") and "by" in line.text.lower():
            for name in _parse_authors(line.text):
                if name.lower() not in {x.lower() for x in authors}:
                    authors.append(name)
        if authors and line.kind != "byline":
            break
    meta["authors"] = authors

    meta["published_at"] = _find_published(lines, header + region_head + above, url)

    article = _Article([meta.get("title"), meta.get("description"), body[:TAG_ARTICLE_CHARS]])
    meta["tags"] = _find_tags(lines, header_start, b + 60, article) if b > a else []
    return meta


_DATE_LABEL_RE = re.compile(
    r"\b(published|posted|publicado|pubblicato|publié|veröffentlicht|updated|modified|atualizado|"
    r"aggiornato|mis à jour|aktualisiert)\b",
    re.I,
)


def _find_published(lines: list[_Line], header: list[_Line], url: str | None) -> datetime | None:
    """Publication date: a dated header line ("Published ..." preferred over "Updated ..."),
    else a leading ``date YYYY-MM-DD`` line, else a /YYYY/MM/DD/ URL path."""
    published = updated = plain = None
    for line in header:
        if line.units > 40 or not _YEAR_RE.search(line.text):
            continue
        # Split "By X | Nov 18, 2019 - Updated Nov 18 at 4:46 PM" at its labels.
        parts = _DATE_LABEL_RE.split(line.text)
        label = None
        for part in parts:
            if _DATE_LABEL_RE.fullmatch(part):
                label = part.lower()
                continue
            if not part.strip():
                continue
            found = _parse_date(part)
            if found is None:
                continue
            if label is None:
                plain = plain or found
            elif _UPDATED_RE.match(label):
                updated = updated or found
            else:
                published = published or found
    found = published or plain
    first = next((line for line in lines if line.text), None)
    if found is None and first is not None:
        m = _LEADING_DATE_RE.match(first.text)
        if m:
            found = _parse_date(m.group(1))
    if found is None and url:
        m = _URL_DATE_RE.search(url)
        if m:
            try:
                found = datetime(int(m[1]), int(m[2]), int(m[3]), tzinfo=timezone.utc)
            except ValueError:
                found = None
    return found or updated


# --------------------------------------------------------------------------- public API
def clean_text_dump(text: str, url: str | None = None) -> Extraction:
    """Clean a plain-text dump of a web page into an :class:`Extraction`.

    ``body`` holds only the article's paragraphs separated by blank lines; it is empty when
    nothing article-like is found (the caller records that as a failure).  ``url``, when known,
    helps to pick the headline (its slug) and the date (a /YYYY/MM/DD/ path).
    """
    if not text or not text.strip():
        return Extraction(body="")
    lines = _prepare(text)
    kept, a, b = _extract_body(lines)
    if not kept:
        return Extraction(body="")
    body = _join(kept)
    meta = _metadata(lines, a, b, body, url)
    return Extraction(body=body, **meta)


def clean_text_body(text: str, url: str | None = None) -> str:
    """Only the body: the ``--func`` interface of ``shared/tools/extraction_score.py``."""
    return clean_text_dump(text, url).body
