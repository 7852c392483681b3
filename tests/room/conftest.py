"""A real PostgreSQL for the room's tests: one cluster a session, one fresh database a test."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from tests.room import cluster as pg

PASSWORD_ENV = "WATCHFLOOR_TEST_ROOM_PASSWORD"
OWNER_PASSWORD_ENV = "WATCHFLOOR_TEST_ROOM_OWNER_PASSWORD"


def need_postgres() -> None:
    why = pg.missing()
    if why:
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail(f"PostgreSQL is needed for the room's tests in CI: {why}")
        pytest.skip(f"PostgreSQL unavailable: {why}")


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[pg.Cluster]:
    need_postgres()
    t0 = time.monotonic()
    with pg.cluster() as c:
        print(f"\nroom postgres: up in {time.monotonic() - t0:.1f} s on port {c.port}")
        yield c


@dataclass
class RoomDb:
    cluster: pg.Cluster
    dbname: str

    @property
    def url(self) -> str:
        return self.cluster.url(self.dbname)

    def config_text(self, *, sources: str = "", station: str = "") -> str:
        """A config with ``[room]`` for the application role (its password named)."""
        return (
            '[brand]\nname = "Lumio"\naccounts = ["@lumio"]\n\n'
            '[[topics]]\nname = "lumio"\nquery = "lumio OR #lumio OR @lumio"\n\n'
            f'[room]\nurl = "{self.url}"\npassword_env = "{PASSWORD_ENV}"\nsslmode = "disable"\n'
            + (f'station = "{station}"\n' if station else "")
            + sources
        )

    def write_config(self, path: Path, **kw: str) -> Path:
        path.write_text(self.config_text(**kw))
        return path


@pytest.fixture
def room_env(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The passwords in the environment, as IT would put them there for the service."""
    monkeypatch.setenv(PASSWORD_ENV, pg.APP_PASSWORD)
    monkeypatch.setenv(OWNER_PASSWORD_ENV, pg.OWNER_PASSWORD)
    return {**os.environ, PASSWORD_ENV: pg.APP_PASSWORD, OWNER_PASSWORD_ENV: pg.OWNER_PASSWORD}


@pytest.fixture
def room_db(pg_cluster: pg.Cluster, room_env: dict[str, str]) -> RoomDb:
    """A fresh, empty database (no schema yet) owned by the owner role."""
    return RoomDb(pg_cluster, pg_cluster.create_database())


@pytest.fixture
def room_ready(room_db: RoomDb) -> RoomDb:
    """A database with the room's schema, migrated by the owner, the app role granted."""
    from app.room.schema import grant, migrate

    with psycopg.connect(room_db.cluster.url(room_db.dbname, pg.OWNER),
                         password=pg.OWNER_PASSWORD, autocommit=True) as conn:  # fmt: skip
        migrate(conn)
        grant(conn, pg.APP)
    return room_db


DEMO_SOURCE = """
[[sources]]
name = "demo"
type = "demo"
rate_per_minute = {rate}
interval_s = 0.3
seed = 7
backfill_min = {backfill}
rhythm = false
crisis_every_min = 0
"""


def demo_source(rate: int = 6000, backfill: int = 1) -> str:
    return DEMO_SOURCE.format(rate=rate, backfill=backfill)


def wait_until(condition: Callable[[], object], timeout: float, what: str) -> None:
    """Look at ``condition`` until it holds (the waitUntil of processes), or fail saying what."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)
