"""The audit trail: append-only rows, each hash covering its content and the previous hash.

Triggers refuse UPDATE and DELETE; :func:`verify` catches what bypasses them (a file
edited with another tool): a changed row breaks its own hash, a deleted row breaks the
chain of ids and hashes, and a truncated tail no longer matches the head kept in ``meta``.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

GENESIS = "0" * 64
_HEAD_KEY = "audit_head"


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def row_hash(prev_hash: str, id_: int, ts: float, actor: str, action: str, target: str,
             before: str, after: str) -> str:  # fmt: skip
    payload = _canonical([prev_hash, id_, repr(ts), actor, action, target, before, after])
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def record(
    conn: sqlite3.Connection,
    actor: str,
    action: str,
    target: str = "",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    *,
    now: float | None = None,
) -> int:
    """Append one row inside the caller's transaction; return its id."""
    ts = time.time() if now is None else now
    last = conn.execute("SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1").fetchone()
    prev_id, prev_hash = (int(last[0]), str(last[1])) if last else (0, GENESIS)
    id_ = prev_id + 1
    b, a = _canonical(before or {}), _canonical(after or {})
    digest = row_hash(prev_hash, id_, ts, actor, action, target, b, a)
    conn.execute(
        "INSERT INTO audit (id, ts, actor, action, target, before, after, prev_hash, hash)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (id_, ts, actor, action, target, b, a, prev_hash, digest),
    )
    conn.execute(
        "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (_HEAD_KEY, f"{id_}:{digest}"),
    )
    return id_


@dataclass(frozen=True, slots=True)
class Verification:
    ok: bool
    rows: int
    first_bad_id: int | None = None
    reason: str = ""


def verify(conn: sqlite3.Connection) -> Verification:
    """Walk the chain from the first row; report the first row that does not hold."""
    expected_id, prev = 1, GENESIS
    count = 0
    cur = conn.execute(
        "SELECT id, ts, actor, action, target, before, after, prev_hash, hash FROM audit ORDER BY id"
    )
    while chunk := cur.fetchmany(5000):
        for id_, ts, actor, action, target, before, after, prev_hash, digest in chunk:
            if id_ != expected_id:
                return Verification(False, count, expected_id,
                                    f"row {expected_id} is missing (next row is {id_})")  # fmt: skip
            if prev_hash != prev:
                return Verification(False, count, id_, "its link to the previous row is broken")
            if row_hash(prev_hash, id_, ts, actor, action, target, before, after) != digest:
                return Verification(False, count, id_, "its content was changed after it was written")
            prev, expected_id = digest, expected_id + 1
            count += 1
    head = conn.execute("SELECT value FROM meta WHERE key = ?", (_HEAD_KEY,)).fetchone()
    if head is not None:
        head_id, _, head_hash = str(head[0]).partition(":")
        if int(head_id) != count or head_hash != prev:
            return Verification(False, count, count + 1 if int(head_id) > count else int(head_id),
                                f"the trail ends at row {count} but row {head_id} was written")  # fmt: skip
    elif count:
        return Verification(False, count, 1, "the chain's head record is missing")
    return Verification(True, count)


def rows(conn: sqlite3.Connection, target: str | None = None) -> Iterator[dict[str, Any]]:
    """Audit rows, oldest first (all of them, or one target's)."""
    sql = "SELECT id, ts, actor, action, target, before, after, hash FROM audit"
    params: tuple[Any, ...] = ()
    if target is not None:
        sql += " WHERE target = ?"
        params = (target,)
    cur = conn.execute(sql + " ORDER BY id", params)
    while chunk := cur.fetchmany(2000):
        for id_, ts, actor, action, tgt, before, after, digest in chunk:
            yield {"id": id_, "ts": ts, "actor": actor, "action": action, "target": tgt,
                   "before": json.loads(before), "after": json.loads(after), "hash": digest}  # fmt: skip
