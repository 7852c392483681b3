"""Problems found from outside, each through the real command (the CLI as a subprocess,
loopback servers): paging that never ends, URLs that are not HTTP, stops by signal, a
source that can read nothing, a layout naming a missing topic, and smaller ones."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.peers.hostile import Hostile, HostileHandler

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def hostile() -> Iterator[Hostile]:
    with Hostile() as server:
        yield server


def env_for(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "cfg"),
           "XDG_DATA_HOME": str(tmp_path / "data"), "XDG_STATE_HOME": str(tmp_path / "state"),
           **extra}  # fmt: skip
    env.pop("WATCHFLOOR_CONFIG", None)
    return env


def watchfloor(tmp_path: Path, *args: str, timeout: float = 90, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "app", *args], capture_output=True, text=True,
                          env=env_for(tmp_path, **extra), timeout=timeout, cwd=REPO)  # fmt: skip


def write_config(tmp_path: Path, sources: str, extra: str = "") -> Path:
    cfg = tmp_path / "config.toml"
    cfg.write_text('[brand]\nname = "Lumio"\n' + extra + sources, encoding="utf-8")
    return cfg


def health(db: Path, name: str) -> tuple[str, str | None]:
    conn = sqlite3.connect(db)
    try:
        status, error = conn.execute("SELECT status, last_error FROM source_state WHERE name = ?",
                                     (name,)).fetchone()  # fmt: skip
    finally:
        conn.close()
    return str(status), error


# ── 1. a server that ignores min_id ─────────────────────────────────────────────────


def test_a_server_that_ignores_min_id_ends_the_round_and_says_so(hostile: Hostile, tmp_path: Path) -> None:
    cfg = write_config(tmp_path, f'[[sources]]\nname = "m"\ntype = "mastodon"\n'
                                 f'base_url = "{hostile.url}/same-page"\nhashtags = ["lumio"]\n')  # fmt: skip
    db = tmp_path / "w.db"
    args = ("poll", "--once", "--config", str(cfg), "--db", str(db))
    first = watchfloor(tmp_path, *args)
    assert first.returncode == 0, first.stderr
    assert "m: 40 new of 40 fetched" in first.stdout
    before = HostileHandler.same_page_hits
    second = watchfloor(tmp_path, *args, timeout=60)  # it used to read the same page for ever
    assert second.returncode == 0, second.stderr
    assert "m: 0 new of" in second.stdout
    assert HostileHandler.same_page_hits - before <= 4
    status, error = health(db, "m")
    assert status == "degraded" and error and "ignores min_id" in error
    assert "ignores min_id" in second.stdout  # the summary says the source's warning too


def test_polling_a_server_that_ignores_min_id_waits_its_interval(hostile: Hostile, tmp_path: Path) -> None:
    cfg = write_config(tmp_path, f'[[sources]]\nname = "m"\ntype = "mastodon"\n'
                                 f'base_url = "{hostile.url}/same-page"\nhashtags = ["lumio"]\n')  # fmt: skip
    args = ("--config", str(cfg), "--db", str(tmp_path / "w.db"))
    first = watchfloor(tmp_path, "poll", "--once", *args)  # the backfill: the cursor is set
    assert first.returncode == 0, first.stderr
    before = HostileHandler.same_page_hits
    proc = watchfloor(tmp_path, "poll", "--for", "3", *args)
    assert proc.returncode == 0, proc.stderr
    # a poll every 30 s: a handful of requests, not thousands
    assert HostileHandler.same_page_hits - before <= 4


def test_a_bluesky_cursor_that_repeats_stops_the_paging(hostile: Hostile, tmp_path: Path) -> None:
    cfg = write_config(tmp_path, f'[[sources]]\nname = "b"\ntype = "bluesky"\n'
                                 f'base_url = "{hostile.url}/bsky-loop"\nqueries = ["lumio"]\n'
                                 'handle = "lumio.test"\npassword_env = "WF_BSKY_PW"\n'
                                 "notifications = false\nbackfill_pages = 50\ncatch_up_pages = 50\n")  # fmt: skip
    before = HostileHandler.bsky_loop_hits
    proc = watchfloor(tmp_path, "poll", "--once", "--config", str(cfg), "--db", str(tmp_path / "w.db"),
                      WF_BSKY_PW="app-pass-loop")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "b: 50 new of 50 fetched" in proc.stdout
    assert HostileHandler.bsky_loop_hits - before <= 2  # not 50 pages of the same posts
    status, error = health(tmp_path / "w.db", "b")
    assert status == "degraded" and error and "repeated a page cursor" in error


# ── 3. a base_url that is not HTTP ──────────────────────────────────────────────────


def test_a_non_http_base_url_is_a_config_error_naming_the_key(tmp_path: Path) -> None:
    cfg = write_config(tmp_path, '[[sources]]\nname = "m"\ntype = "mastodon"\n'
                                 'base_url = "ftp://127.0.0.1:1"\nhashtags = ["lumio"]\n'
                                 '[[sources]]\nname = "f"\ntype = "rss"\nurl = "127.0.0.1/feed.xml"\n')  # fmt: skip
    poll = watchfloor(tmp_path, "poll", "--once", "--config", str(cfg), "--db", str(tmp_path / "w.db"))
    assert poll.returncode == 2
    assert f"config error in {cfg}: 2 problem(s)" in poll.stderr
    assert "sources[0].base_url: http or https expected" in poll.stderr
    assert "sources[1].url: http or https expected" in poll.stderr
    doctor = watchfloor(tmp_path, "doctor", "--headless", "--offline", "--config", str(cfg),
                        "--db", str(tmp_path / "w.db"))  # fmt: skip
    assert doctor.returncode == 1
    assert f"FAIL config {cfg}: sources[0].base_url: http or https expected" in doctor.stdout


def test_a_request_to_a_non_http_address_names_its_scheme() -> None:
    import asyncio

    import httpx

    from app.sources import http
    from app.sources.base import SourceError

    async def go() -> str:
        async with httpx.AsyncClient() as client:
            try:
                await http.request(client, "GET", "ftp://127.0.0.1:1/api/v1/timelines/tag/x?limit=40")
            except SourceError as exc:
                return exc.reason
        return "no error"

    reason = asyncio.run(go())
    assert reason.startswith("ftp://127.0.0.1:1/api/v1/timelines/tag/x: not an http or https address")
    assert "limit=40" not in reason


# ── 5. a source that can read nothing ───────────────────────────────────────────────


def test_a_mastodon_source_with_nothing_to_read_fails_and_doctor_says_so(
    hostile: Hostile, tmp_path: Path
) -> None:
    cfg = write_config(tmp_path, f'[[sources]]\nname = "m"\ntype = "mastodon"\n'
                                 f'base_url = "{hostile.url}/same-page"\n')  # fmt: skip
    before = HostileHandler.same_page_hits
    poll = watchfloor(tmp_path, "poll", "--once", "--config", str(cfg), "--db", str(tmp_path / "w.db"))
    assert poll.returncode == 1, poll.stdout + poll.stderr
    assert ("m: 0 new of 0 fetched; failed: paused: nothing to read: no hashtags or queries, "
            "and no token for notifications") in poll.stdout
    assert "every source failed (1)" in poll.stderr
    assert HostileHandler.same_page_hits == before
    doctor = watchfloor(tmp_path, "doctor", "--headless", "--offline", "--config", str(cfg),
                        "--db", str(tmp_path / "w.db"))  # fmt: skip
    assert doctor.returncode == 1
    assert "FAIL source m: nothing to read: no hashtags or queries, and no token for notifications" in doctor.stdout


def test_a_token_less_hashtag_source_is_a_note_unless_a_brand_account_lives_there(
    hostile: Hostile, tmp_path: Path
) -> None:
    host = hostile.url.removeprefix("http://").split(":")[0]
    source = (f'[[sources]]\nname = "m"\ntype = "mastodon"\n'
              f'base_url = "{hostile.url}/nosearch"\nhashtags = ["lumio"]\n')  # fmt: skip
    db = str(tmp_path / "w.db")
    layout = tmp_path / "one.toml"  # a layout naming no topic: the config here has none
    layout.write_text('[[screens]]\nname = "one"\n[[screens.scenes]]\nname = "a"\ngrid = [1, 1]\n'
                      'tiles = [{ tile = "sources", at = [0, 0] }]\n')  # fmt: skip
    wall = f'[wall]\nlayout = "{layout}"\n'
    cfg = write_config(tmp_path, source, extra=wall)
    doctor = watchfloor(tmp_path, "doctor", "--headless", "--config", str(cfg), "--db", db)
    assert "note source m: no token_env: public posts only" in doctor.stdout, doctor.stdout
    assert "FAIL" not in doctor.stdout and doctor.returncode == 0, doctor.stdout
    cfg = write_config(tmp_path, source, extra=f'accounts = ["@lumio@{host}"]\n' + wall)
    doctor = watchfloor(tmp_path, "doctor", "--headless", "--config", str(cfg), "--db", db)
    assert f"FAIL source m: no token_env: mentions of the brand (@lumio@{host}" in doctor.stdout
    assert doctor.returncode == 1


# ── 4. stopped by a signal ──────────────────────────────────────────────────────────


def stop_when_polling(hostile: Hostile, tmp_path: Path, sig: signal.Signals, *args: str) -> tuple[int, str, str]:
    """Start ``watchfloor ARGS`` polling the hostile server; send ``sig`` once it asks."""
    cfg = write_config(tmp_path, f'[[sources]]\nname = "m"\ntype = "mastodon"\n'
                                 f'base_url = "{hostile.url}/same-page"\nhashtags = ["lumio"]\n')  # fmt: skip
    HostileHandler.same_page_asked.clear()
    proc = subprocess.Popen([sys.executable, "-m", "app", *args, "--config", str(cfg),
                             "--db", str(tmp_path / "w.db")], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env_for(tmp_path), cwd=REPO)  # fmt: skip
    try:
        assert HostileHandler.same_page_asked.wait(90), "the poller never asked the server"
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    return proc.returncode, out, err


@pytest.mark.parametrize(("sig", "code", "line"), [
    (signal.SIGINT, 130, "watchfloor: interrupted after "),
    (signal.SIGTERM, 0, "watchfloor: stopped by SIGTERM after "),
])  # fmt: skip
def test_poll_stopped_by_a_signal_says_so_and_exits_accordingly(
    hostile: Hostile, tmp_path: Path, sig: signal.Signals, code: int, line: str
) -> None:
    rc, out, err = stop_when_polling(hostile, tmp_path, sig, "poll", "--for", "60")
    assert rc == code, err
    assert "m: " in out and " fetched" in out  # the per-source summary first
    last = err.strip().splitlines()[-1]
    assert last.startswith(line) and last.endswith(" s"), err


@pytest.mark.parametrize(("sig", "code", "line"), [
    (signal.SIGINT, 130, "watchfloor: interrupted after "),
    (signal.SIGTERM, 0, "watchfloor: stopped by SIGTERM after "),
])  # fmt: skip
def test_the_wall_stopped_by_a_signal_says_so_and_qt_noise_is_gone(
    hostile: Hostile, tmp_path: Path, sig: signal.Signals, code: int, line: str
) -> None:
    rc, _, err = stop_when_polling(hostile, tmp_path, sig, "wall", "--poll", "--layout", "demo")
    assert rc == code, err
    assert err.strip().splitlines()[-1].startswith(line), err
    assert "propagateSizeHints" not in err and "Traceback" not in err


# ── 8, 9. layouts: a topic that does not exist, every mistake at once ───────────────

FIVE_MISTAKES = """
[[screens]]
name = "one"
crisis_scene = "nope"
  [[screens.scenes]]
  name = "a"
  grid = [2, 2]
  tiles = [
    { tile = "feed", at = [0, 0], options = { topic = "nosuchtopic" } },
    { tile = "kpii", at = [1, 0] },
    { tile = "volume", at = [5, 5] },
    { tile = "kpi", at = [0, 1], options = { metricc = "mentions" } },
    { tile = "volume", at = [0, 0] },
  ]
"""


def layout_config(tmp_path: Path, layout: str) -> Path:
    path = tmp_path / "mine.toml"
    path.write_text(layout, encoding="utf-8")
    return write_config(tmp_path, "", extra=f'[[topics]]\nname = "lumio"\nquery = "lumio"\n'
                                             f'[wall]\nlayout = "{path}"\n')  # fmt: skip


def test_doctor_flags_a_tile_naming_a_topic_the_config_lacks(tmp_path: Path) -> None:
    layout = ('[[screens]]\nname = "one"\n[[screens.scenes]]\nname = "a"\ngrid = [2, 1]\n'
              'tiles = [{ tile = "feed", at = [0, 0], options = { topic = "nosuchtopic" } },\n'
              '         { tile = "volume", at = [1, 0], options = { topics = ["lumio", "gone"] } }]\n')  # fmt: skip
    cfg = layout_config(tmp_path, layout)
    doctor = watchfloor(tmp_path, "doctor", "--headless", "--offline", "--config", str(cfg),
                        "--db", str(tmp_path / "w.db"))  # fmt: skip
    assert doctor.returncode == 1, doctor.stdout
    where = f"FAIL layout {tmp_path / 'mine.toml'}: screens[0].scenes[0]"
    assert f"{where}.tiles[0].options.topic: no topic 'nosuchtopic' in the config" in doctor.stdout
    assert f"{where}.tiles[1].options.topics: no topic 'gone' in the config" in doctor.stdout
    assert "'lumio' in the config" not in doctor.stdout


def test_every_mistake_of_a_layout_is_reported_at_once(tmp_path: Path) -> None:
    cfg = layout_config(tmp_path, FIVE_MISTAKES)
    expected = [
        "screens[0].scenes[0]: tiles[2] (volume) at [5, 5] does not fit the 2×2 grid",
        "screens[0].scenes[0]: tiles[4] (volume) overlaps tiles[0] at column 0, row 0",
        "screens[0]: crisis_scene 'nope' is not one of its scenes",
        "screens[0].scenes[0].tiles[1].tile: unknown tile 'kpii'",
        "screens[0].scenes[0].tiles[3].options.metricc: unknown key",
    ]
    doctor = watchfloor(tmp_path, "doctor", "--headless", "--offline", "--config", str(cfg),
                        "--db", str(tmp_path / "w.db"))  # fmt: skip
    for problem in [*expected, "screens[0].scenes[0].tiles[0].options.topic: no topic 'nosuchtopic'"]:
        assert problem in doctor.stdout, doctor.stdout
    wall = watchfloor(tmp_path, "wall", "--config", str(cfg), "--db", str(tmp_path / "w.db"))
    assert wall.returncode == 2
    assert f"layout error in {tmp_path / 'mine.toml'}: 5 problem(s)" in wall.stderr
    for problem in expected:
        assert problem in wall.stderr, wall.stderr


def test_an_export_to_a_full_disk_names_the_file(tmp_path: Path) -> None:
    db = tmp_path / "w.db"
    made = watchfloor(tmp_path, "poll", "--once", "--db", str(db))
    assert made.returncode == 0, made.stderr
    proc = watchfloor(tmp_path, "export", "--db", str(db), "--out", "/dev/full")
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines()[-1] == (
        "watchfloor: /dev/full: writing failed: No space left on device")


def test_the_poll_summary_names_a_refused_next_page_link(hostile: Hostile, tmp_path: Path) -> None:
    cfg = write_config(tmp_path, f'[[sources]]\nname = "m"\ntype = "mastodon"\n'
                                 f'base_url = "{hostile.url}/foreign-link"\nhashtags = ["lumio"]\n'
                                 'page_size = 2\nnotifications = false\n')  # fmt: skip
    proc = watchfloor(tmp_path, "poll", "--once", "--config", str(cfg), "--db", str(tmp_path / "w.db"))
    assert proc.returncode == 0, proc.stderr
    line = next(x for x in proc.stdout.splitlines() if x.startswith("m: "))
    assert line.startswith("m: 2 new of 2 fetched; degraded: refused the next-page link of tag:lumio to "
                           f"{hostile.collector.url}"), line


def test_a_next_page_link_back_to_the_same_page_stops_the_backfill(hostile: Hostile, tmp_path: Path) -> None:
    cfg = write_config(tmp_path, f'[[sources]]\nname = "m"\ntype = "mastodon"\n'
                                 f'base_url = "{hostile.url}/same-link"\nhashtags = ["lumio"]\n'
                                 'page_size = 2\nbackfill_pages = 50\nnotifications = false\n')  # fmt: skip
    before = HostileHandler.same_link_hits
    proc = watchfloor(tmp_path, "poll", "--once", "--config", str(cfg), "--db", str(tmp_path / "w.db"))
    assert proc.returncode == 0, proc.stderr
    assert "m: 2 new of 2 fetched" in proc.stdout
    assert HostileHandler.same_link_hits - before == 2  # the page, and its repeat: not 50


def test_one_round_ends_after_a_page_cap_whatever_a_source_says(db_path: Path) -> None:
    """A source that always has "more" (a moving cursor, a new post each page) cannot hold
    ``poll --once``'s round open: the real poller and store writer end it after the cap."""
    import asyncio
    from datetime import UTC, datetime

    import httpx

    from app.config import Config, DemoSourceConfig
    from app.model import Mention
    from app.poller import MAX_PAGES_IN_A_ROW, Poller
    from app.sources.base import Cursor, FetchResult, Source, SourceContext
    from app.store.writer import StoreWriter

    class Endless(Source):
        type = "demo"

        async def fetch(self, client: httpx.AsyncClient, cursor: Cursor) -> FetchResult:
            n = int(cursor.get("n", 0)) + 1
            post = Mention(network="demo", native_id=str(n), source=self.name, text=f"post {n}",
                           created_at=datetime.now(UTC))  # fmt: skip
            return FetchResult(mentions=[post], cursor={"n": n}, more=True)

    config = Config.model_validate({"brand": {"name": "Lumio"}})
    source = Endless(DemoSourceConfig(name="endless", type="demo"), SourceContext())

    async def go() -> int:
        with StoreWriter(db_path, config, maintenance=False) as writer:
            poller = Poller(config, writer, sources=[source])
            await asyncio.wait_for(poller.run(once=True), timeout=60)
            return poller.runners["endless"].pages

    assert asyncio.run(go()) == MAX_PAGES_IN_A_ROW


def test_qt_messages_go_to_the_log_and_the_offscreen_noise_is_dropped(caplog: pytest.LogCaptureFixture) -> None:
    import logging

    from PySide6.QtCore import qInstallMessageHandler, qWarning

    from app.ui import qtlog

    previous = qtlog.install()
    try:
        with caplog.at_level(logging.DEBUG, logger="qt"):
            qWarning("This plugin does not support propagateSizeHints()")
            qWarning("QFont::setPointSize: Point size <= 0 (-1), must be greater than 0")
    finally:
        qInstallMessageHandler(previous)  # type: ignore[arg-type]
    said = [(r.name, r.levelno, r.getMessage()) for r in caplog.records if r.name == "qt"]
    assert said == [("qt", logging.WARNING, "QFont::setPointSize: Point size <= 0 (-1), must be greater than 0")]
