"""The crisis rules in the room, as on one machine: during a crisis only a spokesperson signs
off a reply and only crisis templates apply (the room's open crisis decides)."""

from __future__ import annotations

import pytest

from app.room.alerts import RoomAlerts
from app.room.desk import RoomDesk
from app.room.queue import RoomQueue, verify_audit
from app.workflow.service import QueueWorkflow, Rules
from app.workflow.states import WorkflowError
from app.workflow.templates import Template
from tests.room.conftest import RoomDb
from tests.room.test_queue import app_conn, fill

TEMPLATES = {
    "sorry": Template(name="sorry", text="Sorry {author}, we are on it."),
    "holding": Template(name="holding", text="{author}: we know, updates follow.", crisis=True),
}


def test_during_a_crisis_only_a_spokesperson_approves_and_only_crisis_templates_apply(
    room_ready: RoomDb,
) -> None:
    fill(room_ready, 3, [("ana", "operator"), ("ben", "approver"), ("sam", "approver")])
    queue = RoomQueue()
    desk = RoomDesk(QueueWorkflow(Rules(brand="Lumio", templates=TEMPLATES)), queue)
    with app_conn(room_ready) as conn:
        conn.execute("UPDATE users SET spokesperson = true WHERE name = 'sam'")
        for n in range(3):
            queue.claim(conn, "ana", f"demo:q-{n}")
        rid = queue.submit(conn, "ana", "demo:q-0", "We are looking into the outage.")
        crisis = RoomAlerts().declare(conn, "ben", None, "payments down everywhere")
        with pytest.raises(WorkflowError, match="only a designated spokesperson may approve"):
            queue.approve(conn, "ben", rid)
        queue.approve(conn, "sam", rid)
        assert queue.item(conn, "demo:q-0").state == "approved"

        desk.user, desk.item = "ana", "demo:q-1"
        with pytest.raises(WorkflowError, match="during a crisis only crisis templates apply"):
            desk.send_template("sorry").call(conn)
        desk.send_template("holding").call(conn)
        ((template, text),) = conn.execute("SELECT template, text FROM replies"
                                           " WHERE mention_id = 'demo:q-1'").fetchall()  # fmt: skip
        assert template == "holding" and text.endswith("we know, updates follow.")
        assert queue.item(conn, "demo:q-1").state == "approved"

        assert RoomAlerts().end(conn, "ben", "payments back") == crisis
        desk.item = "demo:q-2"
        with pytest.raises(WorkflowError, match=r"the template 'holding' does not apply here$"):
            desk.send_template("holding").call(conn)
        desk.send_template("sorry").call(conn)
        assert verify_audit(conn)[1] is None
