"""Cheap textual cues of page chrome in a text dump, used as features of the line classifier.

Each cue is a named pattern ("a sidebar heading", "a copyright line", "a share-button row"); none
decides on its own: the classifier learns how much each one counts, next to length, wording,
layout and neighbours.
"""

from __future__ import annotations

import re

__all__ = [
    "BULLET_RE", "COLUMN_GAP_RE", "SENT_END", "URL_RE", "WORD_RE", "CJK_RE",
    "is_section_head", "is_comments_head", "chrome_kind", "BYLINE_RE", "KINDS",
]

WORD_RE = re.compile(r"\w+")
# CJK ideographs, kana, hangul, thai: scripts where a "word" is not space-delimited.
CJK_RE = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\u0e00-\u0e7f\uf900-\ufaff]")
# inscriptis marks list items "* ", "+ ", "o " by nesting level; other dumps use "•", "- " ...
BULLET_RE = re.compile(r"^(?:[*+•·◦▪►‣]|[-o](?=\s))\s*")
NUMBERED_RE = re.compile(r"^\(?\d{1,3}[.)]\s+\S")
SENT_END = frozenset('.!?。！？…"”’»)\'』」:;')
COLUMN_GAP_RE = re.compile(r"\S {2,}(?=\S)")
URL_RE = re.compile(r"https?://|www\.|\S@\S+\.\w|\.(?:com|org|net)\b", re.I)

# Headings that open a sidebar or end an article ("Related", "Most read", "Comments", "Tags"),
# keyed by their first word; the value must match the rest of the (lower-cased) line.
_ANY = r".*"
_SECTION_HEADS = {
    "related": r"(?:\s+\w+)?\W*",
    "more": r"\s+(?:from|in|on|about|stories|news|articles|to explore)\b.*",
    "most": r"\s+(?:read|popular|viewed|shared|emailed|commented|watched)\b.*",
    "you": r"\s+(?:may|might|will)\s+(?:also\s+)?(?:like|enjoy|be interested)\b.*",
    "we": r"\s+think you (?:may|might|will) (?:also )?like\b.*",
    "recommended": _ANY, "trending": _ANY, "popular": _ANY,
    "read": r"\s+(?:more|next|also)\b.*",
    "see": r"\s+(?:more|also)\b.*",
    "top": r"\s+(?:stories|news|rated)\b.*",
    "latest": r"\s+(?:news|stories|articles|videos?|posts?)\b.*",
    "comment": _ANY, "comments": _ANY,
    "leave": r"\s+a\s+(?:comment|reply)\b.*",
    "join": r"\s+the\s+(?:discussion|conversation)\b.*",
    "tag": _ANY, "tags": _ANY, "topic": _ANY, "topics": _ANY,
    "filed": r"\s+under\b.*",
    "about": r"\s+the\s+authors?\b.*",
    "sign": r"\s+up\b.*",
    "subscribe": _ANY, "newsletter": _ANY, "newsletters": _ANY,
    "follow": r"\s+us\b.*",
    "share": _ANY,
    "don": r"'?t\s+miss\b.*",
    "do": r"\s+not\s+miss\b.*",
    "leia": r"\s+(?:também|mais)\b.*", "veja": r"\s+(?:também|mais)\b.*", "saiba": r"\s+mais\b.*",
    "você": r"\s+pode\s+gostar\b.*",
    "artigos": r"\s+relacionad.*", "notícias": r"\s+relacionad.*", "noticias": r"\s+relacionad.*",
    "comentários": _ANY, "comentarios": _ANY,
    "te": r"\s+puede\s+(?:interesar|gustar)\b.*",
    "más": r"\s+(?:leídas|leidas|vistas|populares)\b.*",
    "articoli": r"\s+correlat.*", "leggi": r"\s+anche\b.*",
    "potrebbe": r"\s+(?:interessarti|piacerti)\b.*", "commenti": _ANY,
    "articles": r"\s+(?:similaires|connexes|liés)\b.*", "lire": r"\s+aussi\b.*", "à": r"\s+lire\s+aussi\b.*",
    "vous": r"\s+(?:aimerez|pourriez aimer)\b.*", "commentaires": _ANY,
    "lesen": r"\s+sie\s+auch\b.*", "mehr": r"\s+zum\s+thema\b.*", "kommentare": _ANY,
}
_SECTION_REST = {word: re.compile(rest, re.S) for word, rest in _SECTION_HEADS.items()}
_COMMENTS_RE = re.compile(r"comment|coment|komment|discussion|conversation|reply|replies|댓글")
_FIRST_WORD_RE = re.compile(r"[\W_]*(?:\d+\s+)?([^\W\d_]+)")
_SECTION_CJK_RE = re.compile(r"\W*(?:관련\s*기사|많이\s*본|相关|推荐|人気|関連)")


def is_section_head(low: str, cjk: bool = True) -> bool:
    """``low``: the lower-cased line without its bullet."""
    m = _FIRST_WORD_RE.match(low)
    if m is not None:
        rest = _SECTION_REST.get(m.group(1))
        if rest is not None and rest.fullmatch(low, m.end()):
            return True
    return cjk and _SECTION_CJK_RE.match(low) is not None


def is_comments_head(low: str) -> bool:
    return _COMMENTS_RE.search(low) is not None


_LEGAL_RE = re.compile(
    r"©|ⓒ|\(c\) ?\d{4}|copyright|all rights reserved|privacy policy|terms (?:of|and) (?:use|service|conditions)"
    r"|\bcookies?\b|skip to (?:main )?content|\blog ?in\b|\bsign ?in\b|\blog ?out\b|direitos reservados|diritti riservati"
    r"|derechos reservados|tous droits|alle rechte|무단\s*전재|版权所有",
    re.I,
)
_FURNITURE_RE = re.compile(
    r"^(?:advertisement|advertising|ad|sponsored(?: content)?|promoted|continue reading(?: the main story)?|story continues below.*"
    r"|scroll (?:down )?to continue.*|click to .*|skip ad|close|menu|search|home|back to top|print|email|share|tweet|next|previous"
    r"|anzeige|werbung|publicidade|pubblicità|publicité|publicidad|광고|广告|\[?\s*read all comments\s*\]?|\(?view all\)?)$",
    re.I,
)
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
    "comments comment save more sharing options show close x".split()
)
_CAPTION_RE = re.compile(
    r"photo credit|image copyright|\bphoto:|\bphotos?\s+by\b|\bimage:|\bimage (?:credit|source)|\bcredit:|getty ?images"
    r"|\(ap photo|\bap photo\b|,\s*(?:the )?(?:associated press|ap|reuters|afp|epa|getty images)$|/ ?(?:ap|afp|reuters|epa|getty)\b"
    r"|shutterstock|\bfoto:|\bfonte:|\bcrédito:|\bquelle:",
    re.I,
)
_RELATIVE_TIME_RE = re.compile(
    r"^(?:updated|published|posted)?\s*:?\s*\d+\s*(?:[smhd]|min(?:ute)?s?|hours?|hrs?|days?|weeks?|months?)\s+ago\b", re.I
)
_BY_WORDS = frozenset("by por par di von door av af".split())
BYLINE_RE = re.compile(r"^(?:by|por|par|di|von|door|av|af)\s*:?\s+(?=\w)(.{2,120})$", re.I)

#: the chrome kinds ``chrome_kind`` tells apart (one feature column each)
KINDS = ("section", "comments", "legal", "furniture", "social", "caption", "byline", "reldate")


def chrome_kind(sample: str, words: list[str], low_words: set[str], units: float, sent_end: bool, cjk: bool) -> str | None:
    """The kind of page chrome a (bullet-less) line looks like, or None (``low_words``: its words
    lower-cased; ``cjk``: it holds CJK script). The costly patterns only run when a cheap test on
    the words says they could match."""
    if units <= 12:
        low = sample.lower().strip()
        if is_section_head(low, cjk):
            return "comments" if is_comments_head(low) else "section"
        if units <= 8 and _FURNITURE_RE.match(low.strip("[]() ")):
            return "furniture"
        if units <= 6 and words and (low.startswith("share ") and _SHARE_RE.match(low) or low_words <= _SOCIAL_WORDS):
            return "social"
    if units <= 40:
        gate_all = cjk or "©" in sample or "ⓒ" in sample
        if (gate_all or not low_words.isdisjoint(_CAPTION_WORDS)) and _CAPTION_RE.search(sample.lower()):
            return "caption"
        if (gate_all or not low_words.isdisjoint(_LEGAL_WORDS)) and _LEGAL_RE.search(sample.lower()):
            return "legal"
    if units <= 25 and not sent_end and words and words[0].lower() in _BY_WORDS and BYLINE_RE.match(sample):
        return "byline"
    if units <= 14 and "ago" in low_words and _RELATIVE_TIME_RE.match(sample.lower().strip()):
        return "reldate"
    return None
