"""Bad input to the real commands ends in one clear line and a truthful exit code."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

CONFIG = """
[brand]
name = "Lumio"
[[sources]]
name = "demo"
type = "demo"
backfill_min = 60
seed = 2
rhythm = false  # a flat rate: what is counted does not hang on the hour the test runs
"""


def run(tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp / "cfg"), "XDG_DATA_HOME": str(tmp / "data"),
           "XDG_STATE_HOME": str(tmp / "state"), "WATCHFLOOR_CONFIG": str(tmp / "config.toml")}  # fmt: skip
    return subprocess.run([sys.executable, "-m", "app", *args], capture_output=True, text=True,
                          env=env, timeout=120, cwd=tmp)  # fmt: skip


def one_clear_line(proc: subprocess.CompletedProcess[str], code: int, *said: str) -> None:
    text = proc.stdout + proc.stderr
    assert "Traceback" not in text and "internal error" not in text, text
    assert proc.returncode == code, text
    for words in said:
        assert words in proc.stderr, proc.stderr


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("clierr")
    (tmp / "config.toml").write_text(CONFIG)
    proc = run(tmp, "poll", "--once", "--db", str(tmp / "w.db"))
    assert proc.returncode == 0, proc.stderr
    return tmp


def test_poll_once_says_what_it_stored_per_source(home: Path) -> None:
    proc = run(home, "poll", "--once", "--db", str(home / "again.db"))
    assert proc.returncode == 0, proc.stderr
    (line,) = proc.stdout.splitlines()
    name, _, counts = line.partition(": ")
    assert name == "demo" and counts.endswith(" fetched") and int(counts.split()[0]) > 1000
    stored = sqlite3.connect(home / "again.db").execute("SELECT count(*) FROM mentions").fetchone()[0]
    assert counts.split()[0] == str(stored)  # the line tells what the store holds


def test_poll_once_fails_when_every_source_failed(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text(
        '[brand]\nname = "X"\n[[sources]]\nname = "news"\ntype = "rss"\n'
        'url = "http://127.0.0.1:9/feed.xml"\ntimeout_s = 2\n'
        '[[sources]]\nname = "press"\ntype = "rss"\nurl = "http://127.0.0.1:9/press.xml"\ntimeout_s = 2\n'
    )
    proc = run(tmp_path, "poll", "--once", "--db", str(tmp_path / "p.db"))
    one_clear_line(proc, 1, "every source failed")
    assert sorted(line.split(":")[0] for line in proc.stdout.splitlines()) == ["news", "press"]
    assert all("failed: cannot connect" in line for line in proc.stdout.splitlines())


def test_a_bad_layout_for_snapshot(home: Path) -> None:
    bad = home / "bad.toml"
    bad.write_text('[[screens]]\nname = "a"\n[[screens.scenes]]\nname = "s"\ngrid = [1, 1]\n'
                   'tiles = [{ tile = "no-such-tile", at = [0, 0] }]\n')  # fmt: skip
    proc = run(home, "snapshot", "--db", str(home / "w.db"), "--out", str(home / "o"), "--layout", str(bad))
    one_clear_line(proc, 2, f"layout error in {bad}", "unknown tile 'no-such-tile'")
    proc = run(home, "snapshot", "--db", str(home / "w.db"), "--out", str(home / "o"), "--scene", "nope")
    one_clear_line(proc, 2, "no screen has a scene named 'nope'")


def test_odd_out_paths(home: Path) -> None:
    db = str(home / "w.db")
    afile = home / "afile"
    afile.write_text("x")
    one_clear_line(run(home, "snapshot", "--db", db, "--out", str(afile)), 2, "is a file, not a folder")
    one_clear_line(run(home, "snapshot", "--db", db, "--out", str(afile / "sub")), 2,
                   "cannot make the folder")  # fmt: skip
    one_clear_line(run(home, "snapshot", "--db", db, "--out", ""), 2, "is not a usable path")
    one_clear_line(run(home, "export", "--db", db, "--out", str(home)), 2, "is a folder; name a file")
    one_clear_line(run(home, "export", "--db", db, "--out", str(home / "none" / "m.jsonl")), 2,
                   "does not exist")  # fmt: skip
    one_clear_line(run(home, "export", "--db", ""), 2, "--db '' is not a usable path")
    for seconds in ("nan", "-5", "inf"):
        one_clear_line(run(home, "poll", "--for", seconds, "--db", db), 2, "a number above 0")


def test_export_into_a_pipe_that_closes_early(home: Path) -> None:
    """`watchfloor export | head -1`: the reader had enough; no traceback, SIGPIPE's code."""
    env = {**os.environ, "WATCHFLOOR_CONFIG": str(home / "config.toml"), "XDG_STATE_HOME": str(home / "state")}
    proc = subprocess.Popen([sys.executable, "-m", "app", "export", "--db", str(home / "w.db")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=home)  # fmt: skip
    assert proc.stdout is not None and proc.stderr is not None
    first = proc.stdout.readline()
    proc.stdout.close()
    err = proc.stderr.read().decode()
    proc.stderr.close()
    assert proc.wait(timeout=60) == 141, err
    assert first.startswith(b'{"id": "demo:')
    assert "Traceback" not in err and "broken pipe" in err


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("\ufeff" + CONFIG, "byte-order mark"),
        ("a = " + "[" * 3000 + "]" * 3000, "nested too deeply"),
        ("[brand]\nname = 'x'\n[sla]\np1_min = " + "9" * 5000, "a value cannot be read"),
        ("[brand]\nname = '" + "n" * 10_000 + "'", "brand.name: String should have at most 200 characters"),
    ],
    ids=["bom", "deep", "bigint", "long"],
)
def test_config_files_a_parser_chokes_on(tmp_path: Path, text: str, said: str) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text(text, encoding="utf-8")
    proc = run(tmp_path, "poll", "--once", "--config", str(cfg), "--db", str(tmp_path / "x.db"))
    one_clear_line(proc, 2, f"config error in {cfg}", said)
    assert max(len(line) for line in proc.stderr.splitlines()) < 300  # long values are cut
    assert not (tmp_path / "x.db").exists()
