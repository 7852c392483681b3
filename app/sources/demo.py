"""The built-in demo source: a seeded simulator of a believable brand conversation.

It goes through the same poller and pipeline as every real network. Volume follows a
daily rhythm; praise, complaints, questions to the brand, competitor news and industry
chatter mix in fixed proportions; and at fixed clock positions a crisis breaks out (a
burst of angry posts about overheating batteries) so the wall's alerts have something
to explain. The demo brand is Lumio (phones); its competitors are Orbitel and Nexa.
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

_FIRST = ["ana", "maria", "li", "wei", "sam", "noor", "jonas", "fatima", "kenji", "olga", "raj", "tomas", "chloe", "mateo", "aisha", "ben", "lea", "omar", "sofia", "yuki", "ivan", "nina", "hugo", "zara", "leo", "mia", "elif", "dev", "kai", "ines"]
_LAST = ["k", "_b", ".dev", "88", "_x", "photo", "runs", "writes", "tech", "_", "19", "_uk", "_fr", "_es", "2024", "_art"]
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
    # (weight, category, templates)
    (18, "praise", [
        "Loving the {good} on {product}, best phone I have owned {eg}",
        "The {good} on the {model} is honestly amazing. Great job @lumio {eg}",
        "Switched from Orbitel to Lumio last month and the {good} alone made it worth it {eg}",
        "Three weeks with {product}: the {good} is superb. #LumioX",
        "Shoutout to @lumio support, fixed my {part} problem in ten minutes! {eg}",
        "Mi Lumio X llegó hoy, ¡me encanta la cámara! 😍",
        "J'adore mon Lumio Air, la batterie tient deux jours 👏",
    ]),
    (14, "complaint", [
        "My {model} {issue}. Really disappointed @lumio {eb}",
        "Worst experience ever with Lumio: my phone {issue} {eb}",
        "@lumio my phone {issue} and nobody answers. Terrible service {eb}",
        "Never buying Lumio again, my {model} {issue} {eb}",
        "Lumio's {bad} is a joke. Third replacement phone and it still {issue}",
        "لا أستطيع شحن هاتف Lumio منذ التحديث 😡",
        "Mein Lumio X {issue_de} – echt enttäuschend @lumio",
    ]),
    (10, "question", [
        "@lumio does {product} support wireless charging?",
        "@lumio when is the next update coming for {product}?",
        "Hey @lumio, my order has not arrived yet, can you help?",
        "@lumio is there a trade-in offer for my old Orbitel phone?",
        "Anyone know if Lumio replaces a broken {part} under warranty? @lumio",
    ]),
    (12, "chatter", [
        "Picked up {product} today, let's see how it goes",
        "Lumio event starts at 7pm tonight #LumioX",
        "Comparing {product} with the Nexa One for my mum, thoughts?",
        "Lumio store downtown was busy this morning",
        "Watching a Lumio X review, the {good} test looks interesting",
    ]),
    (9, "campaign", [
        "Unboxing the #LumioX 🎉 that {good} though {eg}",
        "Entered the #LumioX photo challenge with my night shots 📸",
        "#LumioX launch stream is on, the {good} demo was great {eg}",
    ]),
    (13, "orbitel", [
        "Orbitel just cut prices on the Orbitel 12, tempting",
        "My Orbitel {issue} again. Might switch to Lumio {eb}",
        "Orbitel's new {good} is impressive, not going to lie {eg}",
        "@orbitel your support kept me on hold for an hour {eb}",
        "Orbitel announces 5G plans for rural areas",
    ]),
    (11, "nexa", [
        "Nexa One review: solid {good}, average battery",
        "Nexa's foldable is finally shipping #NexaFold",
        "Love my Nexa, the {good} is fantastic {eg}",
        "Nexa update bricked my phone?? {eb}",
    ]),
    (8, "industry", [
        "Smartphone shipments up 4% this quarter according to analysts",
        "5G coverage report: which carriers deliver in 2026",
        "Foldables are now 3% of the smartphone market",
        "Battery tech is the next smartphone battleground, say analysts",
        "スマートフォンの新しいカメラ技術がすごい",
    ]),
]  # fmt: skip
_ISSUE_DE = ["stürzt ständig ab", "lädt nicht mehr", "wird sehr heiß"]

_CRISIS = [
    "My Lumio X is overheating while charging, this is dangerous @lumio {eb}",
    "Lumio battery got so hot it burned my hand. #LumioRecall now! {eb}",
    "@lumio are you going to recall the Lumio X? Mine is overheating {eb}",
    "Third report today of a Lumio X battery overheating. Scary stuff",
    "Returned my Lumio X, the battery swelled and the screen popped #LumioRecall",
    "Is it safe to charge the Lumio X overnight? Hearing about overheating batteries @lumio",
    "Lumio stays silent while phones are overheating. Shameful {eb} #LumioRecall",
]

_CATEGORY_WEIGHTS = [w for w, _, _ in _TEMPLATES]


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


class DemoSource(Source):
    type = "demo"
    config: DemoSourceConfig

    def __init__(self, config: DemoSourceConfig, context: SourceContext) -> None:
        super().__init__(config, context)
        self.rhythm = config.rhythm

    def crisis_active(self, ts: float) -> bool:
        every = self.config.crisis_every_min
        if not every:
            return False
        minute = ts / 60
        return (minute % every) < self.config.crisis_length_min

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
        peak = self.config.rate_per_minute / 60 * 3  # upper bound incl. rhythm and crises
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
        """Mentions created in (start, end], deterministic for a seed and counter."""
        rng = random.Random(f"{seed}:{counter}:{start:.3f}")
        mid = (start + end) / 2
        span = end - start
        n = _poisson(rng, self.rate_per_s(mid) * span)
        crisis = 0
        if self.crisis_active(mid):
            crisis = _poisson(rng, self.config.rate_per_minute / 60 * 1.5 * span)
        stamps = sorted(rng.uniform(start, end) for _ in range(n + crisis))
        kinds = [True] * crisis + [False] * n
        rng.shuffle(kinds)
        out = []
        for i, (ts, is_crisis) in enumerate(zip(stamps, kinds, strict=True)):
            out.append(self._post(rng, seed, counter + i, ts, is_crisis))
        return out

    def _post(self, rng: random.Random, seed: int, n: int, ts: float, crisis: bool) -> Mention:
        if crisis:
            category, template = "crisis", rng.choice(_CRISIS)
        else:
            _, category, templates = rng.choices(_TEMPLATES, weights=_CATEGORY_WEIGHTS)[0]
            template = rng.choice(templates)
        text = template.format(
            product=rng.choice(_PRODUCT), good=rng.choice(_GOOD), bad=rng.choice(_BAD),
            part=rng.choice(_PART), model=rng.choice(_MODEL),
            issue=rng.choice(_ISSUE), issue_de=rng.choice(_ISSUE_DE),
            eg=rng.choice(_EMOJI_GOOD), eb=rng.choice(_EMOJI_BAD),
        ).strip()  # fmt: skip
        if category == "industry" or (category in {"orbitel", "nexa"} and rng.random() < 0.3):
            author = rng.choice(_MEDIA)
            followers = rng.randint(40_000, 900_000)
        else:
            author = f"@{rng.choice(_FIRST)}{rng.choice(_LAST)}"
            followers = int(rng.lognormvariate(5.5, 1.6))
            if rng.random() < 0.01:
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

    async def reply(
        self, client: httpx.AsyncClient, reply_ref: dict[str, Any], text: str, idempotency_key: str
    ) -> ReplyResult:
        """The demo network accepts every reply (so the console's workflow can be tried)."""
        return ReplyResult(native_id=f"reply-{idempotency_key}")

    def reply_limit(self) -> int | None:
        return 500
