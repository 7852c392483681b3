"""Roles and what each may do. Checked by the workflow on every action, never by the UI alone."""

from __future__ import annotations

import enum
from typing import Literal

RoleName = Literal["operator", "approver", "admin", "viewer"]
ROLES: tuple[RoleName, ...] = ("operator", "approver", "admin", "viewer")


class Permission(enum.StrEnum):
    VIEW = "view"
    #: claim, draft, reply with a template, submit for approval, dismiss, escalate, notes
    HANDLE = "handle"
    #: sign off another person's free-text reply
    APPROVE = "approve"
    #: acknowledge alerts, declare and end a crisis, steer the walls
    COMMAND = "command"
    #: take over anyone's claim, reopen dismissed items, manage users
    ADMIN = "admin"


_GRANTS: dict[str, frozenset[Permission]] = {
    "viewer": frozenset({Permission.VIEW}),
    "operator": frozenset({Permission.VIEW, Permission.HANDLE}),
    "approver": frozenset(
        {Permission.VIEW, Permission.HANDLE, Permission.APPROVE, Permission.COMMAND}
    ),
    "admin": frozenset(Permission),
}


def grants(role: str, permission: Permission) -> bool:
    return permission in _GRANTS.get(role, frozenset())
