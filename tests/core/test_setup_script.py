"""scripts/setup waits while another apt holds its locks instead of failing at once."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def fake(folder: Path, name: str, body: str) -> None:
    path = folder / name
    path.write_text("#!/usr/bin/env bash\n" + body)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


def test_setup_waits_for_another_apt(tmp_path: Path) -> None:
    (tmp_path / "scripts").mkdir()
    shutil.copy(REPO / "scripts" / "setup", tmp_path / "scripts" / "setup")
    bin_ = tmp_path / "bin"
    bin_.mkdir()
    calls = tmp_path / "apt-calls"
    fake(bin_, "dpkg-query", "exit 1\n")  # nothing installed: every package is missing
    fake(bin_, "id", 'echo 0\n')  # as root: no sudo
    # the first two updates find the lists lock taken, as while unattended-upgrades runs
    fake(bin_, "apt-get", f'echo "$*" >> {calls}\n'
         f'if [[ "$*" == *update* ]] && [ "$(grep -c update {calls})" -le 2 ]; then\n'
         '  echo "E: Could not get lock /var/lib/apt/lists/lock. It is held by process 4242" >&2; exit 100\n'
         'fi\n')  # fmt: skip
    venv = tmp_path / ".venv" / "bin"
    venv.mkdir(parents=True)
    fake(venv, "python", "exit 0\n")  # the virtualenv step is not what is tested here
    env = {**os.environ, "PATH": f"{bin_}:/usr/bin:/bin", "APT_RETRY_S": "0"}
    proc = subprocess.run(["bash", str(tmp_path / "scripts" / "setup")], capture_output=True,
                          text=True, env=env, timeout=60)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    lines = calls.read_text().splitlines()
    assert [line.split()[-2:] for line in lines[:3]] == [["update", "-qq"]] * 3
    assert "install" in lines[3] and "libegl1" in lines[3]
    assert all("DPkg::Lock::Timeout=600" in line for line in lines)  # install waits for dpkg's lock
    assert proc.stderr.count("another apt holds its lock") == 2


def test_setup_stops_on_an_apt_error_that_is_not_a_lock(tmp_path: Path) -> None:
    (tmp_path / "scripts").mkdir()
    shutil.copy(REPO / "scripts" / "setup", tmp_path / "scripts" / "setup")
    bin_ = tmp_path / "bin"
    bin_.mkdir()
    fake(bin_, "dpkg-query", "exit 1\n")
    fake(bin_, "id", "echo 0\n")
    fake(bin_, "apt-get", 'echo "E: The repository does not have a Release file." >&2; exit 100\n')
    env = {**os.environ, "PATH": f"{bin_}:/usr/bin:/bin", "APT_RETRY_S": "0"}
    proc = subprocess.run(["bash", str(tmp_path / "scripts" / "setup")], capture_output=True,
                          text=True, env=env, timeout=60)  # fmt: skip
    assert proc.returncode == 1 and "Release file" in proc.stderr
    assert "waiting" not in proc.stderr
