"""Two consoles on one room (offscreen, each with its own cache, connection and station sync).

The consoles act through the room's queue: a claim in one shows as taken in the other, who is
on an item shows on the other console, a reply to an item changed meanwhile is refused, and
with the server stopped hard a console is read-only with a banner until the server is back.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from app.config import load_config
from app.room.station import Station
from app.store.writer import StoreWriter
from app.ui.console import ConsoleWindow
from app.workflow.users import User, hash_password
from tests.room import cluster as pg
from tests.room import procs
from tests.room.conftest import RoomDb, need_postgres
from tests.room.test_queue import fill

WAIT = 20_000


@pytest.fixture
def own_cluster() -> Iterator[pg.Cluster]:
    """A cluster of this test's own: it is stopped hard on purpose."""
    need_postgres()
    with pg.cluster() as c:
        yield c


@pytest.fixture
def consoles(
    qtbot: QtBot, tmp_path: Path
) -> Iterator[Callable[[RoomDb, str, str, str], ConsoleWindow]]:
    """Opens a signed-in console on a station of its own: its cache, writer and room sync."""
    made: list[tuple[ConsoleWindow, Station, StoreWriter]] = []

    def open_one(room: RoomDb, station: str, user: str, role: str) -> ConsoleWindow:
        config = load_config(room.write_config(tmp_path / f"{station}.toml", station=station))
        assert config.room is not None
        db = tmp_path / f"{station}.db"
        writer = StoreWriter(db, config, maintenance=False).start()
        sync = Station(config.room, writer).start()
        window = ConsoleWindow(config, db, writer, poll_ms=200)
        made.append((window, sync, writer))
        window.show()
        window.sign_in(User(user, role))
        return window

    yield open_one
    for window, sync, writer in made:
        window.shutdown()
        window.close()
        sync.stop()
        writer.close()


def row(window: ConsoleWindow, mention_id: str) -> Any:
    return next((r for r in window.queue_pane.model.rows if r.mention_id == mention_id), None)


def done(qtbot: QtBot, window: ConsoleWindow, fut: Any) -> Any:
    assert fut is not None
    qtbot.waitUntil(lambda: fut in window.shown, timeout=WAIT)
    return fut.exception() or fut.result()


def ready(qtbot: QtBot, window: ConsoleWindow, n: int) -> None:
    """The console shows the room's n items (its cache caught up)."""
    qtbot.waitUntil(lambda: len(window.queue_pane.model.rows) == n, timeout=WAIT)


def test_a_claim_on_one_console_shows_as_taken_on_the_other_with_who_is_where(
    qtbot: QtBot, room_ready: RoomDb, consoles: Callable[..., ConsoleWindow]
) -> None:
    fill(room_ready, 4, [("ana", "operator"), ("ben", "operator")])
    a = consoles(room_ready, "desk-a", "ana", "operator")
    b = consoles(room_ready, "desk-b", "ben", "operator")
    ready(qtbot, a, 4)
    ready(qtbot, b, 4)
    item = "demo:q-1"
    assert a.select(item) and row(b, item).state == "new"
    assert done(qtbot, a, a.claim()) is not None and a.error_bar.isHidden()
    t0 = time.perf_counter()
    qtbot.waitUntil(lambda: (row(b, item).state, row(b, item).assignee) == ("claimed", "ana"),
                    timeout=WAIT)  # fmt: skip
    print(f"\nclaim on A shown on B after {1000 * (time.perf_counter() - t0):.0f} ms")
    with procs.owner(room_ready) as conn:
        assert conn.execute("SELECT state, assignee FROM queue WHERE mention_id = %s",
                            (item,)).fetchone() == ("claimed", "ana")  # fmt: skip
    # B is told it is taken, and nothing changes
    assert b.select(item)
    refused = done(qtbot, b, b.claim())
    assert "ana has claimed this item" in str(refused)
    assert "ana has claimed this item" in b.error_bar.text()
    # presence: both signed in, and B sees ana on the item, then typing a reply
    assert a.room_part is not None and b.room_part is not None
    on_a, on_b = a.room_part.presence, b.room_part.presence
    qtbot.waitUntil(lambda: on_b.signed_in.text() == "Signed in: ana (desk-a), ben (desk-b)",
                    timeout=WAIT)  # fmt: skip
    qtbot.waitUntil(lambda: on_b.on_item.text() == "Also on this item: ana viewing", timeout=WAIT)
    qtbot.waitUntil(lambda: on_a.on_item.text() == "Also on this item: ben viewing", timeout=WAIT)
    a.reply_pane.text.setPlainText("Sorry about that, we are on it")
    qtbot.waitUntil(lambda: on_b.on_item.text() == "Also on this item: ana typing a reply",
                    timeout=WAIT)  # fmt: skip
    assert on_b.viewers == {item: "ana ✎"}
    # the queue row says so too, beside its assignee
    at = b.queue_pane.model.row_of(item)
    assert b.queue_pane.model.index(at, 8).data() == "ana · 👁 ana ✎"
    # A's submit goes to the room, for an approver's sign-off
    done(qtbot, a, a.submit())
    with procs.owner(room_ready) as conn:
        assert conn.execute(
            "SELECT state FROM queue WHERE mention_id = %s", (item,)
        ).fetchone() == ("awaiting_approval",)
        assert conn.execute("SELECT author, text, state FROM replies").fetchall() == [
            ("ana", "Sorry about that, we are on it", "awaiting_approval")
        ]
    # a note goes through the room: it shows in B's history of the item (from B's cache)
    assert isinstance(done(qtbot, a, a.add_note("customer sent a photo")), int)
    assert a.error_bar.isHidden(), a.error_bar.text()
    qtbot.waitUntil(lambda: b.detail is not None and b.detail.mention["id"] == item
                    and ("ana", "customer sent a photo") in [(n[0], n[2]) for n in b.detail.notes],
                    timeout=WAIT)  # fmt: skip
    history = b.item_pane.history
    assert any("note by ana: customer sent a photo" in history.item(i).text()
               for i in range(history.count()))


def test_a_reply_to_an_item_changed_meanwhile_is_refused_saying_what_it_is_now(
    qtbot: QtBot, room_ready: RoomDb, consoles: Callable[..., ConsoleWindow]
) -> None:
    fill(room_ready, 3, [("ana", "operator"), ("ada", "admin")])
    a = consoles(room_ready, "desk-a", "ana", "operator")
    b = consoles(room_ready, "desk-b", "ada", "admin")
    ready(qtbot, a, 3)
    ready(qtbot, b, 3)
    item = "demo:q-2"
    assert a.select(item)
    done(qtbot, a, a.claim())
    qtbot.waitUntil(lambda: row(b, item).state == "claimed", timeout=WAIT)
    assert b.select(item)
    crisis = done(qtbot, b, b.escalate("a journalist asks"))  # escalated into a crisis, as on one machine
    assert isinstance(crisis, int) and crisis > 0
    a.reply_pane.text.setPlainText("Here is what happened")
    refused = done(qtbot, a, a.submit())
    assert "this item changed since you opened it: it is now escalated" in str(refused)
    qtbot.waitUntil(lambda: row(a, item) is None or row(a, item).state == "escalated", timeout=WAIT)
    with procs.owner(room_ready) as conn:  # nothing half-done
        assert conn.execute("SELECT count(*) FROM replies").fetchone() == (0,)
        assert conn.execute(
            "SELECT state FROM queue WHERE mention_id = %s", (item,)
        ).fetchone() == ("escalated",)


def test_the_room_stopped_hard_turns_the_console_read_only_until_it_returns(
    qtbot: QtBot,
    own_cluster: pg.Cluster,
    room_env: dict[str, str],
    consoles: Callable[..., ConsoleWindow],
) -> None:
    from app.room.schema import grant, migrate

    room = RoomDb(own_cluster, own_cluster.create_database())
    with procs.owner(room) as conn:
        migrate(conn)
        grant(conn, pg.APP)
    fill(room, 3, [("ana", "operator")])
    a = consoles(room, "desk-a", "ana", "operator")
    ready(qtbot, a, 3)
    assert a.room_part is not None and a.room_part.banner.isHidden()
    own_cluster.stop("immediate")
    qtbot.waitUntil(
        lambda: a.room_part is not None and a.room_part.banner.isVisible(), timeout=WAIT
    )
    assert "Room link lost" in a.room_part.banner.text()
    assert not a.item_pane.claim_button.isEnabled()  # read-only: greyed, and keys refused
    assert len(a.queue_pane.model.rows) == 3  # the queue stays on screen
    assert a.select("demo:q-0")
    refused = done(qtbot, a, a.claim())
    assert "the room is unreachable since" in str(refused) and "nothing was done" in str(refused)
    assert "read-only" in a.error_bar.text()
    own_cluster.start()
    qtbot.waitUntil(lambda: a.room_part is not None and a.room_part.banner.isHidden(), timeout=WAIT)
    assert a.item_pane.claim_button.isEnabled()
    assert a.select("demo:q-0")
    assert done(qtbot, a, a.claim()) is not None
    qtbot.waitUntil(lambda: row(a, "demo:q-0").state == "claimed", timeout=WAIT)
    with procs.owner(room) as conn:
        assert conn.execute("SELECT state, assignee FROM queue WHERE mention_id = 'demo:q-0'"
                            ).fetchone() == ("claimed", "ana")  # fmt: skip


def test_claim_next_template_reply_and_approval_across_two_consoles(
    qtbot: QtBot, room_ready: RoomDb, consoles: Callable[..., ConsoleWindow]
) -> None:
    fill(room_ready, 3, [("ana", "operator"), ("ada", "approver")])
    a = consoles(room_ready, "desk-a", "ana", "operator")
    b = consoles(room_ready, "desk-b", "ada", "approver")
    ready(qtbot, a, 3)
    ready(qtbot, b, 3)
    first, second = done(qtbot, a, a.claim_next()), done(qtbot, b, b.claim_next())
    assert {first.assignee, second.assignee} == {"ana", "ada"}
    assert first.mention_id != second.mention_id  # each console took its own
    assert a.current == first.mention_id
    # a template's words, filled in for this item, straight to the room's outbox
    sent = done(qtbot, a, a.send_template("thanks"))
    assert isinstance(sent, int), sent
    # a free-text reply on a fresh claim, signed off by the approver on the other console
    third = done(qtbot, a, a.claim_next())
    assert third is not None and third.mention_id not in {first.mention_id, second.mention_id}
    a.reply_pane.text.setPlainText("We have sent you a new charger")
    rid = done(qtbot, a, a.submit())
    assert isinstance(rid, int), rid
    qtbot.waitUntil(lambda: b.approvals_pane.list.ids == [rid], timeout=WAIT)
    assert done(qtbot, b, b.approve(rid)) is None
    with procs.owner(room_ready) as conn:
        replies = conn.execute("SELECT id, mention_id, author, template, text, state, approved_by"
                               " FROM replies ORDER BY id").fetchall()  # fmt: skip
        states = dict(conn.execute("SELECT mention_id, state FROM queue").fetchall())
    assert replies[0][:4] == (sent, first.mention_id, "ana", "thanks")
    assert replies[0][5] == "approved" and replies[0][4].endswith("— ana, Lumio support")
    assert replies[1] == (rid, third.mention_id, "ana", None, "We have sent you a new charger",
                          "approved", "ada")  # fmt: skip
    assert states[first.mention_id] == states[third.mention_id] == "approved"
    assert states[second.mention_id] == "claimed"


def test_a_claim_shows_on_a_console_in_another_process_and_its_presence_here(
    qtbot: QtBot, room_ready: RoomDb, room_env: dict[str, str], tmp_path: Path,
    consoles: Callable[..., ConsoleWindow],
) -> None:  # fmt: skip
    fill(room_ready, 3, [("ana", "operator"), ("ben", "operator")])
    item = "demo:q-0"
    config = room_ready.write_config(tmp_path / "desk-b.toml", station="desk-b")
    out = tmp_path / "desk-b.out"
    with out.open("w") as sink:
        b = subprocess.Popen([sys.executable, "-m", "tests.room.console_proc", str(config),
                              str(tmp_path / "desk-b.db"), "ben", "operator", item],
                             stdout=sink, stderr=subprocess.STDOUT,
                             env={**room_env, "QT_QPA_PLATFORM": "offscreen"})  # fmt: skip

    def shown() -> dict[str, Any]:
        lines = [ln for ln in out.read_text().splitlines() if ln.startswith("{")]
        return dict(json.loads(lines[-1])) if lines else {"rows": {}, "on_item": ""}

    try:
        a = consoles(room_ready, "desk-a", "ana", "operator")
        ready(qtbot, a, 3)
        qtbot.waitUntil(lambda: len(shown()["rows"]) == 3, timeout=WAIT)
        assert shown()["rows"][item] == ["new", None]
        # B (the other process) has the item open: A sees it, on the row and on the item
        assert a.room_part is not None
        on_a = a.room_part.presence
        qtbot.waitUntil(lambda: on_a.viewers.get(item) == "ben", timeout=WAIT)
        assert a.select(item)
        qtbot.waitUntil(lambda: on_a.on_item.text() == "Also on this item: ben viewing",
                        timeout=WAIT)  # fmt: skip
        assert done(qtbot, a, a.claim()) is not None
        t0 = time.perf_counter()
        qtbot.waitUntil(lambda: shown()["rows"][item] == ["claimed", "ana"], timeout=WAIT)
        print(f"\nclaim on A shown in B's process after {1000 * (time.perf_counter() - t0):.0f} ms")
        qtbot.waitUntil(lambda: shown()["on_item"] == "Also on this item: ana viewing",
                        timeout=WAIT)  # fmt: skip
    finally:
        b.terminate()
        code = b.wait(30)
    assert code == 0, out.read_text()
    qtbot.waitUntil(lambda: "ben" not in on_a.signed_in.text(), timeout=WAIT)  # B signed out


def test_signing_in_checks_the_room_s_users_and_is_audited_there(
    qtbot: QtBot, room_ready: RoomDb, tmp_path: Path
) -> None:
    fill(room_ready, 1, [])
    with procs.owner(room_ready) as conn:  # as IT adds a user to the room
        conn.execute("INSERT INTO users (name, role, password, created_ts) VALUES"
                     " ('Ana', 'operator', %s, 0)", (hash_password("correct horse battery"),))  # fmt: skip
    config = load_config(room_ready.write_config(tmp_path / "desk-a.toml", station="desk-a"))
    db = tmp_path / "desk-a.db"
    writer = StoreWriter(db, config, maintenance=False).start()
    window = ConsoleWindow(config, db, writer, poll_ms=200)
    try:
        window.show()
        login = window.login
        # the local cache has no users, yet the room's are the ones: no "first administrator"
        qtbot.waitUntil(lambda: login.button.isEnabled(), timeout=WAIT)
        assert login.first_admin is False and login.button.text() == "Sign in"
        login.name.setText("ana")
        login.password.setText("wrong horse")
        login.submit()
        qtbot.waitUntil(lambda: "Could not sign in" in login.message.text(), timeout=WAIT)
        assert window.user is None
        login.password.setText("correct horse battery")
        login.submit()
        qtbot.waitUntil(lambda: window.user is not None, timeout=WAIT)
        assert window.user == User("Ana", "operator")
        qtbot.waitUntil(lambda: window.loads >= 1, timeout=WAIT)
        assert window.stack.currentWidget() is window.work  # and it stays signed in
        with procs.owner(room_ready) as conn:
            trail = conn.execute("SELECT actor, action, target FROM audit ORDER BY id").fetchall()
        assert trail == [("station:desk-a", "user.signin_failed", "user:Ana"),
                         ("Ana", "user.signin", "user:Ana")]  # fmt: skip
    finally:
        window.shutdown()
        window.close()
        writer.close()
