"""The systemd user unit, the desktop entries and the package's file list, read as IT's
tools read them: a unit systemd would refuse or quietly "ignore" a line of is a wall that
does not come back after a hang.
"""

from __future__ import annotations

import configparser
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import REPO

LINUX = REPO / "installer" / "linux"
UNIT = LINUX / "watchfloor-wall.service"
POLL_UNIT = LINUX / "watchfloor-poll.service"


def read_ini(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(path.read_text(encoding="utf-8"))
    return parser


def test_unit_is_a_watched_notify_service_running_the_kiosk_wall() -> None:
    unit = read_ini(UNIT)
    service = unit["Service"]
    assert service["Type"] == "notify"
    assert service["NotifyAccess"] == "main"
    assert service["ExecStart"] == "/usr/bin/watchfloor wall --kiosk"
    assert service["Restart"] == "always"
    assert int(service["WatchdogSec"]) >= 10
    assert unit["Install"]["WantedBy"] == "graphical-session.target"


def test_an_installed_wall_brings_its_poller() -> None:
    """A wall alone sits on old data: the wall unit pulls in the package's poller, and
    without a systemd user manager the launcher polls in the wall process itself."""
    assert read_ini(UNIT)["Unit"]["Wants"] == "watchfloor-poll.service"
    poll = read_ini(POLL_UNIT)
    assert poll["Service"]["ExecStart"] == "/usr/bin/watchfloor poll"
    assert poll["Service"]["Restart"] == "always"
    assert poll["Unit"]["StartLimitIntervalSec"] == "0"
    build = (REPO / "installer" / "build.sh").read_text()
    assert '"$ROOT/usr/lib/systemd/user/watchfloor-poll.service"' in build
    launcher = (LINUX / "start-wall").read_text()
    runs = [line.strip() for line in launcher.splitlines() if "/usr/bin/watchfloor wall" in line]
    assert runs and all("--poll" in line for line in runs)


@pytest.mark.skipif(
    shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed"
)
@pytest.mark.parametrize("unit_file", [UNIT, POLL_UNIT], ids=lambda p: p.name)
def test_systemd_analyze_verify(tmp_path: Path, unit_file: Path) -> None:
    # verify checks that ExecStart exists: point it at a stand-in (the package test runs the real one)
    exe = tmp_path / "watchfloor"
    exe.write_text("#!/bin/sh\n")
    exe.chmod(0o755)
    for source in (UNIT, POLL_UNIT):  # side by side, as installed: the wall's Wants= resolves
        (tmp_path / source.name).write_text(source.read_text().replace("/usr/bin/watchfloor", str(exe)))
    unit = tmp_path / unit_file.name
    runtime = tmp_path / "run"
    runtime.mkdir(mode=0o700)
    env = {**os.environ, "XDG_RUNTIME_DIR": str(runtime)}
    proc = subprocess.run(
        ["systemd-analyze", "--user", "verify", "--man=no", str(unit)],
        capture_output=True, text=True, env=env, timeout=60,
    )  # fmt: skip
    # systemd-analyze exits 0 even when it "ignores" a line it cannot parse: read what it says
    said = [line for line in (proc.stdout + proc.stderr).splitlines() if unit_file.name in line]
    assert proc.returncode == 0, proc.stderr
    assert said == []


def test_desktop_entries() -> None:
    autostart = read_ini(LINUX / "watchfloor-wall.desktop")["Desktop Entry"]
    assert autostart["Exec"] == "/usr/libexec/watchfloor/start-wall"
    assert autostart["Hidden"] == "true", "off by default: a workstation must not become a wall"
    kiosk = read_ini(LINUX / "watchfloor-kiosk.desktop")["Desktop Entry"]
    assert kiosk["Exec"] == "/usr/libexec/watchfloor/start-wall --session"
    menu = read_ini(LINUX / "watchfloor.desktop")["Desktop Entry"]
    for entry in (autostart, kiosk, menu):
        assert entry["Type"] == "Application"
        assert entry["TryExec"] == "/usr/bin/watchfloor"
    validate = shutil.which("desktop-file-validate")
    if validate:
        for name in ("watchfloor-wall.desktop", "watchfloor-kiosk.desktop", "watchfloor.desktop"):
            proc = subprocess.run([validate, str(LINUX / name)], capture_output=True, text=True)
            assert proc.returncode == 0, proc.stdout + proc.stderr


def test_launcher_script_parses() -> None:
    script = LINUX / "start-wall"
    assert os.access(script, os.X_OK)
    subprocess.run(["sh", "-n", str(script)], check=True)
    if shutil.which("shellcheck"):
        subprocess.run(["shellcheck", "-s", "sh", str(script)], check=True)


def test_build_installs_every_conffile_and_keeps_user_data_on_removal() -> None:
    build = (REPO / "installer" / "build.sh").read_text()
    conffiles = (LINUX / "conffiles").read_text().split()
    assert "/etc/watchfloor/config.toml" in conffiles
    for path in conffiles:
        assert f'"$ROOT{path}"' in build, f"build.sh does not install conffile {path}"
    # no maintainer script may delete what users made (databases, logs, their config)
    assert not re.search(r"DEBIAN/(postrm|prerm)", build)
    assert not list(LINUX.glob("*rm"))


def test_launcher_hands_the_wall_to_the_systemd_user_manager(tmp_path: Path) -> None:
    """With a user manager, autostart and kiosk session start the unit (so the watchdog applies)."""
    log = tmp_path / "calls"
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "systemctl").write_text(f'#!/bin/sh\necho "$*" >> {log}\n')
    (fake / "systemctl").chmod(0o755)
    env = {"PATH": f"{fake}:/usr/bin:/bin", "DISPLAY": ":7", "XAUTHORITY": str(tmp_path / "xauth")}
    script = str(LINUX / "start-wall")
    subprocess.run(["sh", script], env=env, check=True, timeout=30)
    assert log.read_text().splitlines() == [
        "--user show-environment",
        "--user import-environment DISPLAY XAUTHORITY",
        "--user start watchfloor-wall.service",
    ]
    log.unlink()
    subprocess.run(["sh", script, "--session"], env=env, check=True, timeout=30)
    calls = log.read_text().splitlines()
    assert calls[-2:] == [
        "--user start --wait watchfloor-wall.service",
        "--user stop watchfloor-wall.service",
    ]
