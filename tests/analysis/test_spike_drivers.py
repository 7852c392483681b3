"""An alert's driver terms come from the spiking window against its own baseline: the
words of the injected spike, never the topic's everyday words; with its most typical posts."""

from __future__ import annotations

import json
import random
import time
from datetime import UTC, datetime
from pathlib import Path

from app.analysis.spikes import driver_terms, typical_posts
from app.config import Config
from app.model import Mention
from app.store.db import open_reader
from app.store.writer import IngestBatch, StoreWriter

EVERYDAY = [
    "Picked up my Lumio X today, the camera looks {w}",
    "Lumio store downtown was busy this {w}",
    "Comparing the Lumio Air with the Nexa One, the screen is {w}",
    "Lumio event tonight, hoping for a {w} price",
    "My Lumio battery life is {w} so far",
]
WORDS = ["great", "fine", "okay", "good", "nice", "morning", "evening", "decent", "solid"]
SPIKE = [
    "my Lumio X is overheating, it burned my hand #LumioRecall",
    "Lumio X overheating on the charger and burned my fingers #LumioRecall",
    "burned again by an overheating Lumio X. #LumioRecall now",
    "#LumioRecall my Lumio is overheating, almost burned the sofa",
]


def _post(i: int, ts: float, text: str) -> Mention:
    return Mention(network="demo", native_id=str(i), source="demo", text=text, lang="en",
                   created_at=datetime.fromtimestamp(ts, UTC), author=f"@user{i % 97}")  # fmt: skip


def _alert_of(db: Path, config: Config, posts: list[Mention], kind: str) -> tuple[list[str], list[str], str]:
    """Store ``posts`` through the real writer, judge the alerts, and read the newest lumio
    alert of ``kind``: its driver terms, the texts of its typical posts, its explanation."""
    with StoreWriter(db, config) as writer:
        for i in range(0, len(posts), 500):
            writer.submit(IngestBatch("demo", "demo", posts[i : i + 500], {})).result(60)
        writer.run_maintenance()
    conn = open_reader(db)
    try:
        rows = conn.execute("SELECT terms, posts, explanation FROM alerts WHERE kind = ?"
                            " AND topic = 'lumio'", (kind,)).fetchall()  # fmt: skip
        assert rows, conn.execute("SELECT kind, topic, explanation FROM alerts").fetchall()
        terms, post_ids, explanation = json.loads(rows[-1][0]), json.loads(rows[-1][1]), rows[-1][2]
        texts = [conn.execute("SELECT text FROM mentions WHERE id = ?", (i,)).fetchone()[0]
                 for i in post_ids]  # fmt: skip
    finally:
        conn.close()
    return terms, texts, explanation


def test_driver_terms_of_an_injected_spike_are_its_own_words(
    db_path: Path, demo_config: Config
) -> None:
    rnd = random.Random(7)
    now = time.time()
    newest = int(now // 60) * 60 - 60  # the newest complete minute, as alerts judge them
    posts: list[Mention] = []
    for minute in range(185, 5, -1):  # three hours of everyday talk, three posts a minute
        for k in range(3):
            text = rnd.choice(EVERYDAY).format(w=rnd.choice(WORDS))
            posts.append(_post(len(posts), newest - minute * 60 + k * 15 + 1, text))
    for minute in range(4, -1, -1):  # then five minutes of a crisis, 40 posts a minute
        for k in range(40):
            posts.append(_post(len(posts), newest - minute * 60 + k + 1, rnd.choice(SPIKE)))
    terms, texts, explanation = _alert_of(db_path, demo_config, posts, "spike")
    assert {"overheating", "burned", "#lumiorecall"} <= set(terms[:4]), terms
    everyday = {w.lower() for t in EVERYDAY for w in t.replace(",", "").split()} | set(WORDS)
    assert not (set(terms) & everyday), terms  # "lumio", "camera", "store" … never drive it
    assert "overheating" in explanation
    assert texts and all(t in SPIKE for t in texts) and len(set(texts)) == len(texts)


def test_shares_not_counts_decide() -> None:
    base = [["lumio", "camera"]] * 50 + [["lumio", "store"]] * 50
    window = [["lumio", "overheating", "#lumiorecall"]] * 60 + [["lumio", "camera"]] * 40
    found = driver_terms(window, base)
    assert [d.term for d in found] == ["#lumiorecall", "overheating"]  # "lumio" rose in count only
    assert typical_posts(window, ["hot!"] * 60 + ["nice camera"] * 40, found) == [0]


def test_an_everyday_word_that_only_grows_with_the_volume_does_not_trend() -> None:
    from app.analysis.trending import rising_terms

    history = {"delivery": 100.0, "camera": 40.0}  # per 10-minute bucket
    recent = {"delivery": 280, "camera": 80, "#lumiorecall": 90, "overheating": 60}  # two buckets
    terms = [t.term for t in rising_terms(recent, history, 2.0)]
    assert terms == ["#lumiorecall", "overheating"]  # delivery ×1.4, camera ×1.0


PRAISE = [
    "Shoutout to the mall support team, they fixed my Lumio X in ten minutes, great service!",
    "Big shoutout to Lumio support at the mall, fixed and friendly, lovely service",
]
COMPLAINT = [
    "My Lumio X keeps rebooting, totally bricked, useless",
    "Lumio X bricked overnight, rebooting in a loop, this is awful",
    "rebooting again and again, my Lumio X is bricked. terrible",
]


def test_a_negative_surge_is_driven_by_what_its_complaints_say_not_by_praise_beside_them(
    db_path: Path, demo_config: Config
) -> None:
    rnd = random.Random(11)
    newest = int(time.time() // 60) * 60 - 60
    posts: list[Mention] = []
    for minute in range(185, 5, -1):  # the usual: everyday talk, now and then a grumble
        for k in range(12):
            text = (rnd.choice(EVERYDAY).format(w=rnd.choice(WORDS)) if k else
                    "the Lumio store queue was awful today")  # fmt: skip
            posts.append(_post(len(posts), newest - minute * 60 + k * 5 + 1, text))
    for minute in range(4, -1, -1):  # the same volume, half of it complaints, half praise
        for k in range(12):
            text = rnd.choice(COMPLAINT if k % 2 else PRAISE)
            posts.append(_post(len(posts), newest - minute * 60 + k * 5 + 1, text))
    terms, texts, _ = _alert_of(db_path, demo_config, posts, "negative_surge")
    assert {"rebooting", "bricked"} <= set(terms), terms
    assert not {"shoutout", "mall", "support", "fixed", "service"} & set(terms), terms
    assert texts and all(t in COMPLAINT for t in texts)


def test_a_surge_in_the_backfill_does_not_hold_back_the_live_one(db_path: Path, demo_config: Config) -> None:
    # history: calm, a burst of complaints twenty-odd minutes before the start (on record,
    # resolved), calm again; then, live, the crisis: it must wake the room despite the cooldown
    rnd = random.Random(5)
    newest = int(time.time() // 60) * 60 - 60
    started = newest - 3 * 60
    posts: list[Mention] = []
    for minute in range(185, -1, -1):
        burst = 21 <= minute <= 25 or minute <= 2
        for k in range(12):
            text = rnd.choice(COMPLAINT) if burst and k % 2 else rnd.choice(EVERYDAY).format(w=rnd.choice(WORDS))
            posts.append(_post(len(posts), newest - minute * 60 + k * 5 + 1, text))
    with StoreWriter(db_path, demo_config) as writer:
        assert writer.maintenance is not None
        writer.maintenance.started = started
        for i in range(0, len(posts), 500):
            writer.submit(IngestBatch("demo", "demo", posts[i : i + 500], {})).result(60)
        writer.run_maintenance()
    conn = open_reader(db_path)
    try:
        alerts = conn.execute("SELECT ts, state FROM alerts WHERE kind = 'negative_surge'"
                              " AND topic = 'lumio' ORDER BY ts").fetchall()  # fmt: skip
    finally:
        conn.close()
    history = [ts for ts, state in alerts if ts < started]
    assert len(history) == 1, alerts  # on record once: the cooldown holds within the history
    assert any(ts > started and state == "active" for ts, state in alerts), alerts  # live
