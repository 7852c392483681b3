"""Everyday posts about different things that share a detail or two ("in green", "reading
the forums after work") stay in stories of one thing each: a story is held to the post it
began with, so likeness passed from member to member does not chain them into one."""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from pathlib import Path

from app.config import Config
from app.store.db import open_reader
from app.store.writer import IngestBatch, StoreWriter
from tests.stories.test_detector import BURNED, groups, mention

#: six different things people say on a calm day, each with its own slots
THINGS: dict[str, list[str]] = {
    "event": ["Lumio event starts at {hour} tonight in {city}, {da} {db}"],
    "colour": ["my {rel} just got the {model} in {colour}, {da} {db}",
               "thinking of getting the {model} in {colour}, {da} {db}"],
    "compare": ["comparing the {model} with the {rival} for my {rel}, {da} {db}"],
    "popup": ["Lumio pop-up store opens {next} in {city}, {da} {db}"],
    "picked": ["picked up the {model} {when}, let's see how it goes, {da} {db}"],
    "review": ["watching a {model} review, the {good} test looks interesting, {da} {db}"],
}  # fmt: skip
SLOTS: dict[str, list[str]] = {
    "hour": ["6pm", "7pm", "8pm", "7:30pm"],
    "city": ["Lisbon", "Leeds", "Lyon", "Berlin", "Madrid", "Osaka", "Toronto", "Milan"],
    "rel": ["mum", "dad", "sister", "brother", "partner", "flatmate"],
    "model": ["Lumio X", "Lumio Air", "Lumio X Pro", "Lumio Air 2"],
    "colour": ["blue", "graphite", "white", "green", "rose", "black"],
    "rival": ["Nexa One", "Orbitel 12", "Nexa Fold", "Orbitel 12 Mini"],
    "next": ["next week", "on Friday", "this weekend", "next month", "tomorrow"],
    "when": ["today", "yesterday", "last week", "this morning", "on Saturday"],
    "good": ["camera", "battery life", "screen", "night mode", "zoom", "sound"],
    # a detail of the poster's own, the same pool for every thing: the bridges
    "da": ["checking specs", "asking friends", "reading reviews", "looking at deals",
           "saving up", "waiting for a sale", "watching unboxings", "comparing plans",
           "browsing colours", "reading the forums"],
    "db": ["over coffee", "on the train", "this weekend", "after work", "with my flatmate",
           "at lunch", "all evening", "before payday", "on my break", "in bed"],
}  # fmt: skip


def calm_day(n: int, seed: int = 7) -> list[tuple[str, str]]:
    """``n`` (thing, text) posts, each thing as often as another."""
    rnd = random.Random(seed)
    out = []
    for _ in range(n):
        thing = rnd.choice(sorted(THINGS))
        template = rnd.choice(THINGS[thing])
        text = template.format(**{k: rnd.choice(v) for k, v in SLOTS.items()})
        out.append((thing, text))
    return out


def test_everyday_posts_that_share_details_do_not_chain_into_one_story(
    db_path: Path, demo_config: Config
) -> None:
    posts = calm_day(1200)
    with StoreWriter(db_path, demo_config, maintenance=False) as w:
        for start in range(0, len(posts), 200):
            batch = [mention(start + k, text, seconds=3 * (start + k))
                     for k, (_, text) in enumerate(posts[start : start + 200])]  # fmt: skip
            w.submit(IngestBatch("s", "test", batch, {"n": start})).result(60)
    member = groups(open_reader(db_path))
    things: dict[int, Counter[str]] = defaultdict(Counter)
    for i, (thing, _) in enumerate(posts):
        story = member.get(f"test:{i}")
        if story is not None:
            things[story][thing] += 1
    assert len(things) >= len(THINGS)  # the same thing said again does make stories
    grouped = sum(sum(s.values()) for s in things.values())
    # nearly every grouped post is in a story of its own thing (posts of two things that
    # share more than half their words may meet; a chain would mix them by the hundred)
    told = sum(s.most_common(1)[0][1] for s in things.values())
    assert told >= 0.9 * grouped, {k: dict(v) for k, v in things.items()}
    # and no story is larger than the posts of one thing (a sixth of the day)
    assert max(sum(s.values()) for s in things.values()) <= 0.2 * len(posts)


def test_paraphrases_still_join_among_everyday_posts(db_path: Path, demo_config: Config) -> None:
    posts = [text for _, text in calm_day(300)]
    posts[150:150] = BURNED  # a complaint said seven ways in the middle of the day
    with StoreWriter(db_path, demo_config, maintenance=False) as w:
        batch = [mention(k, text, seconds=3 * k) for k, text in enumerate(posts)]
        w.submit(IngestBatch("s", "test", batch, {"n": 0})).result(60)
    member = groups(open_reader(db_path))
    burned = {member.get(f"test:{150 + k}") for k in range(len(BURNED))}
    assert len(burned) == 1 and None not in burned
    (story,) = burned
    assert sum(1 for s in member.values() if s == story) == len(BURNED)
