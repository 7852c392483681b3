"""The systemd watchdog: a socket stands in for systemd's NOTIFY_SOCKET.

A wall whose GUI thread hangs must stop pinging (so systemd restarts it) even though the
process is still there; that is proved with the module's test hook, which makes the GUI
thread sleep forever after a few seconds.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication

from app.ui import watchdog


def test_socket_address_abstract_and_path() -> None:
    assert watchdog.socket_address("@systemd/notify") == b"\0systemd/notify"
    assert (
        watchdog.socket_address("/run/user/1000/systemd/notify") == "/run/user/1000/systemd/notify"
    )


def test_ping_interval_is_half_the_watchdog_timeout() -> None:
    assert watchdog.ping_interval_s("30000000", None) == 15.0
    assert watchdog.ping_interval_s("1000000", str(os.getpid())) == 0.5
    assert watchdog.ping_interval_s(None, None) == watchdog.DEFAULT_INTERVAL_S
    assert watchdog.ping_interval_s("nonsense", None) == watchdog.DEFAULT_INTERVAL_S
    # the variables were meant for another process (we are a child of the unit's main one)
    assert watchdog.ping_interval_s("1000000", str(os.getpid() + 1)) == watchdog.DEFAULT_INTERVAL_S


@pytest.fixture
def listener(tmp_path: Path) -> Iterator[tuple[socket.socket, str]]:
    """A datagram socket bound where systemd's would be: an abstract name."""
    name = f"@watchfloor-test-{uuid.uuid4().hex}"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(watchdog.socket_address(name))
    sock.settimeout(0.2)
    try:
        yield sock, name
    finally:
        sock.close()


def receive(sock: socket.socket, seconds: float) -> list[tuple[float, str]]:
    """Every message that arrives within ``seconds``, with its arrival time."""
    out: list[tuple[float, str]] = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            data = sock.recv(4096)
        except TimeoutError:
            continue
        out.append((time.monotonic(), data.decode()))
    return out


def receive_until(sock: socket.socket, line: str, seconds: float) -> list[tuple[float, str]]:
    out: list[tuple[float, str]] = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            data = sock.recv(4096)
        except TimeoutError:
            continue
        out.append((time.monotonic(), data.decode()))
        if line in data.decode().splitlines():
            break
    return out


def lines(messages: list[tuple[float, str]]) -> list[str]:
    return [line for _, text in messages for line in text.splitlines()]


def test_in_process_ready_pings_and_stopping(
    qapp: QApplication, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A filesystem-path socket this time; the object lives on the app and stops once."""
    path = tmp_path / "notify"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    sock.settimeout(0.2)
    monkeypatch.setenv("NOTIFY_SOCKET", str(path))
    monkeypatch.setenv("WATCHDOG_USEC", "200000")
    monkeypatch.setenv("WATCHDOG_PID", str(os.getpid()))
    monkeypatch.delenv(watchdog.FREEZE_HOOK, raising=False)
    dog = watchdog.start_watchdog(qapp)
    try:
        assert dog is not None
        assert dog.parent() is qapp
        assert "NOTIFY_SOCKET" not in os.environ, "children must not speak for the service"
        end = time.monotonic() + 3
        got: list[str] = []
        while time.monotonic() < end and got.count("WATCHDOG=1") < 3:
            qapp.processEvents()
            time.sleep(0.02)
            with contextlib.suppress(TimeoutError):
                got += sock.recv(4096).decode().splitlines()
        assert got[0] == "READY=1"
        assert got.count("READY=1") == 1
        assert got.count("WATCHDOG=1") >= 3
        dog.stop()
        dog.stop()
        after = lines(receive(sock, 0.5))
        assert after[-1:] == ["STOPPING=1"] and after.count("STOPPING=1") == 1, after
    finally:
        if dog is not None:
            dog.stop()
            dog.setParent(None)
            dog.deleteLater()
        sock.close()


def test_without_notify_socket_nothing_starts(
    qapp: QApplication, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    assert watchdog.start_watchdog(qapp) is None


def wall_env(tmp_path: Path, notify: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != watchdog.FREEZE_HOOK}
    env.update({
        "QT_QPA_PLATFORM": "offscreen", "NOTIFY_SOCKET": notify, "WATCHDOG_USEC": "1000000",
        "XDG_CONFIG_HOME": str(tmp_path / "cfg"), "XDG_STATE_HOME": str(tmp_path / "state"),
        "XDG_DATA_HOME": str(tmp_path / "data"), **extra,
    })  # fmt: skip
    env.pop("WATCHDOG_PID", None)  # systemd sets it to the main PID; unset means "for us"
    return env


def start_wall(tmp_path: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "app", "wall", "--layout", "demo", "--db", str(tmp_path / "w.db")],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip


def stop(proc: subprocess.Popen[str]) -> str:
    if proc.poll() is None:
        proc.kill()
    _, err = proc.communicate(timeout=30)
    return err


@pytest.mark.slow
def test_wall_pings_while_rendering_and_stops_when_its_gui_thread_hangs(
    tmp_path: Path, listener: tuple[socket.socket, str]
) -> None:
    sock, name = listener
    freeze_after = 3.0
    proc = start_wall(
        tmp_path, wall_env(tmp_path, name, **{watchdog.FREEZE_HOOK: str(freeze_after)})
    )
    try:
        first = receive_until(sock, "READY=1", 60)
        assert "READY=1" in lines(first), (first, proc.poll())
        ready_at = next(t for t, text in first if "READY=1" in text.splitlines())
        alive = receive(sock, freeze_after - 0.7)
        pings = [t for t, text in alive if text == "WATCHDOG=1"]
        assert len(pings) >= 3, f"WATCHDOG=1 every 0.5 s while the wall runs, got {alive}"
        receive(sock, 1.5)  # the hang begins freeze_after seconds after READY=1
        silent = receive(sock, 3.0)
        assert time.monotonic() - ready_at > freeze_after + 3
        assert silent == [], f"a hung GUI thread must not ping: {silent}"
        assert proc.poll() is None, "the process is still there: only the watchdog can tell"
    finally:
        err = stop(proc)
    assert "Traceback" not in err, err


@pytest.mark.slow
def test_wall_says_stopping_on_sigterm(tmp_path: Path) -> None:
    path = tmp_path / "notify"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    sock.settimeout(0.2)
    proc = start_wall(tmp_path, wall_env(tmp_path, str(path)))
    try:
        assert "READY=1" in lines(receive_until(sock, "READY=1", 60)), proc.poll()
        assert "WATCHDOG=1" in lines(receive(sock, 1.2))
        proc.send_signal(signal.SIGTERM)
        assert "STOPPING=1" in lines(receive_until(sock, "STOPPING=1", 30))
        proc.wait(timeout=30)
    finally:
        err = stop(proc)
        sock.close()
    assert proc.returncode == 0, err
    assert "Traceback" not in err, err
