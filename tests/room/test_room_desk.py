"""Every action of the console's desk has a room job: none is refused as not shared.

A new action on :class:`~app.workflow.desk.Desk` without its room counterpart fails here (the
console in a room would refuse it), so the list below names every one of them.
"""

from __future__ import annotations

import inspect
from typing import Any

from app.room.desk import RoomDesk
from app.room.queue import RoomQueue
from app.workflow.desk import Desk, Job
from app.workflow.service import QueueWorkflow

#: each action with arguments it can be asked with
ACTIONS: dict[str, tuple[Any, ...]] = {
    "claim": (), "claim_next": (), "release": (), "send_template": ("sorry",),
    "save_draft": ("words",), "submit": ("words",), "send_direct": ("words",),
    "dismiss": ("a reason",), "escalate": ("a reason",), "retry": (), "add_note": ("a note",),
    "spotlight": (), "wall": ("reload", {}), "switch_scene": ("overview", "response"),
    "approve": (1,), "reject": (1, "a reason"), "acknowledge": (1,), "accept_alert": (1,),
    "declare_crisis": ("a reason",), "end_crisis": ("a summary",), "claim_story": (),
    "answer_story": ("sorry",), "dismiss_duplicates": ("a reason",), "take_out": (),
    "relabel": ("negative",),
}  # fmt: skip


def test_every_desk_action_is_a_room_job() -> None:
    actions = {name for name, fn in inspect.getmembers(Desk, inspect.isfunction)
               if not name.startswith("_") and inspect.signature(fn).return_annotation in {Job, "Job"}}  # fmt: skip
    assert actions == set(ACTIONS)
    desk = RoomDesk(QueueWorkflow(), RoomQueue())
    desk.user, desk.item = "ana", "demo:q-0"
    local = [name for name, args in ACTIONS.items() if not getattr(desk, name)(*args).room]
    assert local == []
