"""``watchfloor export --what stories`` through the real command line, in both formats."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from app.config import Config
from app.store.writer import StoreWriter
from tests.core.test_cli import run
from tests.stories.test_detector import BURNED, CHATTER, CRASHING, ingest


def test_export_stories_one_row_a_story_with_the_mention_ids(
    tmp_path: Path, db_path: Path, demo_config: Config
) -> None:
    with StoreWriter(db_path, demo_config, maintenance=False) as w:
        ids = ingest(w, BURNED + CRASHING + CHATTER)
    proc = run(tmp_path, "export", "--what", "stories", "--db", str(db_path))
    assert proc.returncode == 0, proc.stderr
    rows = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [r["size"] for r in rows] == [len(BURNED), len(CRASHING)]
    assert [set(r["mention_ids"]) for r in rows] == [
        set(ids[: len(BURNED)]),
        set(ids[len(BURNED) : len(BURNED) + len(CRASHING)]),
    ]
    assert rows[0]["label"] in BURNED and rows[1]["label"] in CRASHING
    assert rows[0]["sentiment"]["negative"] >= 5
    assert rows[0]["first_seen"].endswith("Z") and rows[0]["networks"] == {"test": len(BURNED)}
    # the ids are those of the mentions export
    mentions = run(tmp_path, "export", "--what", "mentions", "--db", str(db_path))
    known = {json.loads(line)["id"] for line in mentions.stdout.splitlines()}
    assert {i for r in rows for i in r["mention_ids"]} <= known

    out = tmp_path / "stories.csv"
    proc = run(tmp_path, "export", "--what", "stories", "--format", "csv", "--db", str(db_path),
               "--out", str(out))  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == f"2 stories written to {out}"
    table = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert [int(r["size"]) for r in table] == [len(BURNED), len(CRASHING)]
    assert set(json.loads(table[0]["mention_ids"])) == set(ids[: len(BURNED)])


def test_export_stories_of_an_empty_store_is_a_header(tmp_path: Path, db_path: Path,
                                                      demo_config: Config) -> None:  # fmt: skip
    StoreWriter(db_path, demo_config, maintenance=False).start().close()
    out = tmp_path / "none.csv"
    proc = run(tmp_path, "export", "--what", "stories", "--format", "csv", "--db", str(db_path),
               "--out", str(out))  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert (
        out.read_text(encoding="utf-8").splitlines()[0].startswith("id,label,label_mention_id,size")
    )
