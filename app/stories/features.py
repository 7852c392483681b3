"""What of a post two posts must share to tell the same story.

The trend terms of a post (content words and hashtags, no handles, links, emoji or
stopwords: :func:`app.analysis.tokens.trend_terms`), a hashtag as its word, each stemmed
(Snowball, so "burned", "burns" and "burning" are one), and the character trigrams of
every stem of four letters or more, so a typo ("batery") still shares most of its word.
"""

from __future__ import annotations

from collections.abc import Iterable

import Stemmer

#: fewer distinct stems than this and a post says too little to be grouped ("lol 😂")
MIN_STEMS = 2


class Shingler:
    """Stems and trigrams of a post's terms. One per thread: a stemmer is not thread-safe."""

    def __init__(self) -> None:
        self._stem = Stemmer.Stemmer("english").stemWords
        self._cache: dict[str, tuple[str, ...]] = {}

    def shingles(self, terms: Iterable[str]) -> list[str]:
        """The post's features, or ``[]`` when it says too little to join a story."""
        words = [t[1:] if t[:1] == "#" else t for t in terms]
        out: set[str] = set()
        stems = 0
        cache = self._cache
        for word, stem in zip(words, self._stem(words), strict=True):
            grams = cache.get(word)
            if grams is None:
                grams = (stem, *_trigrams(stem)) if len(stem) >= 4 else (stem,)
                if len(cache) > 200_000:  # the vocabulary of a busy week; start over
                    cache.clear()
                cache[word] = grams
            if grams[0] not in out:
                stems += 1
            out.update(grams)
        return list(out) if stems >= MIN_STEMS else []


def _trigrams(stem: str) -> list[str]:
    padded = f"<{stem}>"
    return [padded[i : i + 3] for i in range(len(padded) - 2)]
