"""The demo tells a story: a calm history, a crisis a few minutes into the run that shows
as a few stories on the wall, recovery after it, and a queue of today's work only."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from app.analysis.pipeline import Analyzer
from app.config import Config, DemoSourceConfig
from app.sources.base import SourceContext
from app.sources.demo import DemoSource
from app.store.db import open_reader
from app.store.writer import IngestBatch, StoreWriter
from app.stories import queries

START = 1_780_000_000.0  # a fixed start, so every figure below is reproducible


def demo(config: Config) -> DemoSource:
    (source,) = [s for s in config.sources if isinstance(s, DemoSourceConfig)]
    return DemoSource(source, SourceContext(), started=START)


def test_the_crisis_comes_a_few_minutes_into_the_run_then_recovery(demo_config: Config) -> None:
    src = demo(demo_config)
    first = demo_config.sources[0].crisis_first_min  # type: ignore[union-attr]
    length = demo_config.sources[0].crisis_length_min  # type: ignore[union-attr]
    assert 5 <= first <= 10
    assert not src.crisis_active(START - 3600) and not src.crisis_active(START + 60)
    assert not src.crisis_active(START + first * 60 - 1)
    assert src.crisis_active(START + first * 60 + 1)
    assert src.crisis_active(START + (first + length) * 60 - 1)
    assert not src.crisis_active(START + (first + length) * 60 + 1)
    assert src.recovering(START + (first + length + 2) * 60)
    # it rises, holds, and fades
    rates = [src.crisis_rate_per_s(START + (first + length * f) * 60) for f in (0.05, 0.4, 0.95)]
    assert rates[0] < rates[1] and rates[2] < rates[1]


def test_the_history_is_calm_and_holds_no_work_already_done(demo_config: Config) -> None:
    src = demo(demo_config)
    history = src.generate(START - 3 * 3600, START, seed=11, counter=0)
    assert len(history) > 1000
    assert not any("overheat" in m.text.casefold() or "recall" in m.text.casefold()
                   for m in history)  # fmt: skip
    assert not any("@lumio" in m.text.casefold() for m in history)
    Analyzer(demo_config).analyse(history)
    queued = sum(m.needs_response for m in history)
    assert queued / len(history) < 0.12  # most posts about a brand are no work for it
    live = src.generate(START, START + 5 * 60, seed=11, counter=len(history))
    assert any("@lumio" in m.text.casefold() for m in live)  # today's questions do come


@pytest.mark.parametrize("seed", [3, 11])
def test_the_crisis_shows_as_a_few_stories(seed: int, demo_config: Config, db_path: Path) -> None:
    src = demo(demo_config)
    src.labels = {}  # which story each crisis post tells (the calm posts go on meanwhile)
    first = demo_config.sources[0].crisis_first_min  # type: ignore[union-attr]
    length = demo_config.sources[0].crisis_length_min  # type: ignore[union-attr]
    end = START + (first + length) * 60
    posts = src.generate(START - 3600, end, seed=seed, counter=0)
    crisis = set(src.labels)
    assert len(crisis) >= 300  # hundreds of people
    texts = {m.text for m in posts if m.id in crisis}
    assert len(texts) > len(crisis) / 3  # in their own words, not one sentence repeated
    with StoreWriter(db_path, demo_config, maintenance=False) as w:
        for i in range(0, len(posts), 2000):
            w.submit(IngestBatch("demo", "demo", posts[i : i + 2000], {"n": i})).result(60)
    conn = open_reader(db_path)
    top = queries.top_stories(conn, "lumio", length * 60, 6, end)
    members = dict(conn.execute("SELECT mention_id, story_id FROM story_members").fetchall())
    in_top = {m for m, s in members.items() if s in {r.id for r in top[:6]}} & crisis
    assert len(in_top) >= 0.85 * len(crisis)  # six stories tell most of it
    big = [r for r in top if r.count >= 0.05 * len(crisis)]
    assert 3 <= len(big) <= 6  # a few stories, not one and not hundreds
    assert all(r.label in texts for r in big)  # each labelled by a crisis post
    main = set()
    for r in big:  # each tells one or two things of the crisis, with few calm posts in it
        told = Counter(src.labels.get(m, "calm") for m, s in members.items() if s == r.id)
        size = sum(told.values())
        assert told["calm"] <= 0.05 * size, dict(told)
        # two things at most (a complaint in other words; the questions about charging
        # overnight keep apart from the overheating complaints: the test below)
        assert sum(n for _, n in told.most_common(2)) >= 0.9 * size, dict(told)
        main.add(told.most_common(1)[0][0])
    assert {"burned", "recall"} <= main  # the complaints each have their own story


def _questions_apart(seed: int, demo_config: Config, db_path: Path) -> bool:
    """In this run, are the overnight questions one story, and no story both them and
    the overheating complaints?"""
    src = demo(demo_config)
    src.labels = {}
    first = demo_config.sources[0].crisis_first_min  # type: ignore[union-attr]
    length = demo_config.sources[0].crisis_length_min  # type: ignore[union-attr]
    posts = src.generate(START - 3600, START + (first + length) * 60, seed=seed, counter=0)
    with StoreWriter(db_path, demo_config, maintenance=False) as w:
        for i in range(0, len(posts), 2000):
            w.submit(IngestBatch("demo", "demo", posts[i : i + 2000], {"n": i})).result(60)
    members = dict(open_reader(db_path).execute("SELECT mention_id, story_id FROM story_members"))
    told: dict[int, Counter[str]] = {}
    for m, s in members.items():
        told.setdefault(s, Counter())[src.labels.get(m, "calm")] += 1
    questions = [m for m, label in src.labels.items() if label == "overnight"]
    assert len(questions) >= 50
    ((story, n),) = Counter(members.get(m) for m in questions).most_common(1)
    return (story is not None and n >= 0.8 * len(questions)
            and all(min(c["overnight"], c["overheating"]) <= 2 for c in told.values()))  # fmt: skip


def test_the_overnight_questions_are_mostly_a_story_apart_from_the_overheating_complaints(
    demo_config: Config, tmp_path: Path
) -> None:
    # "is it safe to charge my Lumio X overnight?" and "my Lumio X is overheating while
    # charging" share "Lumio X" (every post of the topic says it) and "charg": that is not
    # what either says (before the name rule a story held 155 complaints and 116 questions
    # in every run). Measured over six runs: the rule holds them apart in most, not all
    # (one or two in six still merge them), and the count is printed
    apart = [seed for seed in (3, 5, 7, 9, 11, 13)
             if _questions_apart(seed, demo_config, tmp_path / f"{seed}.db")]  # fmt: skip
    print(f"\novernight questions a story apart in {len(apart)} of 6 runs: seeds {apart}")
    assert len(apart) >= 4


def test_the_history_is_said_in_many_words_and_viral_posts_are_quoted(
    demo_config: Config,
) -> None:
    history = demo(demo_config).generate(START - 3 * 3600, START, seed=11, counter=0)
    texts = [m.text for m in history]
    assert len(set(texts)) / len(texts) > 0.85  # a sentence rarely comes twice in 3 hours
    said = set(texts)
    quoted = [t for t in texts if t.startswith("RT @") and t.split(": ", 1)[1] in said]
    assert len(quoted) >= 20  # yet a post that took off comes back, word for word


def test_the_crisis_endings_match_the_mood(demo_config: Config) -> None:
    src = demo(demo_config)
    src.labels = {}
    first = demo_config.sources[0].crisis_first_min  # type: ignore[union-attr]
    length = demo_config.sources[0].crisis_length_min  # type: ignore[union-attr]
    posts = src.generate(START, START + (first + length) * 60, seed=3, counter=0)
    story = {m.id: src.labels.get(m.id) for m in posts}
    thanks = [m.text for m in posts if story[m.id] == "replacement"]
    angry = [m.text for m in posts if story[m.id] in {"burned", "overheating", "recall"}]
    assert len(thanks) >= 30 and len(angry) >= 300
    assert not [t for t in thanks if set(t) & set("😡🤬😤😠")]  # thanks never end cross
    assert not [t for t in angry if set(t) & set("❤😍👏🙌")]  # nor complaints with hearts


def test_no_calm_story_is_larger_than_a_calm_day_makes(demo_config: Config, db_path: Path) -> None:
    # the calm conversation is filled slot by slot: posts of one template that differ in
    # a slot or two are one story, but everyday posts that share a detail do not chain
    history = demo(demo_config).generate(START - 3 * 3600, START, seed=11, counter=0)
    with StoreWriter(db_path, demo_config, maintenance=False) as w:
        for i in range(0, len(history), 2000):
            w.submit(IngestBatch("demo", "demo", history[i : i + 2000], {"n": i})).result(60)
    conn = open_reader(db_path)
    sizes = [n for (n,) in conn.execute("SELECT size FROM stories WHERE merged_into IS NULL")]
    assert len(sizes) >= 50
    # about one post in forty is one template's: no story holds much more (chained, the
    # largest held a fifth of the history)
    assert max(sizes) <= 0.04 * len(history)


def test_display_names_have_no_stray_spaces(demo_config: Config) -> None:
    # "@tomas_" was "Tomas " (a reply said "Sorry to hear that, Tomas .")
    posts = demo(demo_config).generate(START - 3600, START, seed=3, counter=0)
    assert any(m.author.endswith("_") for m in posts)
    assert all(m.author_name == " ".join(m.author_name.split()) for m in posts)
