"""Sentiment scoring behind a small interface, so the scorer can change without touching callers.

Two scorers share the :class:`Scorer` interface:

* :class:`VaderScorer` — plain VADER on the whole text, the baseline benchmarks compare with.
  Its cost grows with the square of a text's length, so the pipeline never uses it.
* :class:`CareScorer` — VADER's lexicon and rules read piece by piece (a sentence, at most
  :data:`PIECE_WORDS` words), so one post costs time in proportion to its length and never
  more than :data:`MAX_SCORED_CHARS` characters' worth. On top of VADER it applies the care
  rules shipped in ``config/sentiment/care.toml`` (complaint words and phrases — delays, lost
  bags, being on hold, charged twice, devices that fail, burns and recalls —, angry emoji,
  irony such as "great, another delay", politeness that is no praise inside a complaint,
  complaints in plain words — something not done, time waited, a "why" question —) and
  the brand's own ``[sentiment]`` terms. Without rules it is VADER read the linear way.

Both need no model download: VADER's lexicon ships inside its package, the care rules inside ours.
"""

from __future__ import annotations

import dataclasses
import math
import re
import string
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from app.analysis.classifier import MODEL_SURE, RULES_SURE, CareModel, dense_features, place
from app.model import sentiment_label

#: the most text of one post that is scored (its head): beyond it a post costs nothing more
MAX_SCORED_CHARS = 4_000
#: VADER's look-backs rebuild the word list of their piece for every word: pieces stay short
PIECE_WORDS = 40
#: the class boundary every view uses (VADER's customary cut-off)
_CUT = 0.05

_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+|\n+")
_PUNCT = string.punctuation
#: a post may hold a negation (only then does it matter where its sentences end)
_NEGATION_HINT = re.compile(r"n't|\b(?:not|no|never|nor|none|nobody|nothing|without)\b", re.I)
# emoji modifiers that carry no meaning of their own: variation selectors, skin tones, joiner
_EMOJI_MODIFIERS = [0xFE0E, 0xFE0F, 0x200D, *range(0x1F3FB, 0x1F400)]
#: lexicon keys for rule-made tokens (they cannot collide with a word: they hold spaces)
_IRONY = "ironic praise"
_HASHTAG = "hashtag against us"
#: … and for the complaint cues: what did not happen, how long they waited, why it is so
_UNMET = "unmet expectation"
_WAITED = "time waited"
_WHY = "why question"
_CUE_NOTES = {_UNMET: "not done", _WAITED: "waited", _WHY: "asks why"}
_CUE_SET = frozenset(_CUE_NOTES)
_COUNTS = frozenset(
    [
        "a",
        "an",
        "one",
        "two",
        "three",
        "four",
        "five",
        "six",
        "seven",
        "eight",
        "nine",
        "ten",
        "eleven",
        "twelve",
        "few",
        "several",
    ]
)


def _is_count(key: str) -> bool:
    return key.isdigit() or key in _COUNTS


@dataclass(frozen=True, slots=True)
class Driver:
    """A word or phrase of a post and the valence it added (VADER's scale, after modifiers)."""

    text: str
    weight: float


@dataclass(frozen=True, slots=True)
class Explanation:
    """Why a post scored as it did: what the console shows beside the score."""

    score: float
    label: str
    #: strongest first
    drivers: list[Driver]
    #: characters read (a long post is scored on its head only)
    scored_chars: int
    #: rules that changed the reading, in words ("irony", "politeness muted in a complaint")
    notes: list[str] = field(default_factory=list)


class Scorer(Protocol):
    """Scores texts on −1 (most negative) … 1 (most positive) and names the class shown."""

    def score(self, text: str) -> float: ...

    def score_many(self, texts: Sequence[str]) -> list[float]: ...

    def label(self, score: float) -> str: ...

    def explain(self, text: str) -> Explanation: ...


class VaderScorer:
    """Plain VADER's compound score on the whole text: the baseline."""

    def __init__(self) -> None:
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

        self._analyzer = SentimentIntensityAnalyzer()

    def score(self, text: str) -> float:
        return float(self._analyzer.polarity_scores(text)["compound"])

    def score_many(self, texts: Sequence[str]) -> list[float]:
        polarity = self._analyzer.polarity_scores
        return [float(polarity(t)["compound"]) for t in texts]

    def label(self, score: float) -> str:
        return sentiment_label(score)

    def explain(self, text: str) -> Explanation:
        score = self.score(text)
        return Explanation(score, self.label(score), [], len(text))


class _Window:
    """The few words around one word: all VADER's valence rules look at."""

    __slots__ = ("is_cap_diff", "words_and_emoticons")

    def __init__(self, is_cap_diff: bool) -> None:
        self.is_cap_diff = is_cap_diff
        self.words_and_emoticons: list[str] = []


def _vader_words(piece: str, handles: bool = False) -> tuple[list[str], list[str], list[str]]:
    """The words VADER reads in a piece, as its ``SentiText`` cuts them, each in lower case
    and as rules match it (:func:`_key`), made in one pass (every post is read so).

    Split on white space, ASCII punctuation cut from both ends of a word; a token that
    would keep two characters or fewer is left whole (an emoticon such as ``:)``). With
    ``handles``, an account's handle is left whole too: "@united" names an account, it is
    not the word "united" (+1.8 in VADER's lexicon).
    """
    words: list[str] = []
    lows: list[str] = []
    keys: list[str] = []
    for token in piece.split():
        stripped = token.strip(_PUNCT)
        if len(stripped) <= 2 or (handles and token[0] == "@"):
            low = token.lower()
            words.append(token)
            lows.append(low)
            keys.append(low.strip(_PUNCT))
        else:
            low = stripped.lower()
            words.append(stripped)
            lows.append(low)
            keys.append(low)
    return words, lows, keys


def _some_caps(words: list[str]) -> bool:
    """VADER's ``allcap_differential``: some, but not all, words are in capitals."""
    return any(map(str.isupper, words)) and not all(map(str.isupper, words))


def _key(token: str) -> str:
    """How rules match a word: lower case, ASCII punctuation at its ends stripped."""
    return token.lower().strip(_PUNCT)


@dataclass(frozen=True)
class CareRules:
    """Words, phrases, emoji and patterns a care team reads differently from plain VADER."""

    terms: Mapping[str, float] = field(default_factory=dict)
    #: phrase (its words) → valence
    phrases: Mapping[tuple[str, ...], float] = field(default_factory=dict)
    emoji: Mapping[str, float] = field(default_factory=dict)
    hashtag_parts: tuple[str, ...] = ()
    hashtag_valence: float = -2.0
    irony_openers: frozenset[str] = frozenset()
    irony_followers: frozenset[str] = frozenset()
    irony_valence: float = -1.6
    #: a post that ends in "#not" or "#sarcasm" means the opposite of its praise
    irony_markers: frozenset[str] = frozenset()
    #: "like" is praise only after one of these ("I like it"); elsewhere it compares ("it
    #: looks like", "a simple thing like syncing", "like 5 times")
    like_after: frozenset[str] = frozenset()
    politeness: frozenset[str] = frozenset()
    complaint_at: float = -1.5
    #: in a post that asks something (a "?", "please", "dm"…) these manners are no praise
    request_manners: frozenset[str] = frozenset()
    request_markers: frozenset[str] = frozenset()
    #: complaints in plain words: a negation with no feeling word after it ("never knocked"),
    #: time waited ("for 2 days", "45 minutes waiting"), a "why" question
    negators: frozenset[str] = frozenset()
    negation_exceptions: frozenset[str] = frozenset()
    time_units: frozenset[str] = frozenset()
    waited_before: frozenset[str] = frozenset()
    waited_after: frozenset[str] = frozenset()
    why_followers: frozenset[str] = frozenset()
    #: a plain-word complaint is a mild one: it says something went wrong, not how badly
    cue_valences: Mapping[str, float] = field(default_factory=dict)
    #: half-width of the neutral class around 0
    neutral_band: float = 0.05

    @classmethod
    def load(cls, path: Path) -> CareRules:
        """The rules of a TOML file shaped like ``config/sentiment/care.toml``."""
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        terms: dict[str, float] = {}
        phrases: dict[tuple[str, ...], float] = {}
        for table in ("terms", "phrases"):
            for text, valence in data.get(table, {}).items():
                _add(terms, phrases, text, float(valence))
        tags = data.get("hashtags", {})
        irony = data.get("sarcasm", {})
        openers = [o for o in irony.get("openers", []) if " " not in o]
        cues = data.get("cues", {})
        return cls(
            terms=terms,
            phrases=phrases,
            emoji={k.replace("\ufe0f", ""): float(v) for k, v in data.get("emoji", {}).items()},
            hashtag_parts=tuple(p.lower() for p in tags.get("negative_parts", [])),
            hashtag_valence=float(tags.get("valence", -2.0)),
            irony_openers=frozenset(openers),
            irony_followers=frozenset(irony.get("followers", [])),
            irony_valence=float(irony.get("valence", -1.6)),
            irony_markers=frozenset(m.lower() for m in irony.get("markers", [])),
            like_after=frozenset(data.get("like", {}).get("after", [])),
            politeness=frozenset(irony.get("politeness", [])),
            request_manners=frozenset(data.get("requests", {}).get("manners", [])),
            request_markers=frozenset(data.get("requests", {}).get("markers", [])),
            complaint_at=float(irony.get("complaint_at", -1.5)),
            negators=frozenset(cues.get("negators", [])),
            negation_exceptions=frozenset(cues.get("negation_exceptions", [])),
            time_units=frozenset(cues.get("time_units", [])),
            waited_before=frozenset(cues.get("waited_before", [])),
            waited_after=frozenset(cues.get("waited_after", [])),
            why_followers=frozenset(cues.get("why_followers", [])),
            cue_valences={
                _UNMET: float(cues.get("unmet", -0.8)),
                _WAITED: float(cues.get("waited", -1.0)),
                _WHY: float(cues.get("why", -1.0)),
            },
            neutral_band=float(data.get("tuning", {}).get("neutral_band", 0.05)),
        )

    def with_brand(self, weights: Mapping[str, float]) -> CareRules:
        """These rules plus a brand's own terms and phrases (they win over shipped ones)."""
        terms, phrases = dict(self.terms), dict(self.phrases)
        for text, valence in weights.items():
            _add(terms, phrases, text, valence)
        return dataclasses.replace(self, terms=terms, phrases=phrases)


def _add(
    terms: dict[str, float], phrases: dict[tuple[str, ...], float], text: str, valence: float
) -> None:
    words = tuple(k for k in (_key(w) for w in text.split()) if k)
    if len(words) == 1:
        terms[words[0]] = valence
    elif words:
        phrases[words] = valence


def care_rules_path() -> Path:
    from app.resources import data_dir

    return data_dir("config") / "sentiment" / "care.toml"


class CareScorer:
    """VADER read piece by piece (linear time, bounded per post), with optional care rules.

    Its scores are calibrated so that the one class boundary every view uses (±0.05, as
    :func:`app.model.sentiment_label`, the feed's ▲ ▼ marks and the rollups) falls where the
    rules' ``neutral_band`` puts it: a monotone, piecewise-linear map of VADER's compound
    that squeezes ``[0, band]`` onto ``[0, 0.05]`` and stretches the rest onto ``[0.05, 1]``
    (the order of scores, and so every ranking, is unchanged).
    """

    def __init__(self, rules: CareRules | None = None, model: CareModel | None = None) -> None:
        from vaderSentiment import vaderSentiment as vs

        #: the care classifier that names the class from the rules' reading and the words
        self.model = model

        self._vader = vs.SentimentIntensityAnalyzer()
        self._normalize = vs.normalize
        self._boosters = frozenset(vs.BOOSTER_DICT)
        #: what VADER counts as a negation, "no" among them
        self._negations = frozenset(["no", *vs.NEGATE])
        # every word that makes VADER's rules change a lexicon word's valence: a word with
        # none of them around takes its lexicon valence as it is ("or", "nor" and "doubt"
        # count only beside "no" or "without", which are modifiers themselves)
        self._modifiers = frozenset(
            {key for key in vs.BOOSTER_DICT if " " not in key}
            | set(vs.NEGATE)
            | {"no", "least", "never", "without", "so", "this"}
        )
        # VADER's idioms ("the shit", "kind of"): their words ("the", "of") modify a lexicon
        # word only where the whole idiom is in the piece
        self._idioms = tuple(
            (key, frozenset(key.split()))
            for key in (*vs.SPECIAL_CASES, *vs.BOOSTER_DICT)
            if " " in key
        )
        self._idiom_words = frozenset().union(*(words for _, words in self._idioms))
        self._any_idiom = re.compile("|".join(re.escape(key) for key, _ in self._idioms))
        self.rules = rules
        self.neutral_band = rules.neutral_band if rules is not None else 0.05
        lexicon = self._vader.lexicon  # this instance's own dict: extending it touches no other
        table: dict[int, str] = {cp: " " for cp in _EMOJI_MODIFIERS}
        table[0x2019] = "'"  # "didn’t" as phones type it is VADER's "didn't"
        for char, description in self._vader.emojis.items():
            if len(char) == 1:
                table[ord(char)] = f" {description} "
        self._phrase_index: dict[str, list[tuple[tuple[str, ...], str]]] = {}
        self._triggers: frozenset[str] = frozenset()
        self._cue_triggers: frozenset[str] = frozenset()
        if rules is not None:
            lexicon.update(rules.terms)
            # a word with a care valence is scored, even where VADER only lets it boost
            # another ("incredible" photos)
            self._boosters = self._boosters - frozenset(rules.terms)
            for char, valence in rules.emoji.items():
                if len(char) == 1:
                    table[ord(char)] = f" {char} "
                    lexicon[char] = valence
            for words, valence in rules.phrases.items():
                joined = " ".join(words)
                lexicon[joined] = valence
                self._phrase_index.setdefault(words[0], []).append((words, joined))
            for options in self._phrase_index.values():
                options.sort(key=lambda o: -len(o[0]))
            # a phrase can stand in a piece only where its longest word does (the rarest, as a
            # rule): common first words ("and", "for", "is") send few pieces down the slow road
            self._triggers = (
                frozenset(max(words, key=len) for words in rules.phrases) | rules.irony_openers
            )
            self._cue_triggers = rules.negators | rules.time_units | {"why"}
            lexicon[_IRONY] = rules.irony_valence
            lexicon[_HASHTAG] = rules.hashtag_valence
            lexicon.update(rules.cue_valences)
        self._emoji_table = table

    @property
    def vocabulary(self) -> frozenset[str]:
        """The single words this scorer has a valence for (English)."""
        return frozenset(k for k in self._vader.lexicon if k.isalpha())

    # -- the interface ---------------------------------------------------------------------

    def score(self, text: str) -> float:
        return self._final(text)[0]

    def score_many(self, texts: Sequence[str]) -> list[float]:
        final = self._final
        return [final(t)[0] for t in texts]

    def read_rules(self, text: str) -> tuple[float, list[str], list[float]]:
        """The rules' own reading, before any model: (score, tokens shown, their valences)."""
        score, tokens, sentiments, _, _ = self._read(text)
        return score, tokens, sentiments

    def _final(
        self, text: str, explain: bool = False
    ) -> tuple[float, list[str], list[float], int, list[str]]:
        """The rules' reading with the model's class applied, when there is a model."""
        read = self._read(text)
        model = self.model
        if model is None:
            return read
        score, tokens, sentiments, scored, notes = read
        rules = self.rules
        if abs(score) >= RULES_SURE or (
            rules is not None and score <= -_CUT and min(sentiments) <= rules.complaint_at
        ):
            return read  # the rules are sure: clear praise, or a word of complaint, stays theirs
        head = text[:scored]
        reading = model.read(dense_features(score, sentiments, tokens, head), head, explain)
        if reading.label == sentiment_label(score) or max(reading.probabilities) < MODEL_SURE:
            return read  # they agree, or the model is unsure: the rules' class and score stand
        final = place(reading, score)
        if explain:
            said = ", ".join(f"“{w}”" for w, _ in reading.words[:3])
            notes.append(
                f"read as {reading.label} ({max(reading.probabilities):.0%})"
                + (f" from the words {said}" if said else "")
                + f"; the rules alone: {sentiment_label(score)}"
            )
        return final, tokens, sentiments, scored, notes

    def label(self, score: float) -> str:
        return sentiment_label(score)

    def _calibrated(self, compound: float) -> float:
        band = self.neutral_band
        size = abs(compound)
        if band == _CUT or size == 0.0:
            return compound
        inside = size * _CUT / band  # the neutral band, squeezed
        outside = _CUT + (size - band) * (1 - _CUT) / (1 - band)
        return math.copysign(min(inside if size < band else outside, 1.0), compound)

    def explain(self, text: str) -> Explanation:
        """The score with the words and phrases that drove it, strongest first."""
        score, tokens, sentiments, scored, notes = self._final(text, explain=True)
        drivers = [Driver(t, round(s, 3)) for t, s in zip(tokens, sentiments, strict=True) if s]
        drivers.sort(key=lambda d: -abs(d.weight))
        if len(text) > scored:
            notes.append(f"read the first {scored:,} of {len(text):,} characters")
        return Explanation(score, self.label(score), drivers, scored, notes)

    # -- reading ---------------------------------------------------------------------------

    def _pieces(self, text: str) -> Iterable[str]:
        """A short post whole (as VADER reads it); a longer one sentence by sentence."""
        if len(text) < PIECE_WORDS * 4 and text.count(" ") < PIECE_WORDS:
            if (
                self.rules is None
                or _NEGATION_HINT.search(text) is None
                or _SENTENCE_END.search(text) is None
            ):
                yield text
                return
            # with the care rules a negation ends with its sentence: "I did not. Unacceptable."
            for sentence in _SENTENCE_END.split(text):
                if sentence.strip():
                    yield sentence
            return
        for sentence in _SENTENCE_END.split(text):
            words = sentence.split()
            if len(words) <= PIECE_WORDS:
                if words:
                    yield sentence
                continue
            for i in range(0, len(words), PIECE_WORDS):
                yield " ".join(words[i : i + PIECE_WORDS])

    def _read(self, text: str) -> tuple[float, list[str], list[float], int, list[str]]:
        """(score, tokens, their valences, characters read, notes on the rules that applied)."""
        head = text[:MAX_SCORED_CHARS]
        if not head.isascii():
            head = head.translate(self._emoji_table)
        vader = self._vader
        lexicon = vader.lexicon
        boosters = self._boosters
        rules = self.rules
        emoji = rules.emoji if rules is not None else {}
        like_after = rules.like_after if rules is not None else frozenset()
        tokens: list[str] = []
        token_keys: list[str] = []  # each token as rules match it
        sentiments: list[float] = []
        notes: list[str] = []
        modifiers = self._modifiers
        cued = False
        for piece in self._pieces(head):
            read, lows, keys = _vader_words(piece, handles=rules is not None)
            words = shown = read
            caps = _some_caps(words)
            if rules is not None:
                words, shown = self._apply_rules(piece, words, keys, rules, notes)
                if words is not read:
                    cued = cued or not _CUE_SET.isdisjoint(words)
                    lows = [w.lower() for w in words]
                    keys = [_key(t) for t in shown]
            # where a modifier stands (VADER's rules read three words back and two ahead)
            idioms = self._idioms_in(lows)
            shaping = modifiers | idioms if idioms else modifiers
            shaped = [w in shaping or "n't" in w for w in lows]
            window = _Window(caps)
            valences: list[float] = []
            for i, item in enumerate(words):
                low = lows[i]
                if low in boosters or (
                    low == "kind" and i < len(words) - 1 and lows[i + 1] == "of"
                ):
                    valences.append(0.0)
                    continue
                if low not in lexicon or (
                    low == "like" and like_after and (i == 0 or lows[i - 1] not in like_after)
                ):
                    valences.append(0.0)  # what VADER's own loop appends for an unknown word
                    continue
                if item in emoji:  # a face means what it shows: "never answered 😡" is no praise
                    valences.append(emoji[item])
                    continue
                lo = i - 3 if i > 3 else 0
                if not (caps and item.isupper()) and not any(shaped[lo : i + 3]):
                    valences.append(lexicon[low])  # nothing around changes it
                    continue
                # VADER copies the whole list for each look around a word: hand it just the
                # words it looks at, and the cost per word stays constant
                around = words[lo : i + 3]
                if rules is not None:
                    around = self._one_word_per_negation(around, lows, lo, i)
                window.words_and_emoticons = around
                valences.append(vader.sentiment_valence(0, window, item, i - lo, [])[0])
            if "but" in lows:
                valences = vader._but_check(words, valences)
            tokens += shown
            token_keys += keys
            sentiments += valences
        if rules is not None and sentiments:
            self._mute_politeness(tokens, token_keys, sentiments, rules, notes, cued, head)
            if rules.irony_markers and max(sentiments) > 0:
                # said at the end, as an afterthought: "… works so well! #not"
                said = {w.strip(".,!?;:") for w in head.lower().split()[-3:]}
                marker = min(rules.irony_markers & said, default=None)
                if marker is not None:
                    sentiments[:] = [-v / 2 if v > 0 else v for v in sentiments]
                    notes.append(f"irony: “{marker}” turns its praise around")
        score = self._compound(sentiments, head)
        if math.isnan(score):
            score = 0.0
        return self._calibrated(score), tokens, sentiments, len(head), notes

    def _one_word_per_negation(
        self, around: list[str], lows: list[str], lo: int, i: int
    ) -> list[str]:
        """The words around word ``i`` with each negation that an earlier word took hidden.

        VADER turns every feeling word up to three after a negation: "still not fixed,
        useless" read "useless" as praise, "doesn't solve my problem" read "problem" as
        one. A negation turns the first feeling word after it, as a reader hears it.
        """
        lexicon = self._vader.lexicon
        negations = self._negations
        hidden: list[str] | None = None
        for j in range(lo, i):
            low = lows[j]
            if low not in negations and "n't" not in low:
                continue
            if any(lexicon.get(lows[k]) and lows[k] not in negations for k in range(j + 1, i)):
                if hidden is None:
                    hidden = list(around)
                hidden[j - lo] = "_"
        return around if hidden is None else hidden

    def _idioms_in(self, lows: list[str]) -> frozenset[str]:
        """The words of VADER's idioms that stand whole in a piece (its words, lower case)."""
        if self._idiom_words.isdisjoint(lows):
            return frozenset()
        joined = " ".join(lows)  # a merged phrase may hold an idiom's words: look at the text
        if self._any_idiom.search(joined) is None:
            return frozenset()
        return frozenset().union(*(words for key, words in self._idioms if key in joined))

    def _compound(self, sentiments: list[float], text: str) -> float:
        """VADER's compound score of these valences (``score_valence``, without the rest)."""
        total = float(sum(sentiments))
        if total > 0:
            total += self._vader._punctuation_emphasis(text)
        elif total < 0:
            total -= self._vader._punctuation_emphasis(text)
        else:
            return 0.0
        return round(float(self._normalize(total)), 4)

    def _apply_rules(
        self, piece: str, words: list[str], keys: list[str], rules: CareRules, notes: list[str]
    ) -> tuple[list[str], list[str]]:
        """Phrases merged into one token, ironic praise and hashtags against us marked.

        Returns the tokens VADER reads and, beside each, what an explanation shows: ``words``
        itself when no rule applies.
        """
        marked = "#" in piece or not self._triggers.isdisjoint(keys)
        cues: dict[int, str] = (
            {} if self._cue_triggers.isdisjoint(keys) else self._cues(keys, rules)
        )
        out: list[str]
        shown: list[str]
        if not marked:
            if not cues:
                return words, words  # the common case: nothing here for a rule
            out, shown = list(words), list(words)
            for at, token in cues.items():
                out[at] = token
                shown[at] = f"{words[at]} ({_CUE_NOTES[token]})"
            return out, shown
        raw = piece.split()  # VADER's words are these with their end punctuation cut: "#" too
        out, shown = [], []
        index = self._phrase_index
        i, n = 0, len(words)
        while i < n:
            key = keys[i]
            options = index.get(key)
            if options:
                for phrase, joined in options:
                    end = i + len(phrase)
                    if end <= n and tuple(keys[i:end]) == phrase:
                        upper = all(w.isupper() for w in words[i:end])
                        out.append(joined.upper() if upper else joined)
                        shown.append(" ".join(words[i:end]))
                        i = end
                        break
                else:
                    options = None
                if options:
                    continue
            word = words[i]
            said = cues.get(i)
            if said is not None:
                out.append(said)
                shown.append(f"{word} ({_CUE_NOTES[said]})")
            elif (
                key in rules.irony_openers
                and i + 1 < n
                and keys[i + 1] in rules.irony_followers
                and (
                    any(j > i + 1 for j in cues)
                    or any(
                        self._vader.lexicon.get(k, 0.0) <= rules.complaint_at for k in keys[i + 2 :]
                    )
                )
            ):
                out.append(_IRONY)
                shown.append(f"{word} (ironic)")
                notes.append(f"irony: “{word} {words[i + 1]}”")
            elif raw[i].startswith("#") and (
                any(p in key for p in rules.hashtag_parts) or self._tag_against(key, rules)
            ):
                out.append(_HASHTAG)
                shown.append(raw[i])
            else:
                out.append(word)
                shown.append(word)
            i += 1
        return out, shown

    def _tag_against(self, tag: str, rules: CareRules) -> bool:
        """A hashtag made of a complaint word and more: #unitedsucks, #worstservice."""
        lexicon = self._vader.lexicon
        for size in range(5, len(tag) - 1):
            for part in (tag[:size], tag[-size:]):
                if lexicon.get(part, 0.0) <= rules.complaint_at:
                    return True
        return False

    def _cues(self, keys: list[str], rules: CareRules) -> dict[int, str]:
        """Where a complaint is said in plain words, by the position of the word that says it.

        * a negation with no word of feeling in the three after it (VADER's negation has
          nothing to turn): "the driver never knocked", "didn't work", "nobody told me";
        * time waited: a count and a unit after "for", "been", "over"… or before "waiting",
          "later"…: "for 2 days", "45 minutes waiting", "for hours";
        * a "why" question: "why is my flight…", "why does the screen…".
        """
        lexicon = self._vader.lexicon
        index = self._phrase_index
        found: dict[int, str] = {}
        n = len(keys)
        for i, key in enumerate(keys):
            if key in rules.negators:
                after = keys[i + 1 : i + 4]
                if (
                    after
                    and after[0] not in rules.negation_exceptions
                    and not any(lexicon.get(k) for k in after)
                    and not any(
                        tuple(keys[j : j + len(phrase)]) == phrase
                        for j in range(i + 1, min(i + 4, n))
                        for phrase, _ in index.get(keys[j], ())
                    )
                ):
                    found[i] = _UNMET
            elif key in rules.time_units and i > 0:
                before = keys[i - 1]
                ahead = keys[i + 1] if i + 1 < n else ""
                if _is_count(before):
                    if (
                        i > 1 and keys[i - 2] in rules.waited_before
                    ) or ahead in rules.waited_after:
                        found[i] = _WAITED
                elif before in rules.waited_before and key.endswith("s"):
                    found[i] = _WAITED  # "for hours", "over weeks"
            elif key == "why" and i + 1 < n and keys[i + 1] in rules.why_followers:
                found[i] = _WHY
        return found

    def _mute_politeness(
        self,
        tokens: list[str],
        keys: list[str],
        sentiments: list[float],
        rules: CareRules,
        notes: list[str],
        cued: bool = False,
        text: str = "",
    ) -> None:
        """In a complaint, "thanks", "please" and "help" are manners, not praise; in a post
        that asks for something, "thanks", "please", "hope" and "yes" are manners too."""
        if max(sentiments) <= 0:
            return  # nothing that reads as praise: nothing to mute
        complaint = cued or min(sentiments) <= rules.complaint_at
        if complaint:
            polite, said = rules.politeness, "politeness in a complaint counts as none: "
        elif rules.request_manners:
            if "?" not in text and rules.request_markers.isdisjoint(keys):
                return
            polite, said = rules.request_manners, "manners in a request count as none: "
        else:
            return
        if not any(v > 0 and k in polite for k, v in zip(keys, sentiments, strict=True)):
            return  # the praise here is no manners: nothing to mute
        lexicon = self._vader.lexicon
        muted = []
        for i, (token, valence) in enumerate(zip(tokens, sentiments, strict=True)):
            # "thanks for sorting it", "thank you for rebooking me": thanks for a thing done,
            # even where the post names the trouble it put right ("thanks for losing it" is not)
            done = keys[i + 2 : i + 3] if keys[i + 1 : i + 2] == ["for"] else keys[i + 3 : i + 4]
            if (
                keys[i] in ("thanks", "thank")
                and "for" in keys[i + 1 : i + 3]
                and done
                and done[0].endswith("ing")
                and lexicon.get(done[0], 0.0) >= 0
            ):
                continue
            if valence > 0 and keys[i] in polite:
                sentiments[i] = 0.0
                muted.append(token)
        if muted:
            notes.append(said + ", ".join(muted))


def brand_weights(negative: Iterable[str], positive: Iterable[str],
                  terms: Mapping[str, float], strength: float = 2.0) -> dict[str, float]:  # fmt: skip
    """A brand's ``[sentiment]`` lists and weighted terms as one term → valence map."""
    weights = {t: -strength for t in negative}
    weights.update({t: strength for t in positive})
    weights.update(terms)
    return weights
