"""Launch a real Bluesky network on loopback: PostgreSQL + Redis + @atproto/dev-env.

Everything listens on 127.0.0.1 / localhost only and lives in a temporary folder.
PostgreSQL refuses to run as root, so when the tests run as root the cluster belongs to
the ``postgres`` system user that Debian's package creates.
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import pwd
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[2]
PEERS = REPO / ".peers"
DEV_ENV = PEERS / "node_modules" / "@atproto" / "dev-env" / "package.json"
SCRIPT = Path(__file__).with_name("bsky_network.js")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pg_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def missing() -> str | None:
    """Why the Bluesky peer cannot start here, or ``None`` if it can."""
    if not DEV_ENV.exists():
        return "@atproto/dev-env is not installed in .peers/ (run: bash .ci/peers.sh)"
    if shutil.which("node") is None:
        return "node is not installed"
    if pg_bin() is None:
        return "PostgreSQL is not installed (run: bash .ci/peers.sh)"
    if shutil.which("redis-server") is None:
        return "redis-server is not installed (run: bash .ci/peers.sh)"
    return None


@dataclass
class Network:
    pds: str
    appview: str
    control: str
    startup_s: float
    services_s: float

    def process_all(self) -> None:
        """Wait until the AppView has indexed every record the PDS has sequenced."""
        httpx.post(f"{self.control}/process-all", timeout=60).raise_for_status()


def _wait_port(port: int, proc: subprocess.Popen[bytes], what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not listen on port {port} within {timeout:.0f} s")


def _as_postgres() -> tuple[list[str], int | None]:
    if os.geteuid() != 0:
        return [], None
    uid = pwd.getpwnam("postgres").pw_uid
    return ["runuser", "-u", "postgres", "--"], uid


@contextlib.contextmanager
def postgres(workdir: Path) -> Iterator[str]:
    bindir = pg_bin()
    assert bindir is not None
    prefix, uid = _as_postgres()
    data = workdir / "pg"
    data.mkdir()
    if uid is not None:
        os.chown(workdir, uid, -1)
        os.chown(data, uid, -1)
    subprocess.run(
        [*prefix, str(bindir / "initdb"), "-D", str(data), "-U", "pg", "-A", "trust",
         "--no-sync", "-E", "UTF8"],
        check=True, capture_output=True,
    )  # fmt: skip
    port = free_port()
    proc = subprocess.Popen(
        [*prefix, str(bindir / "postgres"), "-D", str(data), "-p", str(port),
         "-c", "listen_addresses=127.0.0.1", "-c", f"unix_socket_directories={workdir}",
         "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
         "-c", "max_connections=200"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        _wait_port(port, proc, "postgres")
        yield f"postgresql://pg@127.0.0.1:{port}/postgres"
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextlib.contextmanager
def redis() -> Iterator[str]:
    port = free_port()
    proc = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--protected-mode", "yes"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        _wait_port(port, proc, "redis-server")
        yield f"127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(20)


@contextlib.contextmanager
def network(workdir: Path) -> Iterator[Network]:
    """PostgreSQL, Redis and the atproto network, torn down in reverse order."""
    t0 = time.monotonic()
    with postgres(workdir) as pg_url, redis() as redis_host:
        services_s = time.monotonic() - t0
        env = {
            **os.environ,
            "DB_POSTGRES_URL": pg_url,
            "REDIS_HOST": redis_host,
            "NODE_PATH": str(PEERS / "node_modules"),
            "LOG_ENABLED": "false",
            "NODE_ENV": "development",
        }
        log = (workdir / "network.log").open("wb")
        proc = subprocess.Popen(
            ["node", str(SCRIPT)], env=env, cwd=PEERS, stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=log,
        )  # fmt: skip
        try:
            assert proc.stdout is not None
            info = None
            for raw in proc.stdout:
                line = raw.decode("utf-8", "replace").strip()
                if line.startswith("{") and '"pds"' in line:
                    info = json.loads(line)
                    break
            if info is None:
                proc.wait(10)
                log.flush()
                tail = (workdir / "network.log").read_text("utf-8", "replace")[-3000:]
                raise RuntimeError(f"the atproto network did not start:\n{tail}")
            yield Network(
                pds=info["pds"], appview=info["appview"], control=info["control"],
                startup_s=time.monotonic() - t0, services_s=services_s,
            )  # fmt: skip
        finally:
            with contextlib.suppress(Exception):
                httpx.post(f"{info['control']}/shutdown", timeout=20) if info else None
            for pipe in (proc.stdin, proc.stdout):
                if pipe is not None:
                    with contextlib.suppress(OSError):
                        pipe.close()  # stdin's end also tells the network to close
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            log.close()
