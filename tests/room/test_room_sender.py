"""The active hub posts the replies the room's consoles approved: each once, recorded in the room."""

from __future__ import annotations

from pathlib import Path

from tests.room import procs
from tests.room.conftest import RoomDb
from tests.room.test_hub import poll_once
from tests.room.test_outbox import approved


def test_the_hub_posts_what_the_room_approved_once_and_records_it(
    room_ready: RoomDb, tmp_path: Path, room_env: dict[str, str]
) -> None:
    keys = approved(room_ready, 3)
    with procs.owner(room_ready) as conn:  # one more, on a source this hub does not poll
        conn.execute("UPDATE mentions SET source = 'elsewhere',"
                     " body = jsonb_set(body, '{source}', '\"elsewhere\"')"
                     " WHERE id = (SELECT mention_id FROM replies WHERE id = %s)", (max(keys),))  # fmt: skip
    done = poll_once(room_ready, tmp_path, room_env)
    assert done.returncode == 0, done.stderr
    with procs.owner(room_ready) as conn:
        replies = conn.execute("SELECT id, state, sent_native_id, sending_by, last_error FROM replies"
                               " ORDER BY id").fetchall()  # fmt: skip
        sent = conn.execute("SELECT count(*) FROM audit WHERE action = 'item.sent'").fetchone()
        states = conn.execute("SELECT state, count(*) FROM queue WHERE mention_id IN (SELECT mention_id"
                              " FROM replies) GROUP BY 1 ORDER BY 1").fetchall()  # fmt: skip
    *posted, other = replies
    assert [(r[1], r[2]) for r in posted] == [("sent", f"reply-{keys[r[0]]}") for r in posted]
    assert sent == (len(posted),) and states == [("failed", 1), ("sent", len(posted))]
    assert other[1] == "failed" and "not configured on the hub" in other[4]
    again = poll_once(room_ready, tmp_path, room_env)  # a second round posts nothing again
    assert again.returncode == 0, again.stderr
    with procs.owner(room_ready) as conn:
        assert conn.execute("SELECT count(*) FROM audit WHERE action = 'item.sent'").fetchone() == sent
