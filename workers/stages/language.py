"""Language identification of a cleaned body (py3langid), not a guess from the charset."""

from __future__ import annotations

import py3langid

_SAMPLE_CHARS = 5000


def detect_language(text: str) -> str | None:
    """ISO 639-1 code of ``text``'s language, or None when the text is too short to tell."""
    sample = text[:_SAMPLE_CHARS]
    if len(sample.split()) < 5 and len(sample) < 40:
        return None
    code, _score = py3langid.classify(sample)
    return code or None
