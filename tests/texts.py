"""Made-up texts shared by the unit and integration suites (pure: no services)."""

from __future__ import annotations

import random


def random_story(seed: int, words: int, *, sentence_words: int, sentences_per_paragraph: int,
                 vocabulary: int, word_prefix: str = "w") -> str:
    """A story of distinct random sentences from a vocabulary of made-up words, in paragraphs: two
    seeds give texts that share (almost) no shingles, so only real copies are near-duplicates."""
    rng = random.Random(seed)
    words_ = [f"{word_prefix}{i}" for i in range(vocabulary)]
    sentences = [" ".join(rng.choice(words_) for _ in range(sentence_words)) + "."
                 for _ in range(words // sentence_words)]
    return "\n\n".join(" ".join(sentences[i:i + sentences_per_paragraph])
                       for i in range(0, len(sentences), sentences_per_paragraph))
