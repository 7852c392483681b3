"""installer/build.sh end to end: the Debian package it builds works with nothing of ours around.

The package is unpacked with ``dpkg-deb -x`` into a scratch root (no root rights, no
apt), and its binary runs with a bare environment: no virtualenv, no PYTHONPATH, PATH
only /usr/bin:/bin, the working folder outside the repository. The figures (bundle
size, package size, build time) are printed for the CI log.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import REPO


@dataclass
class Built:
    deb: Path
    root: Path
    build_s: float
    bundle_mb: float
    deb_mb: float
    log: str


def folder_mb(path: Path) -> float:
    total = sum(p.lstat().st_size for p in path.rglob("*") if p.is_file() or p.is_symlink())
    return total / 1024 / 1024


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    if shutil.which("dpkg-deb") is None:
        pytest.skip("dpkg-deb is not installed: the Debian package cannot be built here")
    env = {**os.environ, "PYTHON": sys.executable}
    started = time.monotonic()
    proc = subprocess.run(
        ["bash", str(REPO / "installer" / "build.sh")],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=1800,
    )  # fmt: skip
    build_s = time.monotonic() - started
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    debs = sorted((REPO / "dist").glob("watchfloor_*.deb"), key=lambda p: p.stat().st_mtime)
    assert debs, proc.stdout
    deb = debs[-1]
    root = tmp_path_factory.mktemp("root")
    subprocess.run(["dpkg-deb", "-x", str(deb), str(root)], check=True)
    yield Built(
        deb=deb, root=root, build_s=build_s, bundle_mb=folder_mb(root / "opt" / "watchfloor"),
        deb_mb=deb.stat().st_size / 1024 / 1024, log=proc.stdout,
    )  # fmt: skip


def clean_env(home: Path, **extra: str) -> dict[str, str]:
    """A bare environment: nothing of our Python installation can be found through it."""
    return {
        "PATH": "/usr/bin:/bin", "HOME": str(home), "LANG": "C.UTF-8",
        "XDG_CONFIG_HOME": str(home / ".config"), "XDG_DATA_HOME": str(home / ".local/share"),
        "XDG_STATE_HOME": str(home / ".local/state"), "XDG_CACHE_HOME": str(home / ".cache"),
        **extra,
    }  # fmt: skip


def run(
    built: Built, home: Path, *args: str, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    home.mkdir(exist_ok=True)
    return subprocess.run(
        [str(built.root / "usr" / "bin" / "watchfloor"), *args],
        cwd=home, env=clean_env(home, QT_QPA_PLATFORM="offscreen"),
        capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip


@pytest.mark.slow
def test_figures(built: Built, capsys: pytest.CaptureFixture[str]) -> None:
    with capsys.disabled():
        print(
            f"\n[package] bundle {built.bundle_mb:.0f} MB, {built.deb.name} {built.deb_mb:.1f} MB, "
            f"build {built.build_s:.0f} s"
        )
    assert built.deb_mb < built.bundle_mb


@pytest.mark.slow
def test_package_layout(built: Built) -> None:
    root = built.root
    assert (root / "opt/watchfloor/watchfloor").is_file()
    assert os.readlink(root / "usr/bin/watchfloor") == "../../opt/watchfloor/watchfloor"
    for path in (
        "etc/watchfloor/config.toml",
        "usr/lib/systemd/user/watchfloor-wall.service",
        "usr/lib/systemd/user/watchfloor-poll.service",
        "etc/xdg/autostart/watchfloor-wall.desktop",
        "usr/share/xsessions/watchfloor-kiosk.desktop",
        "usr/libexec/watchfloor/start-wall",
        "usr/share/doc/watchfloor/copyright",
    ):
        assert (root / path).is_file(), path
    platforms = root / "opt/watchfloor/_internal/PySide6/Qt/plugins/platforms"
    assert sorted(p.name for p in platforms.iterdir()) == ["libqoffscreen.so", "libqxcb.so"]
    internal = root / "opt/watchfloor/_internal"
    for unwanted in ("tkinter", "PySide6/QtQml.abi3.so", "PySide6/QtWebEngineCore.abi3.so",
                     "pyqtgraph/opengl", "pyqtgraph/jupyter", "PySide6/Qt/translations"):  # fmt: skip
        assert not (internal / unwanted).exists(), unwanted
    control = subprocess.run(["dpkg-deb", "-f", str(built.deb)], capture_output=True, text=True,
                             check=True).stdout  # fmt: skip
    assert "Package: watchfloor" in control
    for dep in ("libxcb-cursor0", "libxkbcommon-x11-0", "libfontconfig1", "libegl1", "libc6 (>= "):
        assert dep in control, dep
    listing = subprocess.run(["dpkg-deb", "-I", str(built.deb)], capture_output=True, text=True,
                             check=True).stdout  # fmt: skip
    assert "conffiles" in listing and "postrm" not in listing and "prerm" not in listing
    with subprocess.Popen(
        ["dpkg-deb", "--ctrl-tarfile", str(built.deb)], stdout=subprocess.PIPE
    ) as ctrl:
        names = subprocess.run(
            ["tar", "-t"], stdin=ctrl.stdout, capture_output=True, text=True
        ).stdout
    assert "./conffiles" in names.split()


@pytest.mark.slow
def test_unpacked_binary_runs_without_our_python(built: Built, tmp_path: Path) -> None:
    home = tmp_path / "home"
    version = run(built, home, "--version")
    assert version.returncode == 0, version.stderr
    assert version.stdout.startswith("watchfloor ")

    db = tmp_path / "demo.db"
    poll = run(built, home, "poll", "--for", "5", "--db", str(db))
    assert poll.returncode == 0, poll.stderr
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        (mentions,) = conn.execute("SELECT count(*) FROM mentions").fetchone()
    finally:
        conn.close()
    assert mentions > 0, "the demo source fills the database from the bundle"

    out = tmp_path / "snapshots"
    snap = run(built, home, "snapshot", "--out", str(out), "--db", str(db))
    assert snap.returncode == 0, snap.stderr
    pngs = sorted(out.glob("*.png"))
    assert pngs, snap.stdout + snap.stderr
    for png in pngs:
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert png.stat().st_size > 20_000, f"{png.name} looks empty"
    assert "Traceback" not in poll.stderr + snap.stderr

    # the shipped demo and layouts are found inside the bundle; doctor's Qt check re-executes it
    doctor = run(built, home, "doctor", "--offline", "--db", str(db))
    assert doctor.returncode == 0, doctor.stdout + doctor.stderr
    assert "Qt platform 'offscreen' loads" in doctor.stdout


@pytest.mark.slow
@pytest.mark.skipif(
    shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed"
)
def test_packaged_unit_verifies_against_the_packaged_binary(built: Built, tmp_path: Path) -> None:
    unit = tmp_path / "watchfloor-wall.service"
    text = (built.root / "usr/lib/systemd/user/watchfloor-wall.service").read_text()
    unit.write_text(text.replace("/usr/bin/watchfloor", str(built.root / "usr/bin/watchfloor")))
    runtime = tmp_path / "run"
    runtime.mkdir(mode=0o700)
    proc = subprocess.run(
        ["systemd-analyze", "--user", "verify", "--man=no", str(unit)],
        capture_output=True, text=True, timeout=60, env={**os.environ, "XDG_RUNTIME_DIR": str(runtime)},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert [line for line in (proc.stdout + proc.stderr).splitlines() if unit.name in line] == []


@pytest.mark.slow
@pytest.mark.skipif(
    shutil.which("Xvfb") is None, reason="Xvfb is not installed (Debian package xvfb)"
)
def test_unpacked_binary_opens_a_real_x_display(built: Built, tmp_path: Path) -> None:
    """The xcb platform plugin and the libraries it needs load against an X server."""
    xvfb = subprocess.Popen(
        ["Xvfb", "-displayfd", "1", "-screen", "0", "1920x1080x24", "-nolisten", "tcp"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    try:
        assert xvfb.stdout is not None
        display = xvfb.stdout.readline().strip()
        assert display.isdigit(), "Xvfb did not report its display"
        home = tmp_path / "home"
        home.mkdir()
        env = clean_env(home, DISPLAY=f":{display}")
        doctor = subprocess.run(
            [str(built.root / "usr/bin/watchfloor"), "doctor", "--offline", "--db", str(tmp_path / "x.db")],
            cwd=home, env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
    finally:
        xvfb.terminate()
        xvfb.communicate(timeout=30)
    assert doctor.returncode == 0, doctor.stdout + doctor.stderr
    assert "Qt platform 'xcb' loads, 1 screen(s)" in doctor.stdout
    assert "1920x1080" in doctor.stdout
