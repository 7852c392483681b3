"""The console's core without a window: the desk's one guard, the attention policy and the
words the detail pane shows."""

from __future__ import annotations

import sqlite3

import pytest

from app.workflow import console_text, queries
from app.workflow.attention import Attention
from app.workflow.desk import Desk, NotReady
from app.workflow.queries import Alert, Urgent
from app.workflow.service import QueueWorkflow
from app.workflow.states import WorkflowError
from tests.workflow.conftest import Tx, queue_items


def test_the_desk_refuses_what_cannot_be_asked_and_runs_the_rest(conn: sqlite3.Connection, tx: Tx,
                                                                 wf: QueueWorkflow) -> None:  # fmt: skip
    (mid,) = queue_items(conn, 1)
    asked: list[str] = []
    desk = Desk(wf, lambda title, prompt: asked.append(title) or None)
    with pytest.raises(NotReady, match="Sign in first"):
        desk.claim()
    desk.user = "olga"
    for action in (desk.claim, desk.release, desk.retry, desk.spotlight, lambda: desk.submit("hi")):
        with pytest.raises(NotReady, match="Select an item first"):
            action()
    with pytest.raises(NotReady, match="Select a reply to approve"):
        desk.approve()
    with pytest.raises(NotReady, match="Select an alert first"):
        desk.acknowledge()
    desk.item = mid
    with pytest.raises(NotReady) as cancelled:  # the operator cancelled the reason's dialog
        desk.dismiss()
    assert str(cancelled.value) == "" and asked == ["Dismiss"]
    tx(desk.claim().call)
    assert conn.execute("SELECT state, assignee FROM queue").fetchone() == ("claimed", "olga")
    job = desk.dismiss("a duplicate of an answered post")
    assert job.label == "Dismiss"
    tx(job.call)
    assert conn.execute("SELECT state, note FROM queue").fetchone() == ("dismissed", "a duplicate of an answered post")
    with pytest.raises(WorkflowError, match="cannot claim an item that is dismissed"):
        tx(desk.claim().call)  # the rules stay the workflow's


def test_attention_announces_news_once_and_nothing_waiting_at_sign_in() -> None:
    att = Attention()
    waiting = [Urgent("demo:1", 1, "@ann", "help")]
    assert att.notices(waiting, [Alert(1, 0.0, "old spike")]) == []
    assert att.notices(waiting, [Alert(1, 0.0, "old spike")]) == []
    news = [Urgent("demo:3", 1, "@cy", "my phone\nis hot"), Urgent("demo:2", 1, "@bo", "x"), *waiting]
    assert att.notices(news, [Alert(2, 1.0, "lumio: 40/min"), Alert(1, 0.0, "old spike")]) == [
        "Spike: lumio: 40/min", "P1 from @cy: my phone is hot (+1 more)"]  # fmt: skip
    assert att.notices(news, []) == []


def test_the_detail_words_come_from_the_store(conn: sqlite3.Connection, tx: Tx, wf: QueueWorkflow) -> None:
    (mid,) = queue_items(conn, 1)
    tx(wf.claim, "olga", mid)
    tx(wf.add_note, "olga", mid, "called them\nback")
    d = queries.item_detail(conn, mid)
    assert d is not None
    assert console_text.head(d) == "P1 · User 0 (@user0)"
    assert "· claimed by olga" in console_text.meta(d)
    lines = console_text.history(d)
    assert sorted(line.split("  ", 1)[1] for line in lines) == [
        "note by olga: called them\nback", "olga: claim", "olga: note"]  # the note and its audit row


def test_an_alert_that_is_over_says_so_in_the_console_until_acknowledged(conn: sqlite3.Connection, tx: Tx) -> None:
    def insert(c: sqlite3.Connection) -> None:
        for ts, subsided in ((1000.0, None), (2000.0, 2400.0)):
            c.execute("INSERT INTO alerts (ts, kind, topic, window_start, observed, baseline, z, explanation,"
                      " subsided_ts) VALUES (?, 'spike', 'lumio', ?, 40, 8, 6, 'lumio: 40/min', ?)",
                      (ts, ts - 300, subsided))  # fmt: skip

    tx(insert)
    over, live = queries.active_alerts(conn)
    assert (over.subsided_ts, live.subsided_ts) == (2400.0, None)
    assert console_text.alert(live) == f"{console_text.clock(1000.0)}  lumio: 40/min"
    assert console_text.alert(over) == (f"{console_text.clock(2000.0)}  subsided at {console_text.clock(2400.0)},"
                                        " not yet acknowledged — lumio: 40/min")  # fmt: skip
