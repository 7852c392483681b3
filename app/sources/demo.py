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
import math
import random
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
_MEDIA = ["@techdaily", "@mobileinsider", "@gadgetwire", "@thephonebeat", "@marketpulse"]

_PRODUCT = ["Lumio X", "Lumio Air", "the Lumio X Pro", "my Lumio", "the new Lumio"]
_GOOD = ["camera", "battery life", "screen", "night mode", "design", "sound", "price"]
_BAD = ["battery", "update", "charger", "screen", "companion app", "delivery", "hotline"]
_MODEL = ["Lumio X", "Lumio Air", "Lumio X Pro"]
_PART = ["battery", "charger", "screen", "charging port", "camera"]
_ISSUE = [
    "keeps crashing since the update", "died after two hours", "won't charge anymore",
    "arrived with a cracked screen", "is stuck on the logo", "drops every call",
    "was charged twice on my card",
]  # fmt: skip
_EMOJI_GOOD = ["😍", "🔥", "👏", "🙌", "", "", ""]
_EMOJI_BAD = ["😡", "🤬", "😤", "👎", "", ""]

_TEMPLATES: list[tuple[float, str, list[str]]] = [
    # (weight, category, templates). Most posts about a brand are not addressed to it: only
    # questions, a few complaints and some thanks name @lumio, as on the real networks.
    (20, "praise", [
        "Loving the {good} on {product}, best phone I have owned {eg}",
        "The {good} on the {model} is honestly amazing {eg}",
        "Switched from Orbitel to Lumio last month and the {good} alone made it worth it {eg}",
        "Three weeks with {product}: the {good} is superb. #LumioX",
        "Shoutout to @lumio support, fixed my {part} problem in ten minutes! {eg}",
        "Mi Lumio X llegó hoy, ¡me encanta la cámara! 😍",
        "J'adore mon Lumio Air, la batterie tient deux jours 👏",
    ]),
    (3, "complaint", [
        "My {model} {issue}. A bit disappointed {eb}",
        "Not impressed: my Lumio {issue} {eb}",
        "Lumio's {bad} could be better, my {model} {issue}",
        "@lumio my phone {issue}, what can I do?",
        "Mein Lumio X {issue_de} – echt enttäuschend",
    ]),
    (2, "question", [
        "@lumio does {product} support wireless charging?",
        "@lumio when is the next update coming for {product}?",
        "Hey @lumio, my order has not arrived yet, can you help?",
        "@lumio is there a trade-in offer for my old Orbitel phone?",
    ]),
    (16, "chatter", [
        "Picked up {product} today, let's see how it goes",
        "Lumio event starts at 7pm tonight #LumioX",
        "Comparing {product} with the Nexa One for my mum",
        "Lumio store downtown was busy this morning",
        "Watching a Lumio X review, the {good} test looks interesting",
        "Lumio pop-up store opens next week downtown",
    ]),
    (9, "campaign", [
        "Unboxing the #LumioX 🎉 that {good} though {eg}",
        "Entered the #LumioX photo challenge with my night shots 📸",
        "#LumioX launch stream is on, the {good} demo was great {eg}",
    ]),
    (14, "orbitel", [
        "Orbitel just cut prices on the Orbitel 12, tempting",
        "My Orbitel {issue} again {eb}",
        "Orbitel's new {good} is impressive, not going to lie {eg}",
        "@orbitel your support kept me on hold for an hour {eb}",
        "Orbitel announces 5G plans for rural areas",
    ]),
    (12, "nexa", [
        "Nexa One review: solid {good}, average battery",
        "Nexa's foldable is finally shipping #NexaFold",
        "Love my Nexa, the {good} is fantastic {eg}",
        "Nexa update bricked my phone?? {eb}",
    ]),
    (9, "industry", [
        "Smartphone shipments up 4% this quarter according to analysts",
        "5G coverage report: which carriers deliver in 2026",
        "Foldables are now 3% of the smartphone market",
        "Battery tech is the next smartphone battleground, say analysts",
        "スマートフォンの新しいカメラ技術がすごい",
    ]),
]  # fmt: skip
_ISSUE_DE = ["stürzt ständig ab", "lädt nicht mehr", "wird sehr heiß"]
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
        "@lumio recall these phones before someone gets hurt #LumioRecall",
        "#LumioRecall the {model} is not safe, recall it now{p}",
        "Time for Lumio to recall the {model}{p} #LumioRecall",
    ]),
    ("overnight", 1, 2, [
        "@lumio is it safe to charge my {model} overnight?",
        "should I stop charging my {model} overnight? @lumio",
        "is it safe to charge the {model} overnight after these reports?",
    ]),
    ("press", 0.5, 2, [
        "Reports of {model} batteries overheating pile up, Lumio investigating",
        "Lumio investigating reports of {model} batteries overheating",
        "{model} battery overheating reports: Lumio says it is investigating",
    ]),
    ("replacement", 0, 3, [
        "Lumio will replace the {model} battery for free, good move{p}",
        "free battery replacement for every {model} from Lumio, finally{p}",
        "booked my free {model} battery replacement with Lumio{p}",
    ]),
]  # fmt: skip
_CRISIS_MODEL = ["Lumio X", "Lumio X", "lumio x", "Lumio X Pro", "new Lumio X", "LUMIO X"]
_CRISIS_END = ["", "", "!", "!!", ".", " 😡", " 🤬", " 😤", " 🔥", "!! 😡", "..."]
_CRISIS_TAGS = ["", "", "", "", " #LumioRecall", " #LumioRecall", " @techdaily"]
# after a crisis, people come back to the brand's answer
_RECOVERY = [
    "Got my {model} battery replaced already, thanks Lumio {eg}",
    "Fair play to Lumio for the quick battery replacement {eg}",
    "New battery in my {model}, no more overheating {eg}",
]
#: minutes after a crisis in which people react to the brand's answer
RECOVERY_MIN = 10.0


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


def _worked_through(post: Mention) -> bool:
    """A post of the history the team answered before this run: it is not replayed.

    The history filled in at start is the conversation as it was, without the work done
    then (what was said to the brand or asked of it), so the queue starts with today's work.
    """
    text = post.text
    return "@lumio" in text.casefold() or ("?" in text and "lumio" in text.casefold())


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
                post = self._post(rng, seed, counter + len(out), ts, kind, phase)
                if ts < self.started and _worked_through(post):
                    continue
                out.append(post)
            t = stop
        return out

    def _post(self, rng: random.Random, seed: int, n: int, ts: float, kind: str,
              phase: float) -> Mention:  # fmt: skip
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
        model = rng.choice(_CRISIS_MODEL) if category == "crisis" else rng.choice(_MODEL)
        text = template.format(
            product=rng.choice(_PRODUCT), good=rng.choice(_GOOD), bad=rng.choice(_BAD),
            part=rng.choice(_PART), model=model, p=rng.choice(_CRISIS_END),
            issue=rng.choice(_ISSUE), issue_de=rng.choice(_ISSUE_DE),
            eg=rng.choice(_EMOJI_GOOD), eb=rng.choice(_EMOJI_BAD),
        ).strip()  # fmt: skip
        if category == "crisis":
            tag = rng.choice(_CRISIS_TAGS)
            if tag.strip().casefold() not in text.casefold():
                text += tag
            if rng.random() < 0.15:
                text = _typo(rng, text)
            if rng.random() < 0.1:
                text = text.lower()
        media = category == "industry" or (category in {"orbitel", "nexa"} and rng.random() < 0.3)
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
            author_name=author.lstrip("@").replace("_", " ").replace(".", " ").title(),
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
