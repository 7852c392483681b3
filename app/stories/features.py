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

    def __init__(self, ignore: Iterable[str] = ()) -> None:
        # no cache of the stemmer's own: the one here keeps the trigrams too
        self._stem = Stemmer.Stemmer("english", 0).stemWords
        self._cache: dict[str, tuple[str, ...]] = {}
        #: how many distinct stems the last post had (short posts need a closer match)
        self.last_stems = 0
        #: the topics' own hashtags (#lumiox, #lumiorecall): tagged onto posts of every kind,
        #: they tell no story apart from another (the brand's plain name still counts)
        self.ignore = frozenset(t for t in ignore if t[:1] == "#")

    def shingles(self, terms: Iterable[str]) -> list[str]:
        """The post's features, or ``[]`` when it says too little to join a story."""
        cache = self._cache
        ignore = self.ignore
        words = [t[1:] if t[:1] == "#" else t for t in terms if t not in ignore]
        missing = [w for w in words if w not in cache]
        if missing:
            if len(cache) > 200_000:  # the vocabulary of a busy week; start over
                cache.clear()
            for word, stem in zip(missing, self._stem(missing), strict=True):
                cache[word] = (stem, *_trigrams(stem)) if len(stem) >= 4 else (stem,)
        out: set[str] = set()
        stems: set[str] = set()
        for word in words:
            grams = cache[word]
            stems.add(grams[0])
            out.update(grams)
        self.last_stems = len(stems)
        return list(out) if len(stems) >= MIN_STEMS else []


def _trigrams(stem: str) -> list[str]:
    padded = f"<{stem}>"
    return [padded[i : i + 3] for i in range(len(padded) - 2)]
