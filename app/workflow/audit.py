"""The audit trail: append-only rows, hash-chained, signed with a key kept outside the database.

Each row's hash covers its content and the previous hash, so a changed or deleted row
breaks the chain. A chain alone proves nothing to someone who can rewrite the whole file
and re-chain it, so it is anchored outside the database in two ways:

- every row, and the head kept in ``meta``, carries an HMAC-SHA256 made with the *audit
  key* (a file only the service account reads, or a keyring entry): without the key no
  one can append a row, re-chain a rewritten one or move the head after cutting the tail;
- checkpoints of the head (row id, hash, time, signed with the key) are written by
  :mod:`app.workflow.anchor` to a file operators cannot write and to the system journal:
  a copy of the database restored from before a checkpoint, or a tail cut back, shows.

:func:`verify` checks all of it with the key and checkpoints it was configured with (or
the chain alone where the key is not available, saying so). Triggers refuse UPDATE and
DELETE for programs that go through SQLite; :func:`verify` catches what bypasses them.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

GENESIS = "0" * 64
_HEAD_KEY = "audit_head"


@dataclass(slots=True)
class _Anchor:
    key: bytes | None = None
    checkpoints: Path | None = None


#: set once at start-up from the config (:func:`app.workflow.anchor.configure`)
_ANCHOR = _Anchor()


def configure(key: bytes | None, checkpoints: Path | None) -> None:
    """The key rows are signed with, and the checkpoint file :func:`verify` reads."""
    _ANCHOR.key, _ANCHOR.checkpoints = key, checkpoints


def signing_key() -> bytes | None:
    return _ANCHOR.key


def checkpoint_path() -> Path | None:
    return _ANCHOR.checkpoints


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def row_hash(prev_hash: str, id_: int, ts: float, actor: str, action: str, target: str,
             before: str, after: str) -> str:  # fmt: skip
    payload = _canonical([prev_hash, id_, repr(ts), actor, action, target, before, after])
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def mac(key: bytes, message: str) -> str:
    return hmac.new(key, message.encode("utf-8"), hashlib.sha256).hexdigest()


def _row_mac(key: bytes, digest: str) -> str:
    return mac(key, f"row:{digest}")


def _head_mac(key: bytes, id_: int, digest: str) -> str:
    return mac(key, f"head:{id_}:{digest}")


def checkpoint_mac(key: bytes, id_: int, digest: str, ts: float) -> str:
    return mac(key, f"checkpoint:{id_}:{digest}:{ts!r}")


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
    key = _ANCHOR.key
    conn.execute(
        "INSERT INTO audit (id, ts, actor, action, target, before, after, prev_hash, hash, mac)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (id_, ts, actor, action, target, b, a, prev_hash, digest, _row_mac(key, digest) if key else None),
    )
    head = f"{id_}:{digest}" + (f":{_head_mac(key, id_, digest)}" if key else "")
    conn.execute(
        "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (_HEAD_KEY, head),
    )
    return id_


@dataclass(frozen=True, slots=True)
class Checkpoint:
    id: int
    hash: str
    ts: float
    mac: str
    line: int = 0


def read_checkpoints(path: Path) -> tuple[list[Checkpoint], list[str]]:
    """The checkpoints in ``path`` (JSON lines), and the lines that are not checkpoints."""
    found: list[Checkpoint] = []
    problems: list[str] = []
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return [], []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            found.append(Checkpoint(int(data["id"]), str(data["hash"]), float(data["ts"]),
                                    str(data["mac"]), n))  # fmt: skip
        except (ValueError, KeyError, TypeError):
            problems.append(f"{path} line {n} is not a checkpoint")
    return found, problems


@dataclass(frozen=True, slots=True)
class Verification:
    ok: bool
    rows: int
    first_bad_id: int | None = None
    reason: str = ""
    #: rows and head were checked against the audit key (False: the chain alone)
    keyed: bool = False
    #: the newest checkpoint that holds: (row id, time), and how many rows came after it
    anchored: tuple[int, float] | None = None
    since_anchor: int = 0
    #: rows written before the key was set up (signed by nothing but the chain)
    unsigned: int = 0
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """One line for ``audit verify`` and ``doctor``."""
        if not self.ok:
            return f"audit trail broken at row {self.first_bad_id}: {self.reason}"
        parts = [f"audit trail intact ({self.rows} rows)"]
        if not self.keyed:
            parts.append("chain only: the audit key is not readable here, so a rewritten and"
                         " re-chained copy would pass")  # fmt: skip
        elif self.unsigned:
            parts.append(f"rows 1-{self.unsigned} predate the audit key")
        if self.anchored is not None:
            at = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(self.anchored[1]))
            parts.append(f"last anchored at row {self.anchored[0]} ({at});"
                         f" {self.since_anchor} rows since, {'signed and ' if self.keyed else ''}chained")  # fmt: skip
        else:
            parts.append("no checkpoint yet")
        return "; ".join(parts + self.notes)


def verify(conn: sqlite3.Connection, *, key: bytes | None = None,
           checkpoints: Path | None = None) -> Verification:  # fmt: skip
    """Walk the chain from the first row; report the first row that does not hold.

    ``key`` and ``checkpoints`` default to what the program was configured with."""
    key = key if key is not None else _ANCHOR.key
    checkpoints = checkpoints if checkpoints is not None else _ANCHOR.checkpoints
    expected_id, prev = 1, GENESIS
    count, unsigned, signed_seen = 0, 0, False

    def bad(id_: int, reason: str) -> Verification:
        return Verification(False, count, id_, reason, keyed=key is not None)

    cur = conn.execute("SELECT id, ts, actor, action, target, before, after, prev_hash, hash, mac"
                       " FROM audit ORDER BY id")  # fmt: skip
    while chunk := cur.fetchmany(5000):
        for id_, ts, actor, action, target, before, after, prev_hash, digest, row_mac in chunk:
            if id_ != expected_id:
                return bad(expected_id, f"row {expected_id} is missing (next row is {id_})")
            if prev_hash != prev:
                return bad(id_, "its link to the previous row is broken")
            if row_hash(prev_hash, id_, ts, actor, action, target, before, after) != digest:
                return bad(id_, "its content was changed after it was written")
            if key is not None:
                if row_mac is None:
                    if signed_seen:
                        return bad(id_, "it carries no signature: it was not written by watchfloor"
                                        " with the audit key (added or re-chained by hand)")  # fmt: skip
                    unsigned += 1
                elif not hmac.compare_digest(str(row_mac), _row_mac(key, digest)):
                    return bad(id_, "its signature does not match: it was forged or re-chained"
                                    " without the audit key")  # fmt: skip
                else:
                    signed_seen = True
            prev, expected_id = digest, expected_id + 1
            count += 1
    head = conn.execute("SELECT value FROM meta WHERE key = ?", (_HEAD_KEY,)).fetchone()
    if head is not None:
        head_id_text, head_hash, head_mac = ([*str(head[0]).split(":"), ""])[:3]
        head_id = int(head_id_text)
        if head_id != count or head_hash != prev:
            return bad(count + 1 if head_id > count else head_id,
                       f"the trail ends at row {count} but row {head_id} was written")  # fmt: skip
        if key is not None and signed_seen and not hmac.compare_digest(head_mac, _head_mac(key, head_id, head_hash)):
            return bad(head_id, "the chain's head is not signed with the audit key (the tail"
                                " was cut or rows were added by hand)")  # fmt: skip
    elif count:
        return bad(1, "the chain's head record is missing")
    anchored, notes = None, []
    if checkpoints is not None:
        found, problems = read_checkpoints(checkpoints)
        notes += problems
        for cp in found:
            if key is not None and not hmac.compare_digest(cp.mac, checkpoint_mac(key, cp.id, cp.hash, cp.ts)):
                return bad(cp.id, f"the checkpoint on line {cp.line} of {checkpoints} is not signed"
                                  " with the audit key (forged)")  # fmt: skip
            at = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(cp.ts))
            if cp.id > count:
                return bad(count + 1, f"row {cp.id} was anchored at {at} but the trail ends at row"
                                      f" {count} (the tail was cut, or an older copy restored)")  # fmt: skip
            row = conn.execute("SELECT hash FROM audit WHERE id = ?", (cp.id,)).fetchone()
            if row is None or row[0] != cp.hash:
                return bad(cp.id, f"it differs from its checkpoint of {at} (rewritten)")
            if anchored is None or cp.id >= anchored[0]:
                anchored = (cp.id, cp.ts)
    return Verification(True, count, keyed=key is not None, anchored=anchored,
                        since_anchor=count - anchored[0] if anchored else count,
                        unsigned=unsigned, notes=notes)  # fmt: skip


def head(conn: sqlite3.Connection) -> tuple[int, str] | None:
    """The last row's id and hash."""
    row = conn.execute("SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1").fetchone()
    return (int(row[0]), str(row[1])) if row else None


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
