"""The queue item's state machine, in one place, with no storage in it.

    new ──claim──▶ claimed ──draft──▶ draft ──submit──▶ awaiting_approval ──approve──▶ approved
     ▲               │                  │                   └──reject──▶ draft           │
     └───release─────┴──────────────────┘                                             send
                     └──reply (a template, or send-without-approval)──▶ approved         ▼
                                               approved ◀──requeue (backoff)── sending ──sent──▶ sent
                                               approved ◀──retry── failed ◀──fail──┘
    dismiss (a reason required), from any open state but sending ──▶ dismissed ──reopen──▶ new
    escalate (a reason required), from any open state but sending ──▶ escalated ──claim──▶ claimed
    expire: a claim left idle goes back to new

Whoever stores the queue (SQLite here, PostgreSQL for a shared room later) asks
:func:`check` before writing, so both follow exactly these rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from app.workflow.roles import Permission

State = Literal[
    "new", "claimed", "draft", "awaiting_approval", "approved", "sending", "sent", "failed",
    "dismissed", "escalated",
]  # fmt: skip
Action = Literal[
    "claim", "release", "draft", "submit", "approve", "reject", "reply", "send", "sent", "fail",
    "requeue", "retry", "dismiss", "escalate", "reopen", "expire",
]  # fmt: skip

STATES: tuple[State, ...] = (
    "new", "claimed", "draft", "awaiting_approval", "approved", "sending", "sent", "failed",
    "dismissed", "escalated",
)  # fmt: skip
#: states in which someone still has to act
OPEN: frozenset[State] = frozenset(STATES) - {"sent", "dismissed"}
#: states held by one person's claim (it expires when they go idle)
HELD: frozenset[State] = frozenset({"claimed", "draft"})


@dataclass(frozen=True, slots=True)
class Transition:
    sources: frozenset[State]
    target: State
    permission: Permission | None  # None: the outbox (the system), not a person
    #: only the item's assignee may do it (admins may too)
    assignee_only: bool = False
    reason_required: bool = False


def _t(sources: set[str], target: State, permission: Permission | None, **kw: bool) -> Transition:
    return Transition(frozenset(sources), target, permission, **kw)  # type: ignore[arg-type]


H, A, AD = Permission.HANDLE, Permission.APPROVE, Permission.ADMIN
_ANYONE_OPEN = {"new", "claimed", "draft", "awaiting_approval", "approved", "failed", "escalated"}

TRANSITIONS: dict[Action, Transition] = {
    "claim": _t({"new", "escalated"}, "claimed", H),
    "release": _t({"claimed", "draft"}, "new", H, assignee_only=True),
    "expire": _t({"claimed", "draft"}, "new", None),
    "draft": _t({"claimed", "draft"}, "draft", H, assignee_only=True),
    "submit": _t({"claimed", "draft"}, "awaiting_approval", H, assignee_only=True),
    "approve": _t({"awaiting_approval"}, "approved", A),
    "reject": _t({"awaiting_approval"}, "draft", A, reason_required=True),
    # a pre-approved template, or free text by someone allowed to send without approval
    "reply": _t({"claimed", "draft"}, "approved", H, assignee_only=True),
    "send": _t({"approved"}, "sending", None),
    "sent": _t({"sending"}, "sent", None),
    "fail": _t({"sending"}, "failed", None),
    # a transient failure: the outbox tries again after a backoff, with the same key
    "requeue": _t({"sending"}, "approved", None),
    "retry": _t({"failed"}, "approved", H),
    "dismiss": _t(_ANYONE_OPEN, "dismissed", H, reason_required=True),
    "escalate": _t(_ANYONE_OPEN - {"escalated"}, "escalated", H, reason_required=True),
    "reopen": _t({"dismissed"}, "new", A),
}


class WorkflowError(Exception):
    """An action refused by the rules; the message says why, for the operator."""


def check(action: Action, state: str, *, granted: bool, is_assignee: bool, is_admin: bool,
          reason: str = "") -> State:  # fmt: skip
    """The state after ``action``, or :class:`WorkflowError` saying why it may not happen."""
    t = TRANSITIONS[action]
    if state not in t.sources:
        hint = ": claim it first" if state == "new" and action in {"draft", "submit", "reply"} else ""
        raise WorkflowError(f"cannot {action} an item that is {state.replace('_', ' ')}{hint}")
    if t.permission is not None and not granted:
        raise WorkflowError(f"your role may not {action} items")
    if t.assignee_only and not (is_assignee or is_admin):
        raise WorkflowError(f"only the person who claimed this item may {action} it")
    if t.reason_required and not reason.strip():
        raise WorkflowError(f"{action} needs a reason")
    return t.target
