"""A post that costs minutes no more: a feed serving a 1 MB article, polled by the real
command from a loopback server, is stored cut to the maximum with its full length kept,
scored, and the command ends in its usual time (plain VADER, whose cost grows with the
square of the length, would take many minutes on it: the timeout below fails it)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from http.server import BaseHTTPRequestHandler
from pathlib import Path

from tests.peers.server import LoopbackServer

SENTENCE = "The Lumio X battery got so hot that it burned my hand, and support never answered. "
BODY = SENTENCE * (1_000_000 // len(SENTENCE))


class _Feed(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        xml = (
            '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Lumio watch</title>'
            "<item><guid>long-1</guid><title>A long story</title>"
            f"<description>{BODY}</description></item>"
            "<item><guid>short-1</guid><title>Short</title><description>Lumio X review: solid camera"
            "</description></item></channel></rss>"
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/rss+xml")
        self.send_header("Content-Length", str(len(xml)))
        self.end_headers()
        self.wfile.write(xml)

    def log_message(self, *_: object) -> None:
        pass


def test_a_one_megabyte_article_is_cut_scored_and_never_holds_ingest(tmp_path: Path) -> None:
    with LoopbackServer(_Feed) as server:
        config = tmp_path / "config.toml"
        config.write_text(
            '[brand]\nname = "Lumio"\n[[topics]]\nname = "lumio"\nquery = "lumio"\n'
            f'[[sources]]\nname = "news"\ntype = "rss"\nurl = "{server.url}/feed.xml"\n',
            encoding="utf-8",
        )
        db = tmp_path / "w.db"
        env = {k: v for k, v in os.environ.items() if k != "WATCHFLOOR_CONFIG"}
        env["XDG_DATA_HOME"] = str(tmp_path / "data")
        poll = subprocess.run(
            [sys.executable, "-m", "app", "poll", "--once", "--config", str(config), "--db", str(db)],
            capture_output=True, text=True, env=env, timeout=120,
        )  # fmt: skip
        assert poll.returncode == 0, poll.stdout + poll.stderr
    out = subprocess.run(
        [sys.executable, "-m", "app", "export", "--db", str(db), "--what", "mentions"],
        capture_output=True, text=True, env=env, timeout=120, check=True,
    )  # fmt: skip
    rows = {r["title"]: r for r in map(json.loads, out.stdout.splitlines())}
    long = rows["A long story"]
    assert long["text_length"] >= len(BODY.strip())
    assert 19_000 <= len(long["text"]) <= 20_000
    assert long["sentiment_label"] == "negative" and long["language"] == "en"
    assert rows["Short"]["text_length"] == len(rows["Short"]["text"])  # the other post, whole
