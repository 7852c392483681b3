"""What of a post two posts must share to tell the same story, and which of it is only a name.

The trend terms of a post (content words and hashtags, no handles, links, emoji or
stopwords: :func:`app.analysis.tokens.trend_terms`), a hashtag as its word, each stemmed
(Snowball, so "burned", "burns" and "burning" are one), and the character trigrams of
every stem of four letters or more, so a typo ("batery") still shares most of its word.

Not every part says as much. A name every post of a trend carries ("Chris Davis is
putting the team on his back", "why is chris davis such a babe") or a topic's own query
term (every post of the lumio topic says "lumio") tells no post apart from another: two
posts that share such a name and a word or two more are not one story. They still count
towards how alike two posts are, but two posts alike must also share a feature of a stem
that is neither a query term nor a name of the recent stream (:class:`RecentStems`).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable

import Stemmer

#: fewer distinct stems than this and a post says too little to be grouped ("lol 😂")
MIN_STEMS = 2

#: a post's features, stem by stem: each stem's own tuple, the stem first, then its trigrams
Parts = tuple[tuple[str, ...], ...]


class Shingler:
    """Stems and trigrams of a post's terms. One per thread: a stemmer is not thread-safe."""

    def __init__(self, ignore: Iterable[str] = ()) -> None:
        # no cache of the stemmer's own: the one here keeps the trigrams too
        self._stem = Stemmer.Stemmer("english", 0).stemWords
        self._cache: dict[str, tuple[str, ...]] = {}
        #: how many distinct stems the last post had (short posts need a closer match)
        self.last_stems = 0
        #: the last post's features, stem by stem (:data:`Parts`)
        self.last_parts: Parts = ()
        ignore = frozenset(ignore)
        #: the topics' own hashtags (#lumiox, #lumiorecall): tagged onto posts of every kind,
        #: they tell no story apart from another
        self.ignore = frozenset(t for t in ignore if t[:1] == "#")
        #: the stems of the topics' plain query words ("lumio"): they count towards how alike
        #: two posts are, but two posts must share more than them (:class:`RecentStems`)
        words = sorted({t for t in ignore if t[:1] not in "#@" and t.isalnum()})
        self.query_stems = frozenset(self._stem(words))

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
        parts: dict[str, tuple[str, ...]] = {}
        for word in words:
            grams = cache[word]
            parts[grams[0]] = grams
            out.update(grams)
        self.last_stems = len(parts)
        self.last_parts = tuple(parts.values())
        return list(out) if len(parts) >= MIN_STEMS else []


def _trigrams(stem: str) -> list[str]:
    padded = f"<{stem}>"
    return [padded[i : i + 3] for i in range(len(padded) - 2)]


class RecentStems:
    """The names of the recent stream: stems that most of the last ``size`` distinct posts
    say, posts that tell ``groups`` or more different things (stories, or posts alone).

    A trend's name ("Chris Davis is putting the team on his back", "why is chris davis
    such a babe") is in nearly every post of the trend whatever it says; the words of one
    story ("burned my hand") are in every post of that story only. The window is counted
    in posts, not seconds, so it means the same at ten posts a minute and at a thousand a
    second; until it is full a stem's share is still of ``size`` posts. Copies are not
    counted: a post boosted a thousand times says its words once.
    """

    def __init__(self, size: int, common: float, groups: int,
                 query_stems: Iterable[str] = ()) -> None:  # fmt: skip
        self.size = size
        self.groups = groups
        self._window: deque[tuple[tuple[str, ...], int]] = deque()
        self._count: dict[str, int] = {}
        self._query = frozenset(query_stems)
        #: in this many posts of the window, a stem may be a name
        self._limit = common * size
        self.names: set[str] = set()

    def add(self, parts: Parts, group: int) -> None:
        """Count a post's stems (after it has been placed: it is not its own stream)."""
        count, limit, names, window = self._count, self._limit, self.names, self._window
        stems = tuple([p[0] for p in parts])
        window.append((stems, group))
        check = []  # only a stem this post or the one leaving the window says can change
        for stem in stems:
            n = count[stem] = count.get(stem, 0) + 1
            if n >= limit:
                check.append(stem)
        if len(window) > self.size:
            gone, _ = window.popleft()
            for stem in gone:
                n = count[stem] - 1
                if n:
                    count[stem] = n
                else:
                    del count[stem]
                if stem in names:
                    check.append(stem)
        for stem in check:
            if count.get(stem, 0) >= limit and (
                len({g for said, g in window if stem in said}) >= self.groups
            ):
                names.add(stem)
            else:
                names.discard(stem)

    def features(self, parts: Parts) -> tuple[set[str], set[str]]:
        """A post's features, and those of its stems that are neither query terms nor
        names (the same set when it has none)."""
        every: set[str] = set().union(*parts)
        query, names = self._query, self.names
        said = [g for g in parts if g[0] not in query and g[0] not in names]
        if len(said) == len(parts):
            return every, every
        return every, set().union(*said)

    def spoken(self, parts: Parts) -> set[str]:
        """A post's features with a query term as one word, not its spelling: what the
        anchor test compares (every post of a topic spells its query term the same way)."""
        query = self._query
        return set().union(*[g if g[0] not in query else g[:1] for g in parts])


def jaccard(a: set[str], b: set[str]) -> float:
    """|a ∩ b| / |a ∪ b| (0 when both are empty)."""
    shared = len(a & b)
    union = len(a) + len(b) - shared
    return shared / union if union else 0.0
