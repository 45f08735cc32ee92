"""Word counting that also works for scripts written without spaces."""

from __future__ import annotations

import re

_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
# Each CJK character counts as a word; elsewhere a word is a run of word characters.
_WORD = re.compile(rf"[{_CJK}]|[^\W{_CJK}]+", re.UNICODE)


def count_words(text: str) -> int:
    return len(_WORD.findall(text))
