"""Tokens of a post: the words, #hashtags and @handles that topic queries and trending see.

Text is folded once — NFKC (so fullwidth ``ＡＣＭＥ`` and ``＃acme`` read as ``acme`` and
``#acme``), then ``str.casefold`` — and cut into tokens, in order:

* **words**: runs of Unicode word characters in any script, with their combining marks
  (Python's ``\\w`` alone cuts Hindi ``हिन्दी`` or a decomposed ``é`` apart). Inner
  apostrophes and hyphens stay inside (``don't``, ``state-of-the-art``, ``l'acme``); the
  parts are still found as words, so ``acme`` matches ``acme's`` and ``acme-powered``.
* **hashtags** keep their ``#`` (``#acme``); a ``#`` glued to a word (``c#``) is not one.
* **handles** keep their ``@`` and their full form: ``@acme``, ``@acme@mastodon.example``,
  ``@acme.bsky.social``. An e-mail address (``help@acme.example``) is not a handle; it
  gives its words.
* **links are dropped**: a URL is neither a word nor a term worth trending, and its
  pieces (``acme`` in ``https://acme.example/jobs``) would make false matches.
* emoji and punctuation are not words.

:class:`Doc` is built once per mention and holds everything a query needs, precomputed so
that matching a topic is a few set look-ups.
"""

from __future__ import annotations

import re
import sys
import unicodedata
from collections.abc import Set as AbstractSet

__all__ = ["STOPWORDS", "Doc", "has_unspaced_script", "tokenize", "trend_terms", "without_links"]


def _mark_ranges() -> str:
    """Combining marks (and the zero-width joiners) as a regex class body.

    ``re``'s ``\\w`` leaves them out, which splits words of Indic and many other scripts.
    """
    points = [
        cp
        for lo, hi in ((0, 0x20000), (0xE0100, 0xE01F0))
        for cp in range(lo, hi)
        if unicodedata.category(chr(cp)) in ("Mn", "Mc", "Me")
    ]
    points += [0x200C, 0x200D]  # ZWNJ / ZWJ inside Persian and Indic words
    points.sort()
    ranges: list[str] = []
    start = prev = points[0]
    for cp in [*points[1:], sys.maxunicode + 2]:
        if cp != prev + 1:
            ranges.append(
                re.escape(chr(start)) + ("-" + re.escape(chr(prev)) if prev > start else "")
            )
            start = cp
        prev = cp
    return "".join(ranges)




def _token_pattern(w: str) -> str:
    return (
        rf"(?<![\w@])@{w}(?:[.\-]{w})*(?:@{w}(?:[.\-]{w})+)?"  # @handle, @user@server
        rf"|(?<![\w#])#{w}"  # #hashtag
        rf"|{w}(?:['\-]{w})*"  # word, with inner ' and -
    )


# a word starts with a letter or digit, never with a mark
_TOKEN = re.compile(_token_pattern(rf"\w[\w{_mark_ranges()}]*"))
# the same on ASCII text, where the long class of marks only costs time
_TOKEN_ASCII = re.compile(_token_pattern(r"\w+"), re.ASCII)
_URL = re.compile(r"(?:\b[a-z][a-z0-9+.\-]*://|\bwww\.)\S+")
_INNER = re.compile(r"['\-]")
_HAS_LETTER = re.compile(r"[^\W\d_]")
# ’ ‘ ‐ ‑ are the typographic spellings of the inner apostrophe and hyphen
_PUNCT = str.maketrans({"\u2019": "'", "\u2018": "'", "\u2010": "-", "\u2011": "-"})

# Scripts written without spaces between words (and Hangul, whose particles attach to
# nouns): a term in them is matched as a substring, since there are no word boundaries.
_UNSPACED = re.compile(
    "["
    "\u0e00-\u0eff"  # Thai, Lao
    "\u1000-\u109f\uaa60-\uaa7f\ua9e0-\ua9ff"  # Myanmar
    "\u1780-\u17ff\u19e0-\u19ff"  # Khmer
    "\u1100-\u11ff\u3130-\u318f\uac00-\ud7af"  # Hangul
    "\u2e80-\u2fdf\u3005-\u3007\u3021-\u3029\u3038-\u303c"  # CJK radicals, ideographic marks
    "\u3040-\u30ff\u31f0-\u31ff\uff66-\uff9f"  # Hiragana, Katakana
    "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"  # CJK ideographs
    "\U00020000-\U0003134f"  # CJK extensions
    "]"
)


def fold(text: str) -> str:
    """The normal form every comparison uses: NFKC, casefolded, typographic ’ and ‐ as ' and -.

    NFKC is applied again after casefolding so that folding is idempotent.
    """
    if text.isascii():
        return text.lower()  # the same as casefold on ASCII, and faster
    text = unicodedata.normalize("NFKC", text).casefold()
    text = unicodedata.normalize("NFKC", text)
    if "\u2019" in text or "\u2018" in text or "\u2010" in text or "\u2011" in text:
        text = text.translate(_PUNCT)
    return text


# stripped from the ends of a whitespace-separated chunk before the plain-word fast path
_EDGE = ".,!?:;\"'()[]{}<>…*~¡¿«»“”"


def _scan(folded: str) -> tuple[list[str], list[str]]:
    """Tokens of folded text, and the subset that may need extra forms (#, @, ' or -).

    Splitting on whitespace first and taking plain alphanumeric chunks as they are is
    several times faster than running the token regex over the whole text; the regex
    only sees chunks with punctuation inside. The result is the same, since a token never
    spans whitespace.
    """
    tokens: list[str] = []
    special: list[str] = []
    keep = tokens.append
    findall = _TOKEN_ASCII.findall if folded.isascii() else _TOKEN.findall
    for chunk in folded.split():
        if chunk.isalnum():
            keep(chunk)
            continue
        if "://" in chunk or "www." in chunk:
            chunk = _URL.sub(" ", chunk)
        chunk = chunk.strip(_EDGE)
        if chunk.isalnum():
            keep(chunk)
            continue
        if not chunk:
            continue
        if chunk[0] in "#@" and chunk[1:].isalnum():  # a bare #hashtag or @handle
            keep(chunk)
            special.append(chunk)
            continue
        found = findall(chunk)
        tokens += found
        special += found
    return tokens, special


def without_links(text: str) -> str:
    """``text`` with its links taken out (a ``?`` in a URL's query asks nothing)."""
    if "://" not in text and "www." not in text.lower():
        return text
    return _URL.sub(" ", text)


def tokenize(text: str) -> list[str]:
    """Folded tokens of ``text`` in order: words, ``#hashtags``, ``@handles``; no links, no emoji."""
    return _scan(fold(text))[0]


def has_unspaced_script(text: str) -> bool:
    """True if ``text`` holds a character of a script written without spaces (CJK, Thai, …)."""
    return not text.isascii() and _UNSPACED.search(text) is not None


def _handle_local(handle: str) -> str:
    """``@acme@mastodon.example`` → ``acme``; ``@acme.bsky.social`` → ``acme``; ``@acme`` → ``acme``."""
    body = handle[1:]
    at = body.find("@")
    if at >= 0:
        return body[:at]
    dot = body.find(".")
    return body[:dot] if dot >= 0 else body


def phrase_units(tokens: list[str]) -> list[str]:
    """The sequence a "quoted phrase" is matched against.

    Hashtags count as their word and compounds as their parts, so ``"acme phone"`` finds
    ``#acme phone`` and ``acme-phone``; handles stay whole. Punctuation between words is
    ignored, as in the big networks' phrase search.
    """
    units: list[str] = []
    for t in tokens:
        head = t[0]
        if head == "#":
            t = t[1:]
        elif head == "@":
            units.append(t)
            continue
        if "'" in t or "-" in t:
            units.extend(_INNER.split(t))
        else:
            units.append(t)
    return units


class Doc:
    """One post, prepared for matching: built once by :meth:`from_text`, read by every query.

    ``text``
        the folded text (terms of unspaced scripts are looked for in it as substrings);
    ``tokens``
        the tokens in order (what :func:`tokenize` returns);
    ``forms``
        every token, plus the forms a term may match it by: the word of a hashtag (``acme``
        for ``#acme``), the parts of a compound (``acme`` for ``acme's``), and the local
        part of a handle both as ``@acme`` and ``acme`` (for ``@acme@mastodon.example``).
        A word never starts with ``#`` or ``@``, so one set serves every kind of term.
    """

    __slots__ = ("_units", "forms", "text", "tokens")

    def __init__(self, text: str, tokens: list[str], forms: AbstractSet[str]) -> None:
        self.text = text
        self.tokens = tokens
        self.forms = forms
        self._units: list[str] | None = None

    @classmethod
    def from_text(cls, text: str) -> Doc:
        folded = fold(text)
        tokens, special = _scan(folded)
        forms = set(tokens)
        add = forms.add
        for t in special:
            head = t[0]
            if head == "#":
                t = t[1:]
                add(t)
            elif head == "@":
                local = _handle_local(t)
                add("@" + local)
                add(local)
                continue
            if "'" in t:
                forms.update(t.replace("'", "-").split("-"))
            elif "-" in t:
                forms.update(t.split("-"))
        return cls(folded, tokens, forms)

    @property
    def units(self) -> list[str]:
        """The phrase sequence (see :func:`phrase_units`), built on first use."""
        if self._units is None:
            self._units = phrase_units(self.tokens)
        return self._units

    def __repr__(self) -> str:
        return f"Doc({self.text!r})"


# English, French, German and Spanish function words, plus the noise of social posts.
_STOPWORD_LIST = """
    a about above after again against all also am an and any are aren't as at be because
    been before being below between both but by can can't cannot could couldn't did didn't
    do does doesn't doing don't down during each even ever every few for from further get
    gets got had hadn't has hasn't have haven't having he he'd he'll he's her here here's
    hers herself him himself his how how's however i i'd i'll i'm i've if in into is isn't
    it it's its itself just let's like made make many may me might more most much must
    mustn't my myself need no nor not now of off often on once only or other ought our ours
    ourselves out over own per quite rather really same say says shan't she she'd she'll
    she's should shouldn't since so some still such than that that's the their theirs them
    themselves then there there's these they they'd they'll they're they've this those
    though through thus to too under until up upon us very via was wasn't we we'd we'll
    we're we've were weren't what what's when when's where where's whether which while who
    who's whom why why's will with within without won't would wouldn't yet you you'd
    you'll you're you've your yours yourself yourselves yeah yes ok okay oh lol im dont
    cant wont ive its amp rt http https www com gonna wanna got one two
    au aux avec ce ces cette dans de des du elle elles en est et être eux il ils je la le
    les leur leurs lui ma mais me même mes moi mon ne nos notre nous on ou où par pas pour
    qu que qui sa se ses son sont sur ta te tes toi ton tu un une vos votre vous c d j l m
    n s t y été était étais avait avoir fait faire plus très aussi comme bien tout tous
    toute toutes ça cela ceci c'est j'ai n'est qu'il
    aber alle allem allen aller alles als also am an ander andere anderen auch auf aus bei
    bin bis bist da damit dann das dass dein deine dem den der des dich die dies diese
    diesem diesen dieser dieses dir doch dort du durch ein eine einem einen einer eines
    er es etwas euch euer eure für gegen gewesen hab habe haben hat hatte hier hin hinter
    ich ihm ihn ihnen ihr ihre im in ins ist ja jede jedem jeden jeder jedes jetzt kann
    kein keine mich mir mit muss nach nicht nichts noch nun nur ob oder ohne schon sehr
    sein seine sich sie sind so soll über um und uns unser unter vom von vor war waren
    warum was weil weiter welche wenn wer wie wieder wir wird wo wurde zu zum zur zwar
    al algo algunos ante antes como con contra cual cuando de del desde donde durante e
    el ella ellas ellos en entre era eres es esa ese eso esta está están estas este esto
    estos fue fueron ha han hasta hay la las le les lo los me mi mis mucho muy más nada
    ni no nos nosotros o os otra otro para pero poco por porque que quien qué se ser si
    sido sin sobre son su sus también te tengo ti tiene todo todos tu tus un una uno unos
    y ya yo él sí
"""
STOPWORDS: frozenset[str] = frozenset(_STOPWORD_LIST.split())


_ELISIONS = frozenset({"c", "d", "j", "l", "m", "n", "qu", "s", "t"})


def _bare_word(word: str) -> str:
    """``acme's`` → ``acme``; French ``l'acme`` → ``acme``; ``don't`` stays."""
    if word.endswith("'s"):
        word = word[:-2]
    head, sep, rest = word.partition("'")
    if sep and head in _ELISIONS and rest:
        return rest
    return word


def trend_terms(doc: Doc) -> list[str]:
    """Distinct terms worth counting for trending, in order of first appearance.

    Hashtags, and words of three characters or more that are not stopwords, numbers or
    handles (links are never tokens). A possessive ``acme's`` and an elided ``l'acme`` count as ``acme``. Runs of
    unspaced scripts are left out: without word boundaries a run is a whole clause, not a
    term (their hashtags still count).
    """
    unspaced = has_unspaced_script(doc.text)
    seen: dict[str, None] = {}
    for t in doc.tokens:
        if t.isalpha():  # the common case: a plain word
            if len(t) >= 3 and t not in STOPWORDS and not (unspaced and _UNSPACED.search(t)):
                seen[t] = None
            continue
        head = t[0]
        if head == "#":
            seen[t] = None
            continue
        if head == "@" or len(t) < 3 or t in STOPWORDS or t.isdigit():
            continue
        if "'" in t:
            t = _bare_word(t)
            if len(t) < 3 or t in STOPWORDS:
                continue
        if _HAS_LETTER.search(t) is None:
            continue  # 2024-25, 1'000, ___
        if unspaced and _UNSPACED.search(t):
            continue
        seen[t] = None
    return list(seen)
