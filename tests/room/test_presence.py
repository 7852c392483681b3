"""Presence in the room: another console sees who is signed in, viewing and typing, and hears of it."""

from __future__ import annotations

import time

import pytest

from app.room import presence
from app.room.connect import CHANNEL
from tests.room.conftest import RoomDb
from tests.room.test_queue import app_conn


def test_one_console_sees_who_views_and_types_on_another(room_ready: RoomDb) -> None:
    with app_conn(room_ready) as a, app_conn(room_ready) as b:
        b.execute(f"LISTEN {CHANNEL}")
        presence.beat(a, "desk-1", "ana", item="demo:1", activity="viewing")
        assert [n.payload for n in b.notifies(timeout=10, stop_after=1)]  # b hears of it
        (seen,) = presence.who(b, item="demo:1")
        assert (seen.station, seen.user, seen.activity) == ("desk-1", "ana", "viewing")
        presence.beat(a, "desk-1", "ana", item="demo:1", activity="typing")
        assert [s.activity for s in presence.who(b, item="demo:1")] == ["typing"]
        assert presence.who(b, item="demo:2") == []
        # a refresh with nothing new logs no change (nobody is woken for a heartbeat)
        (before,) = b.execute("SELECT count(*) FROM change_log").fetchone() or (0,)
        presence.beat(a, "desk-1", "ana", item="demo:1", activity="typing")
        assert b.execute("SELECT count(*) FROM change_log").fetchone() == (before,)
        # a console that vanished without signing out drops out after FRESH_S
        assert presence.who(b, now=time.time() + presence.FRESH_S + 1) == []
        presence.leave(a, "desk-1", "ana")
        assert presence.who(b) == []
        with pytest.raises(ValueError, match="typing needs an item"):
            presence.beat(a, "desk-1", "ana", activity="typing")
