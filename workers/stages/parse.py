"""The parse stage: raw bytes of one page in, its cleaned text and metadata out."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from workers import __version__
from workers.errors import PermanentPageError
from workers.models import Extraction, ParsedPage, RawPage
from workers.stages.decode import decode_bytes, looks_like_html
from workers.stages.fingerprints import normalize_text
from workers.stages.html import clean_html
from workers.stages.language import detect_language
from workers.stages.text_stats import count_words
from workers.stages.textdump import clean_text_dump
from workers.stages.urls import document_id, domain_of

HTML_EXTRACTOR = f"gleaner-html-{__version__}"
TEXT_EXTRACTOR = f"gleaner-textdump-{__version__}"


@dataclass(frozen=True)
class ParseLimits:
    max_text_chars: int = 2_000_000
    min_body_words: int = 20
    # A dated item with a headline (a short wire story, a results table) is content from this many words.
    min_item_words: int = 5


def parse_page(
    page: RawPage, *, batch_id: str | None = None, seq: int | None = None, limits: ParseLimits = ParseLimits(),
    model_dir: Path | None = None,
) -> ParsedPage:
    """Decode, classify, clean and describe one page, page ``seq`` of batch ``batch_id``.

    ``model_dir`` (``GLEANER_MODEL_DIR``) holds model files that replace the shipped ones of the
    cleaners (``workers/stages/model_files.py``). Raises ``PermanentPageError`` when the page
    cannot become a document: binary or empty content, or too little text left after cleaning.
    """
    text, _encoding = decode_bytes(page.content, page.charset)
    text = text.replace("\x00", "")
    if len(text) > limits.max_text_chars:
        text = text[: limits.max_text_chars]
    kind = page.kind or ("html" if looks_like_html(text) else "text")
    if kind == "html":
        extraction, extractor = clean_html(text, url=page.url, model_dir=model_dir), HTML_EXTRACTOR
    else:
        extraction, extractor = clean_text_dump(text, url=page.url, model_dir=model_dir), TEXT_EXTRACTOR
    _require_article(extraction, limits, item_rule=kind == "text")
    url = page.url or extraction.canonical_url
    return ParsedPage(
        **page.ref(batch_id=batch_id, seq=seq).model_dump(),
        doc_id=document_id(url, normalize_text(extraction.body)),
        domain=domain_of(url),
        kind=kind,
        extraction=extraction,
        language=detect_language(extraction.body) or extraction.language,
        fetched_at=page.fetched_at,
        extractor=extractor,
    )


def _require_article(extraction: Extraction, limits: ParseLimits, *, item_rule: bool = False) -> None:
    words = count_words(extraction.body)
    if words == 0:
        raise PermanentPageError("empty_after_cleaning", "no main content found (index, error or script-only page?)")
    # In a plain-text dump, a headline and a date say the page is an item of its own (a short wire
    # story, a results table), however short its body.
    is_item = item_rule and extraction.title is not None and extraction.published_at is not None
    if words < (limits.min_item_words if is_item else limits.min_body_words):
        raise PermanentPageError(
            "too_short_after_cleaning",
            f"only {words} words of main content left after cleaning (minimum {limits.min_body_words}, "
            f"{limits.min_item_words} for a dated item with a headline)",
        )
