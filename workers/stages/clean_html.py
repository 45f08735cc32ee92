"""The HTML cleaner's entry under its old name: the stage lives in ``workers/stages/html/``."""

from workers.stages.html import clean_html
from workers.stages.html.dom import MAX_TAG_ATTRIBUTE_CHARS, cap_nesting, parse_html, strip_overlong_tags

__all__ = ["MAX_TAG_ATTRIBUTE_CHARS", "cap_nesting", "clean_html", "parse_html", "strip_overlong_tags"]
