"""The built-in demo source: a seeded simulator of a believable brand conversation.

It goes through the same poller and pipeline as every real network. Volume follows a
daily rhythm; praise, complaints, questions to the brand, competitor news and industry
chatter mix in fixed proportions, and, as on the real networks, most posts about the brand
are not addressed to it. The history filled in at start is calm. A few minutes after the
start (``crisis_first_min``) a crisis breaks out: Lumio X batteries overheat, and hundreds
of people say a handful of things in their own words (burned hands, overheating on the
charger, #LumioRecall, "is it safe overnight?", the press, then the free replacement), so
the wall shows a few stories, not one sentence a thousand times. It fades, then people
come back to the brand's answer, and it is calm again until the next one
(``crisis_every_min`` later). The demo brand is Lumio (phones); its competitors are
Orbitel and Nexa.
"""

from __future__ import annotations

import asyncio
import functools
import math
import random
import re
import string
import time
from datetime import UTC, datetime
from typing import Any

import httpx

from app.config import DemoSourceConfig
from app.model import Mention
from app.sources.base import Cursor, FetchResult, ReplyResult, Source, SourceContext

#: the most mentions one fetch returns; a long backfill comes as several pages
PAGE_MAX = 5000

_FIRST = [
    "ana",
    "maria",
    "li",
    "wei",
    "sam",
    "noor",
    "jonas",
    "fatima",
    "kenji",
    "olga",
    "raj",
    "tomas",
    "chloe",
    "mateo",
    "aisha",
    "ben",
    "lea",
    "omar",
    "sofia",
    "yuki",
    "ivan",
    "nina",
    "hugo",
    "zara",
    "leo",
    "mia",
    "elif",
    "dev",
    "kai",
    "ines",
]
_LAST = [
    "k",
    "_b",
    ".dev",
    "88",
    "_x",
    "photo",
    "runs",
    "writes",
    "tech",
    "_",
    "19",
    "_uk",
    "_fr",
    "_es",
    "2024",
    "_art",
]
# The calm conversation: each template is filled slot by slot from the lists below, so
# three hours of history hold thousands of different sentences, as people write them.
# Endings carry the mood: praise ends glad (``{eg}``), complaints end cross (``{eb}``),
# and neither ever borrows the other's face.
SLOTS: dict[str, list[str]] = {
    "product": ["Lumio X", "Lumio Air", "the Lumio X Pro", "my Lumio", "the new Lumio",
                "my new Lumio X", "the Lumio Air 2"],
    "model": ["Lumio X", "Lumio Air", "Lumio X Pro", "Lumio Air 2"],
    "good": ["camera", "battery life", "screen", "night mode", "design", "sound", "price",
             "zoom", "selfie camera", "speakers", "display", "video stabilisation"],
    "bad": ["battery", "update", "charger", "screen", "companion app", "delivery",
            "hotline", "case", "software"],
    "part": ["battery", "charger", "screen", "charging port", "camera", "speaker",
             "SIM tray"],
    "issue": ["keeps crashing since the update", "died after two hours", "won't charge anymore",
              "arrived with a cracked screen", "is stuck on the logo", "drops every call",
              "was charged twice on my card", "lost all my photos",
              "has a dead pixel", "stopped working after a week"],
    "issue_de": ["stürzt ständig ab", "lädt nicht mehr", "wird sehr heiß", "hängt sich auf"],
    "o": ["", "", "", "", "honestly ", "ok so ", "update: ", "wow, ", "right, "],
    "eg": ["", "", "", " 😍", " 🔥", " 👏", " 🙌", "!", "!!", " ❤️", ", love it",
           ", so happy with it", ", highly recommend", " 💯", " 😊"],
    "eb": ["", "", " 😡", " 🤬", " 😤", " 👎", ", not happy", ", fed up", ". ugh",
           " 😠", ", really frustrating", "!!"],
    # a detail of the poster's own, put together from two parts: posts that make the same
    # claim still differ in half their words, so everyday talk does not chain into one story
    "dga": ["my cat photos", "video calls with grandma", "my holiday clips", "the maps on my hike",
            "late-night gaming sessions", "pictures of the night sky", "my kid's football videos",
            "podcasts on the commute", "selfies at the wedding", "recipes I film in the kitchen",
            "shots of the harbour", "zoom calls for work"],
    "dgb": ["look stunning", "are so clear", "work beautifully", "are a joy", "look lovely",
            "run smoothly", "look gorgeous", "feel great", "are brilliant", "look amazing"],
    "dba": ["tried a factory reset", "called the hotline", "waited at the store",
            "reinstalled everything", "cleared the cache", "filed a complaint", "swapped the cable",
            "updated the firmware", "asked in the forum", "booked a repair slot"],
    "dbb": ["twice already", "this morning", "for an hour", "with no luck", "last night",
            "and nothing changed", "three times", "yesterday evening", "and still waiting"],
    "dna": ["checking specs", "asking friends", "reading reviews", "looking at deals",
            "saving up", "waiting for a sale", "watching unboxings", "comparing plans",
            "browsing colours", "reading the forums"],
    "dnb": ["over coffee", "on the train", "this weekend", "after work", "with my flatmate",
            "at lunch", "all evening", "before payday", "on my break", "in bed"],
    "en": ["", "", "", " 🤔", " 👀", " #tech", " #phones", "."],
    "again": ["", "", " again", " for the second time", " this week", " today"],
    "when": ["today", "yesterday", "last week", "last month", "this morning", "on Saturday"],
    "span": ["three weeks", "two months", "a week", "ten days", "half a year", "a month"],
    "fix_time": ["ten minutes", "five minutes", "one call", "a day", "half an hour"],
    "adj": ["brilliant", "so good", "fantastic", "excellent", "great", "superb"],
    "rel": ["mum", "dad", "sister", "brother", "partner", "flatmate", "grandad", "kid"],
    "rival": ["Orbitel", "Nexa"],
    "rival_model": ["Nexa One", "Orbitel 12", "Nexa Fold", "Orbitel 12 Mini", "Nexa One Lite"],
    "city": ["Lisbon", "Leeds", "Lyon", "Berlin", "Madrid", "Osaka", "Toronto", "Milan",
             "Dublin", "Porto", "Austin", "Seoul"],
    "place": ["downtown", "at the mall", "near the station", "on the high street",
              "at the airport"],
    "daypart": ["this morning", "tonight", "at lunch", "all afternoon", "today"],
    "hour": ["6pm", "7pm", "8pm", "7:30pm", "9pm"],
    "next": ["next week", "on Friday", "this weekend", "next month", "tomorrow"],
    "colour": ["blue", "graphite", "white", "green", "rose", "black"],
    "shot": ["night", "street", "food", "portrait", "sunset", "dog", "skyline", "beach"],
    "feature": ["wireless charging", "eSIM", "dual SIM", "fast charging", "4K video",
                "a memory card"],
    "order": ["has not arrived yet", "is still not here", "hasn't arrived",
              "has not shown up yet"],
    "num": ["12", "12 Mini", "12 Pro", "11"],
    "react": ["tempting", "interesting", "hmm", "might switch", "good timing"],
    "dur": ["an hour", "45 minutes", "two hours", "ages"],
    "region": ["rural areas", "small towns", "the north", "commuter lines", "the islands"],
    "src": ["", " (report)", ", full story on our site", " #tech", " 📊", ": what it means for buyers",
            ", link in bio", " (paywall)", " — thread below", " #mobile"],
    "ja": ["カメラがすごい", "バッテリーが長持ち", "画面がきれい", "デザインが好き", "新しいカメラ技術がすごい"],
    "fr": ["la batterie tient deux jours", "l'appareil photo est génial", "l'écran est magnifique",
           "la batterie tient une journée entière", "les photos de nuit sont superbes"],
    "es": ["¡me encanta la cámara!", "¡la batería dura todo el día!", "¡qué pantalla tan bonita!",
           "¡las fotos de noche son increíbles!", "¡me encanta el diseño!"],
    "ef": [" 😍", " 👏", " 🙌", " ❤️", " 🔥"],
    "hoy": ["hoy", "ayer", "esta mañana", "por fin"],
    "pct": ["2", "3", "4", "5", "6", "7", "8", "9", "11", "12"],
    "tech": ["Battery tech", "Camera tech", "On-device AI", "Satellite messaging",
             "Fast charging", "Repairability"],
    "quarter": ["this quarter", "in Q3", "year on year", "in Europe", "in Asia"],
    # the crisis: complaints end cross or plain, the brand's answer ends glad or plain
    "p": ["", "", "!", "!!", ".", " 😡", " 🤬", " 😤", "!! 😡", "...", " 😠"],
    "pg": ["", "", "!", ".", " 👏", " 🙌", "!! 👏", " 👍", ", well done"],
}  # fmt: skip
_MEDIA = ["@techdaily", "@mobileinsider", "@gadgetwire", "@thephonebeat", "@marketpulse"]

_TEMPLATES: list[tuple[float, str, list[str]]] = [
    # (weight, category, templates). Most posts about a brand are not addressed to it: only
    # questions, a few complaints and some thanks name @lumio, as on the real networks.
    (20, "praise", [
        "{o}loving the {good} on {product}, best phone I have owned. {dga} {dgb}{eg}",
        "{o}the {good} on the {model} is honestly amazing. {dga} {dgb}{eg}",
        "switched from {rival} to Lumio {when} and the {good} alone made it worth it. {dga} {dgb}{eg}",
        "{span} with {product}: the {good} is {adj}{eg} #LumioX",
        "shoutout to @lumio support, fixed my {part} in {fix_time}, brilliant service. {dga} {dgb}{eg}",
        "{o}really impressed with the {good} on {product}. {dga} {dgb}{eg}",
        "{o}the {good} on {product} is {adj}. {dga} {dgb}{eg}",
        "my {rel} is loving the {good} on the {model} I got them. {dga} {dgb}{eg}",
        "{shot} shots from {product} in {city} look great. {dga} {dgb}{eg}",
        "{span} in and the {good} on my {model} is still {adj}. {dga} {dgb}{eg}",
        "Mi {model} llegó {hoy}, {es}{ef}",
        "J'adore mon {model}, {fr}{ef}",
    ]),
    (3, "complaint", [
        "{o}my {model} {issue}{again}. a bit disappointed. {dba} {dbb}{eb}",
        "not impressed: my Lumio {issue}{again}. {dba} {dbb}{eb}",
        "Lumio's {bad} could be better, my {model} {issue}. {dba} {dbb}{eb}",
        "@lumio my phone {issue}{again}, what can I do?",
        "{o}my {model} {issue}{again}, really annoying. {dba} {dbb}{eb}",
        "Mein {model} {issue_de} – echt enttäuschend",
    ]),
    (2, "question", [
        "@lumio does {product} support {feature}?",
        "@lumio when is the next update coming for {product}?",
        "hey @lumio, my order {order}, can you help?",
        "@lumio is there a trade-in offer for my old {rival} phone?",
        "@lumio which case fits the {model}?",
    ]),
    (16, "chatter", [
        "picked up {product} {when}, let's see how it goes, {dna} {dnb}{en}",
        "Lumio event starts at {hour} tonight in {city}, {dna} {dnb} #LumioX",
        "comparing {product} with the {rival_model} for my {rel}, {dna} {dnb}{en}",
        "Lumio store {place} was busy {daypart}, {dna} {dnb}{en}",
        "watching a {model} review, the {good} test looks interesting, {dna} {dnb}{en}",
        "Lumio pop-up store opens {next} in {city}, {dna} {dnb}{en}",
        "my {rel} just got the {model} in {colour}, {dna} {dnb}{en}",
        "the {city} Lumio store has the {model} in {colour} now, {dna} {dnb}{en}",
        "{o}thinking of getting the {model} in {colour}, {dna} {dnb}{en}",
    ]),
    (9, "campaign", [
        "{o}unboxing the #LumioX 🎉 that {good} though. {dga} {dgb}{eg}",
        "{o}entered the #LumioX photo challenge with my {shot} shots from {city} 📸",
        "#LumioX launch stream is on, the {good} demo was great. {dga} {dgb}{eg}",
        "my {shot} shot for the #LumioX challenge, taken in {city} 📸",
        "#LumioX photo challenge entries from {city} look amazing. {dga} {dgb}{eg}",
    ]),
    (14, "orbitel", [
        "{o}Orbitel just cut prices on the Orbitel {num} in {city}, {react}{en}",
        "{o}my Orbitel {issue}{again}. so annoying{eb}",
        "Orbitel's new {good} is impressive, not going to lie{eg}",
        "@orbitel your support kept me on hold for {dur} {when}, really annoying{eb}",
        "Orbitel announces 5G plans for {region} around {city}{src}",
        "Orbitel {num} launch in {city} {next}{en}",
    ]),
    (12, "nexa", [
        "{rival_model} review: solid {good}, average battery{src}",
        "{o}Nexa's foldable is finally shipping in {city} {next}, {dna} {dnb} #NexaFold",
        "{o}love my Nexa, the {good} is fantastic. {dga} {dgb}{eg}",
        "{o}Nexa update bricked my phone {when}?? {dba} {dbb}{eb}",
        "Nexa leak shows a new {good} for the next Nexa One, due {next}{src}",
    ]),
    (9, "industry", [
        "Smartphone shipments up {pct}% {quarter} according to analysts{src}",
        "5G coverage report: which carriers deliver in {city} {quarter}{src}",
        "Foldables are now {pct}% of the smartphone market {quarter}{src}",
        "{tech} is the next smartphone battleground, say analysts in {city}{src}",
        "Survey: {pct}% of buyers in {city} pick a phone for its {good}{src}",
        "{model}の{ja}",
    ]),
]  # fmt: skip
_CATEGORY_WEIGHTS = [w for w, _, _ in _TEMPLATES]

# The crisis: each story is a set of phrasings with slots, said more or less as the crisis
# goes on (weight at its start, weight at its end); posts are varied further by case,
# punctuation, emoji, hashtags, handles and the odd typo.
_CRISIS_STORIES: list[tuple[str, float, float, list[str]]] = [
    ("burned", 5, 2, [
        "My {model} got so hot it burned my hand{p}",
        "{model} battery burned my hand while charging{p}",
        "ouch, my {model} literally burned my hand{p}",
        "burned my hand on my {model}, the battery was way too hot{p}",
        "the battery of my {model} burned my hand. this is dangerous{p}",
        "my {model} battery got so hot it burned my hand{p}",
    ]),
    ("overheating", 5, 1, [
        "My {model} is overheating while charging{p}",
        "{model} keeps overheating when I charge it{p}",
        "anyone else's {model} overheating on the charger?",
        "my {model} is overheating again while charging, way too hot{p}",
        "{model} overheating on the charger, it's scary hot{p}",
    ]),
    ("recall", 1, 4, [
        "Recall the {model} now{p} #LumioRecall",
        "recall these phones before someone gets hurt #LumioRecall",
        "#LumioRecall the {model} is not safe, recall it now{p}",
        "Time for Lumio to recall the {model}{p} #LumioRecall",
    ]),
    ("overnight", 1, 2, [
        "is it safe to charge my {model} overnight?",
        "should I stop charging my {model} overnight?",
        "is it safe to charge the {model} overnight after these reports?",
    ]),
    ("press", 0.5, 2, [
        "Reports of {model} batteries overheating pile up, Lumio investigating",
        "Lumio investigating reports of {model} batteries overheating",
        "{model} battery overheating reports: Lumio says it is investigating",
    ]),
    ("replacement", 0, 3, [
        "Lumio will replace the {model} battery for free, good move{pg}",
        "free battery replacement for every {model} from Lumio, finally{pg}",
        "booked my free {model} battery replacement with Lumio{pg}",
    ]),
]  # fmt: skip
_CRISIS_MODEL = ["Lumio X", "Lumio X", "lumio x", "Lumio X Pro", "new Lumio X", "LUMIO X"]
_CRISIS_TAGS = ["", "", "", "", " #LumioRecall", " #LumioRecall", " @techdaily"]
#: how often a crisis post is addressed to the brand's account, by story: people tell each
#: other, and the few who write to the brand mostly ask it something (a real brand's care
#: team sees a few in a hundred of a crisis's posts addressed to it)
_CRISIS_TO_US = {"burned": 0.02, "overheating": 0.02, "recall": 0.05, "overnight": 0.15,
                 "press": 0.0, "replacement": 0.02}  # fmt: skip
# after a crisis, people come back to the brand's answer
_RECOVERY = [
    "{o}got my {model} battery replaced already, thanks Lumio. {dga} {dgb}{eg}",
    "fair play to Lumio for the quick battery replacement{eg}",
    "new battery in my {model}, no more overheating{eg}",
    "{o}thanks to the Lumio store in {city}, my {model} has a new battery, great service{eg}",
    "battery replaced {when}, my {model} is great again{eg}",
]
#: how a viral post comes back: quoted, in the quoter's own words or none
_QUOTES = ["RT {author}: {text}", "RT {author}: {text}", "{text} (via {author})",
           "this 👉 {author}: {text}", "{text} — {author}"]  # fmt: skip
#: the engagement from which a calm post is worth quoting
VIRAL_ENGAGEMENT = 50
#: minutes after a crisis in which people react to the brand's answer
RECOVERY_MIN = 10.0


@functools.cache
def _fields(template: str) -> tuple[str, ...]:
    """The slots a template names, in order (parsed once: the generator fills thousands)."""
    return tuple(f for _, f, _, _ in string.Formatter().parse(template) if f)


def _poisson(rng: random.Random, lam: float) -> int:
    if lam <= 0:
        return 0
    if lam > 50:
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def daily_rhythm(ts: float) -> float:
    """Relative activity by local hour: quiet at night, peaks around lunch and evening."""
    hour = datetime.fromtimestamp(ts).hour + datetime.fromtimestamp(ts).minute / 60
    return (
        0.55
        + 0.35 * math.sin((hour - 9) / 24 * 2 * math.pi)
        + 0.2 * math.sin((hour - 16) / 12 * 2 * math.pi)
    )


def _typo(rng: random.Random, text: str) -> str:
    """One slip of the thumb in a longer word: a letter dropped, doubled or swapped."""
    words = text.split(" ")
    long = [i for i, w in enumerate(words) if len(w) > 5 and w.isalpha()]
    if not long:
        return text
    i = rng.choice(long)
    w = words[i]
    j = rng.randrange(1, len(w) - 2)
    kind = rng.randrange(3)
    if kind == 0:
        w = w[:j] + w[j + 1 :]
    elif kind == 1:
        w = w[:j] + w[j] + w[j:]
    else:
        w = w[:j] + w[j + 1] + w[j] + w[j + 2 :]
    words[i] = w
    return " ".join(words)


_HANDLE = re.compile(r"@lumio\b", re.IGNORECASE)


def _worked_through(post: Mention) -> Mention:
    """A post of the history as it stands after the team's work before this run.

    The history filled in at start is the conversation as it was, and what was said to the
    brand then was answered then: such a post keeps its words (so the history's mix of
    complaint and praise is the live one's: dropping them made the first live minutes
    more negative than the history, a negative surge at minute 3 with no crisis) but no
    longer addresses the brand, so the queue starts with today's work.
    """
    if not post.directed_at_us:
        return post
    post.text = _HANDLE.sub("Lumio", post.text)
    post.directed_at_us = False
    return post


class DemoSource(Source):
    type = "demo"
    config: DemoSourceConfig

    def __init__(
        self, config: DemoSourceConfig, context: SourceContext, *, started: float | None = None
    ) -> None:
        super().__init__(config, context)
        self.rhythm = config.rhythm
        #: when this run began: its history before is calm, its crises come after
        self.started = time.time() if started is None else started
        #: when a dict, the crisis story each generated crisis post tells, by mention id
        #: (the labels ``bench/stories.py`` measures grouping against)
        self.labels: dict[str, str] | None = None

    def crisis_phase(self, ts: float) -> float | None:
        """How far into a crisis ``ts`` is (0 … 1), or ``None`` outside one."""
        every, length = self.config.crisis_every_min, self.config.crisis_length_min
        if not every:
            return None
        minutes = (ts - self.started) / 60 - self.config.crisis_first_min
        if minutes < 0:
            return None
        into = minutes % every
        return into / length if into < length else None

    def crisis_active(self, ts: float) -> bool:
        return self.crisis_phase(ts) is not None

    def recovering(self, ts: float) -> bool:
        """In the minutes after a crisis, when people react to the brand's answer."""
        every, length = self.config.crisis_every_min, self.config.crisis_length_min
        minutes = (ts - self.started) / 60 - self.config.crisis_first_min
        if not every or minutes < 0:
            return False
        return length <= minutes % every < length + RECOVERY_MIN

    def crisis_rate_per_s(self, ts: float) -> float:
        """Crisis posts a second: a rise in the first fifth, a plateau, then a fade."""
        phase = self.crisis_phase(ts)
        if phase is None:
            return 0.0
        shape = min(1.0, phase / 0.2) if phase < 0.6 else 1.0 - (phase - 0.6) / 0.4 * 0.8
        return self.config.rate_per_minute / 60 * 3.0 * shape

    def rate_per_s(self, ts: float) -> float:
        rate = self.config.rate_per_minute / 60
        return rate * daily_rhythm(ts) if self.rhythm else rate

    async def fetch(self, client: httpx.AsyncClient, cursor: Cursor) -> FetchResult:
        now = time.time()
        seed = cursor.get("seed", self.config.seed)
        if seed is None:
            seed = random.SystemRandom().randrange(1 << 30)
        start = float(cursor.get("until", now - self.config.backfill_min * 60))
        # after a long stop, do not replay more than the backfill window
        start = max(start, now - max(self.config.backfill_min, 1) * 60)
        counter = int(cursor.get("n", 0))
        span = max(0.0, now - start)
        peak = self.config.rate_per_minute / 60 * 4  # upper bound incl. rhythm and crises
        more = span * peak > PAGE_MAX
        end = start + PAGE_MAX / peak if more else now
        # simulating thousands of posts is CPU work: keep it off the event loop (the GUI's)
        mentions = await asyncio.to_thread(self.generate, start, end, seed=seed, counter=counter)
        return FetchResult(
            mentions=mentions,
            cursor={"seed": seed, "until": end, "n": counter + len(mentions)},
            more=more,
        )

    def generate(self, start: float, end: float, *, seed: int, counter: int) -> list[Mention]:
        """Mentions created in (start, end], deterministic for a seed, counter and start."""
        rng = random.Random(f"{seed}:{counter}:{start:.3f}")
        out: list[Mention] = []
        viral: list[Mention] = []  # calm posts that took off, which others quote
        # one slice a minute at most, so a crisis's rise and fade show within a long page
        t = start
        while t < end:
            stop = min(end, t + 60.0)
            mid, span = (t + stop) / 2, stop - t
            n = _poisson(rng, self.rate_per_s(mid) * span)
            crisis = _poisson(rng, self.crisis_rate_per_s(mid) * span)
            phase = self.crisis_phase(mid) or 0.0
            recovery = (
                _poisson(rng, self.rate_per_s(mid) * 0.25 * span) if self.recovering(mid) else 0
            )
            kinds = ["crisis"] * crisis + ["recovery"] * recovery + [""] * n
            stamps = sorted(rng.uniform(t, stop) for _ in kinds)
            rng.shuffle(kinds)
            for ts, kind in zip(stamps, kinds, strict=True):
                quote = rng.choice(viral) if viral and not kind and rng.random() < 0.04 else None
                post = self._post(rng, seed, counter + len(out), ts, kind, phase, quote)
                if ts < self.started:
                    post = _worked_through(post)
                if not kind and quote is None and post.engagement >= VIRAL_ENGAGEMENT:
                    viral = [*viral[-19:], post]  # the last twenty that took off
                out.append(post)
            t = stop
        return out

    def _post(self, rng: random.Random, seed: int, n: int, ts: float, kind: str,
              phase: float, quote: Mention | None = None) -> Mention:  # fmt: skip
        story = ""
        if kind == "crisis":
            story, template = self._crisis_template(rng, phase)
            category = "crisis"
            if self.labels is not None:
                self.labels[f"demo:{seed}-{n}"] = story
        elif kind == "recovery":
            category, template = "recovery", rng.choice(_RECOVERY)
        else:
            _, category, templates = rng.choices(_TEMPLATES, weights=_CATEGORY_WEIGHTS)[0]
            template = rng.choice(templates)
        slots = {**SLOTS, "model": _CRISIS_MODEL} if category == "crisis" else SLOTS
        text = template.format(**{f: rng.choice(slots[f]) for f in _fields(template)}).strip()
        if category != "crisis" and rng.random() < 0.8:
            text = text[:1].upper() + text[1:]  # most people start with a capital, not all
        if quote is not None:
            text = rng.choice(_QUOTES).format(author=quote.author, text=quote.text)
        if category == "crisis":
            tag = rng.choice(_CRISIS_TAGS)
            if tag.strip().casefold() not in text.casefold():
                text += tag
            if rng.random() < _CRISIS_TO_US.get(story, 0.0):
                text = f"@lumio {text}" if rng.random() < 0.6 else f"{text} @lumio"
            if rng.random() < 0.15:
                text = _typo(rng, text)
            if rng.random() < 0.1:
                text = text.lower()
        media = quote is None and (
            category == "industry" or (category in {"orbitel", "nexa"} and rng.random() < 0.3)
        )
        if media or (category == "crisis" and "investigating" in text):
            author = rng.choice(_MEDIA)
            followers = rng.randint(40_000, 900_000)
        else:
            author = f"@{rng.choice(_FIRST)}{rng.choice(_LAST)}"
            followers = int(rng.lognormvariate(5.5, 1.6))
            if rng.random() < 0.003:  # a rare well-followed voice
                followers = rng.randint(20_000, 2_000_000)
        native = f"{seed}-{n}"
        return Mention(
            network="demo",
            native_id=native,
            source=self.name,
            text=text,
            created_at=datetime.fromtimestamp(ts, tz=UTC),
            url="",
            author=author,
            author_name=" ".join(author.lstrip("@").replace("_", " ").replace(".", " ").split()).title(),
            author_followers=followers,
            engagement=int(rng.expovariate(1 / (3 + followers / 2000))),
            directed_at_us="@lumio" in text.casefold(),
            reply_ref={"demo_id": native},
        )

    @staticmethod
    def _crisis_template(rng: random.Random, phase: float) -> tuple[str, str]:
        """Which story a crisis post tells at this phase, and in which words."""
        weights = [a + (b - a) * phase for _, a, b, _ in _CRISIS_STORIES]
        story, _, _, phrasings = rng.choices(_CRISIS_STORIES, weights=weights)[0]
        return story, rng.choice(phrasings)

    async def reply(
        self, client: httpx.AsyncClient, reply_ref: dict[str, Any], text: str, idempotency_key: str
    ) -> ReplyResult:
        """The demo network accepts every reply (so the console's workflow can be tried)."""
        return ReplyResult(native_id=f"reply-{idempotency_key}")

    def reply_limit(self) -> int | None:
        return 500
