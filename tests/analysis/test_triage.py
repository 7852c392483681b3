"""Triage: complaints and questions to us before praise; a ``?`` in a link asks nothing;
praise to our account stays in the queue, low."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from app.config import Config
from app.model import Mention
from app.store.db import open_reader
from app.store.writer import IngestBatch, StoreWriter
from tests.analysis.sets import care_set


def _mention(native_id: str, text: str) -> Mention:
    return Mention(network="mastodon", native_id=native_id, source="mastodon", text=text,
                   created_at=datetime.now(UTC), author="@erin@example.social", lang="en")  # fmt: skip


def _queue(db_path: Path, config: Config, mentions: list[Mention]) -> dict[str, tuple[int, str]]:
    with StoreWriter(db_path, config, maintenance=False) as writer:
        writer.submit(IngestBatch("mastodon", "mastodon", mentions, {})).result(60)
    conn = open_reader(db_path)
    try:
        return {
            r[0]: (r[1], r[2])
            for r in conn.execute("SELECT mention_id, priority, reasons FROM queue")
        }
    finally:
        conn.close()


def test_a_question_mark_in_a_link_is_no_question(db_path: Path, demo_config: Config) -> None:
    link = _mention(
        "1", "@lumio the Lumio X review is up https://techdaily.example/review?id=42&ref=feed"
    )
    asked = _mention("2", "@lumio is the Lumio X review up? https://techdaily.example/review?id=42")
    queue = _queue(db_path, demo_config, [link, asked])
    assert "asks us a question" not in queue[link.id][1]
    assert "asks us a question" in queue[asked.id][1]


def test_complaints_and_questions_come_before_praise(db_path: Path, demo_config: Config) -> None:
    complaint = _mention("1", "@lumio great, another update and my Lumio X won't charge")
    question = _mention("2", "@lumio does the Lumio X support wireless charging?")
    praise = _mention("3", "@lumio the camera on my Lumio X is stunning, thank you!")
    queue = _queue(db_path, demo_config, [complaint, question, praise])
    assert queue[complaint.id][0] < queue[question.id][0] < queue[praise.id][0]
    # praise addressed to us stays in the queue, at the lowest priority
    assert queue[praise.id][0] == 4


def test_negatives_rank_above_positives_on_the_care_sets(
    tmp_path: Path, demo_config: Config
) -> None:
    # every care post is addressed to a brand: address them to ours
    rows = [
        (g, "@lumio " + t.split(" ", 1)[1])
        for name in ("care_dev", "care_check")
        for g, t in care_set(name)
    ]
    mentions = [_mention(str(i), text) for i, (_, text) in enumerate(rows)]
    queue = _queue(tmp_path / "auc.db", demo_config, mentions)
    prio = {m.id: queue[m.id][0] for m in mentions}  # every one of them is queued
    neg = [prio[m.id] for m, (g, _) in zip(mentions, rows, strict=True) if g == "negative"]
    pos = [prio[m.id] for m, (g, _) in zip(mentions, rows, strict=True) if g == "positive"]
    wins = sum((a < b) + 0.5 * (a == b) for a in neg for b in pos)
    assert wins / (len(neg) * len(pos)) >= 0.85


def test_reach_lifts_a_complaint_but_never_praise_over_one(
    db_path: Path, demo_config: Config
) -> None:
    big = demo_config.rules.follower_threshold * 50
    loud_praise = _mention("1", "@lumio the camera on my Lumio X is stunning, thank you!")
    loud_praise.author_followers = big
    quiet_complaint = _mention("2", "@lumio my Lumio X won't charge since the update, annoying")
    quiet_complaint.author_followers = 12
    loud_complaint = _mention("3", "@lumio my Lumio X won't charge since the update, annoying")
    loud_complaint.author_followers = big
    loud_question = _mention("4", "@lumio does the Lumio X support wireless charging?")
    loud_question.author_followers = big
    queue = _queue(
        db_path, demo_config, [loud_praise, quiet_complaint, loud_complaint, loud_question]
    )
    assert queue[loud_complaint.id][0] == 1
    assert queue[quiet_complaint.id][0] == 2
    assert queue[loud_question.id][0] == 3
    assert queue[loud_praise.id][0] == 4
    assert f"({big:,} followers)" in queue[loud_praise.id][1]  # the reach is said, not counted


def test_a_post_to_us_that_is_no_praise_comes_before_praise(
    db_path: Path, demo_config: Config
) -> None:
    # the scorer hears nothing in it: it may be a complaint it missed, so a person reads it
    flat = _mention("1", "@lumio the parcel with my Lumio X went to an address in Leeds")
    praise = _mention("2", "@lumio the camera on my Lumio X is stunning, thank you!")
    passing = _mention("3", "Lumio X reviews are out today")  # about us, not to us
    queue = _queue(db_path, demo_config, [flat, praise, passing])
    assert queue[flat.id][0] == 3 < queue[praise.id][0] == 4
    assert passing.id not in queue


def test_the_first_reason_names_the_priority_and_why(db_path: Path, demo_config: Config) -> None:
    posts = [
        _mention("1", "@lumio my Lumio X burned my hand, this is dangerous #LumioRecall"),
        _mention("2", "@lumio my Lumio X won't charge since the update, annoying"),
        _mention("3", "@lumio does the Lumio X support wireless charging?"),
        _mention("4", "@lumio the camera on my Lumio X is stunning, thank you!"),
    ]
    queue = _queue(db_path, demo_config, posts)
    for post in posts:
        priority, reasons = queue[post.id]
        assert json.loads(reasons)[0].startswith(f"P{priority} · ")
    assert [queue[p.id][0] for p in posts] == [1, 2, 3, 4]
