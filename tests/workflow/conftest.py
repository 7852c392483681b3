"""A database with queued items and one user of each role, written the way the program writes."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.resources import templates_path
from app.store.db import open_writer, transaction
from app.workflow import audit
from app.workflow.service import QueueWorkflow, Rules
from app.workflow.templates import load_templates
from app.workflow.users import add_user, hash_password

PASSWORD = "correct horse battery"
#: hashed once: scrypt at its real cost takes most of a second, and every test adds users
PASSWORD_HASH = hash_password(PASSWORD)


def queue_items(conn: sqlite3.Connection, n: int, *, topics: tuple[str, ...] = ("lumio",),
                network: str = "demo", source: str = "demo", start: int = 0) -> list[str]:  # fmt: skip
    """Insert ``n`` mentions that need a response, with their queue rows."""
    now = time.time()
    ids = []
    with transaction(conn):
        for i in range(start, start + n):
            mid = f"{network}:{i}"
            conn.execute(
                "INSERT INTO mentions (id, network, source, author, author_name, text, ts, fetched_ts,"
                " sentiment, topics, needs_response, priority, reasons, reply_ref)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, '[]', ?)",
                (mid, network, source, f"@user{i}", f"User {i}", f"@lumio help please #{i}",
                 now - 60, now, -0.6, json.dumps(list(topics)), 1 + i % 4,
                 json.dumps({"demo_id": str(i)})),
            )  # fmt: skip
            conn.execute(
                "INSERT INTO queue (mention_id, priority, queued_ts, updated_ts, reasons)"
                " VALUES (?, ?, ?, ?, '[]')",
                (mid, 1 + i % 4, now - 60 + i * 0.001, now),
            )
            ids.append(mid)
    return ids


@pytest.fixture(autouse=True)
def unsigned_here() -> Iterator[None]:
    """No audit key in this process unless a test sets one: an earlier test that ran the
    real ``main()`` in-process (the fuzzer) must not sign these tests' rows with its key."""
    audit.configure(None, None)
    yield
    audit.configure(None, None)


@pytest.fixture
def conn(db_path: Path) -> Iterator[sqlite3.Connection]:
    c = open_writer(db_path)
    with transaction(c):
        add_user(c, "olga", "operator", PASSWORD, password_hash=PASSWORD_HASH)
        add_user(c, "omar", "operator", PASSWORD, password_hash=PASSWORD_HASH)
        add_user(c, "sam", "operator", PASSWORD, send_unapproved=True, password_hash=PASSWORD_HASH)
        add_user(c, "ada", "approver", PASSWORD, password_hash=PASSWORD_HASH)
        add_user(c, "spoke", "approver", PASSWORD, spokesperson=True, password_hash=PASSWORD_HASH)
        add_user(c, "root", "admin", PASSWORD, password_hash=PASSWORD_HASH)
        add_user(c, "vic", "viewer", PASSWORD, password_hash=PASSWORD_HASH)
    yield c
    c.close()


@pytest.fixture
def wf() -> QueueWorkflow:
    return QueueWorkflow(Rules(brand="Lumio", templates=load_templates(templates_path())))


class Tx:
    """Run workflow calls the way the store writer does: each in its own BEGIN IMMEDIATE."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def __call__(self, fn, *args, **kw):  # type: ignore[no-untyped-def]
        with transaction(self.conn):
            return fn(self.conn, *args, **kw)


@pytest.fixture
def tx(conn: sqlite3.Connection) -> Tx:
    return Tx(conn)
