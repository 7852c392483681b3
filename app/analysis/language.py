"""Which language a post is in, so the scorer never pretends to read what it cannot.

Detection is lingua's (offline n-gram models inside the package), restricted to the
configured languages and run in its low-accuracy mode on at most :data:`PREFIX_CHARS`
characters of the post's words (links, handles and emoji left out). Two things keep its
cost off the ingest path for the common case:

* a language the network declares (Mastodon's ``language``, Bluesky's ``langs``) is taken
  as it is when the text's script agrees with it;
* English text that shows itself as English — a good share of its words among the function
  words only English has, or those with the English words the scorer knows — needs no model.

Low-accuracy lingua takes short, slangy English for Dutch or French now and then; a post it
calls foreign whose words the English scorer mostly knows is read as English.
"""

from __future__ import annotations

import re
from collections.abc import Sequence, Set
from functools import cache
from typing import Any

#: the most of a post's words that detection looks at
PREFIX_CHARS = 200
#: fewer letters than this: too short to tell, and the scorer reads it (emoji, "lol", "wtf")
MIN_LETTERS = 12

# Function words that are English and not a common word of the other Latin-script
# languages told apart (so "a", "me", "no", "on", "die", "also" are not here).
# fmt: off
_ENGLISH_ONLY = frozenset((
    "the", "and", "is", "are", "was", "were", "you", "your", "my", "this", "that", "it",
    "it's", "i'm", "i've", "don't", "can't", "won't", "didn't", "doesn't", "isn't", "for",
    "with", "have", "has", "had", "not", "what", "why", "when", "where", "who", "how", "just",
    "been", "being", "would", "could", "should", "they", "them", "their", "there", "our",
    "from", "about", "after", "before", "because", "very", "will", "can", "get", "got", "if",
    "but", "at", "of", "to", "by", "be", "we", "she", "his", "her", "him", "its", "than",
    "then",
))
# fmt: on
_LATIN_LANGS = frozenset(
    {"en", "fr", "de", "es", "pt", "it", "nl", "sv", "da", "no", "pl", "tr", "id"}
)
_NON_LATIN = re.compile(
    r"[^\x00-\u024f\u1e00-\u1eff\u2000-\u2bff\ufe00-\ufe0f\U0001f000-\U0001faff]"
)


@cache
def _detector(codes: tuple[str, ...]) -> Any:
    from lingua import IsoCode639_1, Language, LanguageDetectorBuilder

    languages = [Language.from_iso_code_639_1(getattr(IsoCode639_1, c.upper())) for c in codes]
    return LanguageDetectorBuilder.from_languages(*languages).with_low_accuracy_mode().build()


class LanguageDetector:
    """ISO 639-1 code of a post's language among ``languages``, or ``None`` when unsure."""

    def __init__(self, languages: Sequence[str], english_words: Set[str] = frozenset()) -> None:
        codes = tuple(sorted({c.lower() for c in languages} | {"en"}))
        self.languages = codes
        self._english_words = english_words
        self._english_or_function = frozenset(english_words) | _ENGLISH_ONLY
        self._lingua: Any = None

    def _model(self) -> Any:
        if self._lingua is None:
            self._lingua = _detector(self.languages)
        return self._lingua

    def detect(
        self, words: Sequence[str], declared: str | None = None, raw: str = ""
    ) -> str | None:
        """The language of a post from its words (tokens without links, handles, emoji).

        ``declared`` is what the network says; ``raw`` the text, for its script.
        """
        non_latin = bool(raw) and not raw.isascii() and _NON_LATIN.search(raw) is not None
        if declared:
            code = declared.split("-")[0].split("_")[0].lower()
            if code in self.languages and (code in _LATIN_LANGS) != non_latin:
                return code
        plain = [w for w in words if w[0] not in "#@"]
        letters = sum(map(len, filter(str.isalpha, plain)))  # digits and codes tell nothing
        if letters < MIN_LETTERS and not non_latin:
            return None
        english = self._english_words
        if not non_latin:
            hits = sum(map(_ENGLISH_ONLY.__contains__, plain))
            known = sum(map(english.__contains__, plain)) if hits else 0
            if (hits >= 2 and hits * 4 >= len(plain)) or (
                hits and (hits + known) * 3 >= len(plain)
            ):
                return "en"
        text = " ".join(plain)[:PREFIX_CHARS] if plain else raw[:PREFIX_CHARS]
        found = self._model().detect_language_of(text)
        if found is None:
            return None
        code = str(found.iso_code_639_1.name).lower()
        if code != "en" and not non_latin and english:
            known = sum(map(self._english_or_function.__contains__, plain))
            if known * 2 >= len(plain):
                return "en"
        return code
