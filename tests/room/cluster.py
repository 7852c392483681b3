"""A throwaway PostgreSQL cluster from the distribution's package, on a free loopback port.

initdb refuses to run as root, so as root the cluster belongs to the ``postgres`` system
user (Debian's package creates it) and lives in a directory that user owns. Two roles
are made as IT would (see docs/IT.md): an owner that migrates the schema and the
application role with only its grants; both sign in with a password over TCP.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from tests.peers.bluesky import pg_bin

OWNER = "wf_owner"
APP = "wf_app"
OWNER_PASSWORD = "owner-" + uuid.uuid4().hex
APP_PASSWORD = "app-" + uuid.uuid4().hex
SUPERUSER = "pg"


def missing() -> str | None:
    """Why a cluster cannot start here, or ``None``."""
    bindir = pg_bin()
    if bindir is None or not (bindir / "pg_ctl").exists():
        return (
            "PostgreSQL binaries not found (Debian package `postgresql`; .ci/peers.sh installs it)"
        )
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root and there is no `postgres` user to own the cluster"
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Cluster:
    bindir: Path
    workdir: Path
    port: int = field(default_factory=_free_port)

    @property
    def data(self) -> Path:
        return self.workdir / "data"

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        return subprocess.run([*prefix, *args], check=check, capture_output=True, text=True,
                              timeout=120)  # fmt: skip

    def init(self, *, roles: bool = True) -> None:
        """A new cluster, started; ``roles``: with the tests' owner and application roles."""
        pwfile = self.workdir / "pw"
        pwfile.write_text("super-" + uuid.uuid4().hex)
        if os.geteuid() == 0:
            os.chown(self.workdir, pwd.getpwnam("postgres").pw_uid, -1)
            os.chown(pwfile, pwd.getpwnam("postgres").pw_uid, -1)
        self._run(str(self.bindir / "initdb"), "-D", str(self.data), "-U", SUPERUSER,
                  "--auth-local=trust", "--auth-host=scram-sha-256", "--no-sync",
                  "--no-instructions", "-E", "UTF8", "--locale=C")  # fmt: skip
        conf = self.data / "postgresql.conf"
        with conf.open("a") as f:
            f.write(
                f"port = {self.port}\nlisten_addresses = '127.0.0.1'\n"
                f"unix_socket_directories = '{self.workdir}'\n"
                # fsync only matters for an OS crash; commits stay synchronous, so an
                # immediate stop loses nothing that was committed
                "fsync = off\nfull_page_writes = off\nshared_buffers = 32MB\n"
                "max_connections = 60\n"
            )
        self.start()
        if not roles:  # the test makes them itself (from docs/IT.md)
            return
        with self.superuser() as conn:
            conn.execute(f"CREATE ROLE {OWNER} LOGIN PASSWORD '{OWNER_PASSWORD}'")
            conn.execute(f"CREATE ROLE {APP} LOGIN PASSWORD '{APP_PASSWORD}'")

    def start(self) -> None:
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-l",
                  str(self.workdir / "log"), "-w", "-t", "60", "start")  # fmt: skip

    def stop(self, mode: str = "fast") -> None:
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop",
                  check=False)  # fmt: skip

    def superuser(self, dbname: str = "postgres") -> psycopg.Connection[tuple[object, ...]]:
        return psycopg.connect(host=str(self.workdir), port=self.port, user=SUPERUSER,
                               dbname=dbname, autocommit=True)  # fmt: skip

    def create_database(self) -> str:
        """A fresh database owned by the owner role, as docs/IT.md sets it up."""
        name = "room_" + uuid.uuid4().hex[:10]
        with self.superuser() as conn:
            conn.execute(f"CREATE DATABASE {name} OWNER {OWNER} TEMPLATE template0")
            conn.execute(f"REVOKE ALL ON DATABASE {name} FROM PUBLIC")
            conn.execute(f"GRANT CONNECT ON DATABASE {name} TO {APP}")
        return name

    def url(self, dbname: str, user: str = APP) -> str:
        return f"postgresql://{user}@127.0.0.1:{self.port}/{dbname}"


@contextlib.contextmanager
def cluster(*, roles: bool = True) -> Iterator[Cluster]:
    bindir = pg_bin()
    assert bindir is not None
    workdir = Path(tempfile.mkdtemp(prefix="watchfloor-room-pg-"))
    c = Cluster(bindir=bindir, workdir=workdir)
    try:
        c.init(roles=roles)
        yield c
    finally:
        c.stop("immediate")
        shutil.rmtree(workdir, ignore_errors=True)
