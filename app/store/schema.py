"""The versioned schema. ``PRAGMA user_version`` says which migrations have run.

Add a migration by appending to :data:`MIGRATIONS`; never edit one that has shipped.
Times are UTC epoch seconds (REAL); rollup buckets are the bucket's start second.
"""

from __future__ import annotations

import sqlite3

#: rollup resolutions in seconds: per minute (recent), 10 minutes (days), hour (forever)
ROLLUP_RES = (60, 600, 3600)
#: the pseudo-topic that counts every mention
ALL = "*"

_V1 = """
CREATE TABLE mentions (
    rowid INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,             -- <network>:<native id>
    network TEXT NOT NULL,
    source TEXT NOT NULL,
    url TEXT NOT NULL DEFAULT '',
    author TEXT NOT NULL DEFAULT '',
    author_name TEXT NOT NULL DEFAULT '',
    author_followers INTEGER,
    title TEXT NOT NULL DEFAULT '',
    text TEXT NOT NULL,
    ts REAL NOT NULL,                    -- created_at
    fetched_ts REAL NOT NULL,
    lang TEXT,
    content_warning TEXT NOT NULL DEFAULT '',
    sensitive INTEGER NOT NULL DEFAULT 0,
    directed_at_us INTEGER NOT NULL DEFAULT 0,
    in_reply_to TEXT,
    reply_ref TEXT,                      -- JSON, network-specific thread handle
    engagement INTEGER NOT NULL DEFAULT 0,
    sentiment REAL NOT NULL,
    topics TEXT NOT NULL,                -- JSON list of topic names
    needs_response INTEGER NOT NULL,
    priority INTEGER NOT NULL,
    reasons TEXT NOT NULL                -- JSON list
);
CREATE INDEX mentions_ts ON mentions(ts);
CREATE INDEX mentions_author ON mentions(network, author);

-- latest mentions of a topic without scanning: (topic, ts) → mention rowid
CREATE TABLE mention_topics (
    topic TEXT NOT NULL,
    ts REAL NOT NULL,
    mention INTEGER NOT NULL,
    PRIMARY KEY (topic, ts, mention)
) WITHOUT ROWID;

CREATE TABLE rollups (
    res INTEGER NOT NULL,                -- seconds per bucket
    topic TEXT NOT NULL,                 -- topic name, or '*' for every mention
    bucket INTEGER NOT NULL,             -- bucket start, epoch seconds
    n INTEGER NOT NULL DEFAULT 0,
    pos INTEGER NOT NULL DEFAULT 0,
    neu INTEGER NOT NULL DEFAULT 0,
    neg INTEGER NOT NULL DEFAULT 0,
    sent_sum REAL NOT NULL DEFAULT 0,
    engagement INTEGER NOT NULL DEFAULT 0,
    needs_response INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (res, topic, bucket)
) WITHOUT ROWID;

CREATE TABLE source_state (
    name TEXT PRIMARY KEY,
    type TEXT NOT NULL,
    cursor TEXT NOT NULL DEFAULT '{}',   -- JSON, committed with the mentions it led to
    status TEXT NOT NULL DEFAULT 'starting',  -- starting | ok | backoff | paused | disabled
    last_success REAL,
    last_error TEXT,
    last_error_ts REAL,
    next_poll REAL,
    failures INTEGER NOT NULL DEFAULT 0,
    fetched_total INTEGER NOT NULL DEFAULT 0,
    stored_total INTEGER NOT NULL DEFAULT 0,
    config_hash TEXT
);

CREATE TABLE alerts (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,                  -- spike | negative_surge
    topic TEXT NOT NULL,
    ts REAL NOT NULL,                    -- when it fired
    window_start REAL NOT NULL,
    observed REAL NOT NULL,              -- per-minute rate (or negative share) in the window
    baseline REAL NOT NULL,
    z REAL NOT NULL,
    explanation TEXT NOT NULL,
    terms TEXT NOT NULL DEFAULT '[]',    -- JSON list of the terms that drive it
    state TEXT NOT NULL DEFAULT 'active',  -- active | acknowledged | resolved
    acked_by TEXT,
    acked_ts REAL
);
CREATE INDEX alerts_state ON alerts(state, ts);
CREATE INDEX alerts_topic ON alerts(topic, kind, ts);

-- term counts per 10-minute bucket, per scope ('*' or a topic): trending and spike drivers
CREATE TABLE term_buckets (
    scope TEXT NOT NULL,
    bucket INTEGER NOT NULL,
    term TEXT NOT NULL,
    n INTEGER NOT NULL,
    PRIMARY KEY (scope, bucket, term)
) WITHOUT ROWID;

CREATE TABLE trending (
    scope TEXT NOT NULL,
    rank INTEGER NOT NULL,
    term TEXT NOT NULL,
    recent INTEGER NOT NULL,             -- count in the recent window
    baseline REAL NOT NULL,              -- expected count from its own history
    score REAL NOT NULL,
    updated_ts REAL NOT NULL,
    PRIMARY KEY (scope, rank)
) WITHOUT ROWID;

CREATE TABLE queue (
    mention_id TEXT PRIMARY KEY REFERENCES mentions(id),
    priority INTEGER NOT NULL,
    state TEXT NOT NULL DEFAULT 'new',
    queued_ts REAL NOT NULL,
    updated_ts REAL NOT NULL,
    assignee TEXT,
    claim_expires REAL,
    reasons TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX queue_open ON queue(state, priority, queued_ts);

-- a crisis declared from the console (escalation or an accepted alert); open while ended_ts IS NULL
CREATE TABLE crises (
    id INTEGER PRIMARY KEY,
    topic TEXT,
    reason TEXT NOT NULL DEFAULT '',
    alert_id INTEGER REFERENCES alerts(id),
    declared_by TEXT NOT NULL DEFAULT '',
    started_ts REAL NOT NULL,
    ended_ts REAL,
    ended_by TEXT
);

-- wall control from any process: walls apply commands with id > the last they applied.
-- command: scene {screen, scene} | spotlight {mention_id} | clear_spotlight {} | reload {}
CREATE TABLE wall_commands (
    id INTEGER PRIMARY KEY,
    ts REAL NOT NULL,
    target TEXT NOT NULL DEFAULT '*',    -- a screen name, or '*' for every wall
    command TEXT NOT NULL,
    args TEXT NOT NULL DEFAULT '{}',     -- JSON
    issued_by TEXT NOT NULL DEFAULT ''
);

CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""

# how many items wait in each state and priority, kept by triggers in the same transaction
# as every queue change: the wall's queue figures cost one read however long the queue is
_V3_QUEUE_COUNTS = """
CREATE TABLE queue_counts (
    state TEXT NOT NULL,
    priority INTEGER NOT NULL,
    n INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (state, priority)
) WITHOUT ROWID;
INSERT INTO queue_counts (state, priority, n) SELECT state, priority, count(*) FROM queue GROUP BY 1, 2;
CREATE TRIGGER queue_counts_insert AFTER INSERT ON queue BEGIN
    INSERT INTO queue_counts (state, priority, n) VALUES (NEW.state, NEW.priority, 1)
    ON CONFLICT (state, priority) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER queue_counts_delete AFTER DELETE ON queue BEGIN
    UPDATE queue_counts SET n = n - 1 WHERE state = OLD.state AND priority = OLD.priority;
END;
CREATE TRIGGER queue_counts_update AFTER UPDATE OF state, priority ON queue
WHEN OLD.state IS NOT NEW.state OR OLD.priority IS NOT NEW.priority BEGIN
    UPDATE queue_counts SET n = n - 1 WHERE state = OLD.state AND priority = OLD.priority;
    INSERT INTO queue_counts (state, priority, n) VALUES (NEW.state, NEW.priority, 1)
    ON CONFLICT (state, priority) DO UPDATE SET n = n + 1;
END;
"""

# what analysis learns beyond the score: the detected language, the class every view shows
# (``unscored`` where the scorer cannot read the text; '' on rows stored before this version,
# whose class follows from the score), private posts (never content for a wall), and the
# full length of a text cut to the stored maximum. Rollups count unscored mentions apart.
_V4_ANALYSIS = """
ALTER TABLE mentions ADD COLUMN language TEXT;
ALTER TABLE mentions ADD COLUMN sentiment_label TEXT NOT NULL DEFAULT '';
ALTER TABLE mentions ADD COLUMN private INTEGER NOT NULL DEFAULT 0;
ALTER TABLE mentions ADD COLUMN text_length INTEGER;
ALTER TABLE rollups ADD COLUMN unscored INTEGER NOT NULL DEFAULT 0;
"""

from app.analysis.spikes import ALERT_POSTS_V, ALERT_SUBSIDED_V  # noqa: E402 - an alert's typical posts, whether it is over
from app.store.schema_changes import CHANGES_V  # noqa: E402 - the change log
from app.store.schema_workflow import (  # noqa: E402 - the queue workflow's tables
    WORKFLOW_SIGNIN_AUDIT_MAC,
    WORKFLOW_STORIES,
    WORKFLOW_V2,
)
from app.stories.schema import STORIES_V  # noqa: E402 - stories (app/stories)

MIGRATIONS: list[str] = [_V1, WORKFLOW_V2, _V3_QUEUE_COUNTS, _V4_ANALYSIS, WORKFLOW_SIGNIN_AUDIT_MAC, CHANGES_V, STORIES_V, ALERT_POSTS_V, WORKFLOW_STORIES, ALERT_SUBSIDED_V]


def migrate(conn: sqlite3.Connection) -> int:
    """Bring the database to the newest schema version; return that version."""
    (current,) = conn.execute("PRAGMA user_version").fetchone()
    if current > len(MIGRATIONS):
        raise RuntimeError(
            f"database schema version {current} is newer than this program knows "
            f"({len(MIGRATIONS)}); upgrade watchfloor"
        )
    for version in range(current + 1, len(MIGRATIONS) + 1):
        conn.execute("BEGIN IMMEDIATE")
        for statement in _statements(MIGRATIONS[version - 1]):
            conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {version}")
        conn.execute("COMMIT")
    return len(MIGRATIONS)


def _statements(script: str) -> list[str]:
    """Split a migration script into statements (sqlite3.complete_statement knows the grammar)."""
    out, buf = [], ""
    for line in script.splitlines(keepends=True):
        buf += line
        if sqlite3.complete_statement(buf):
            out.append(buf.strip())
            buf = ""
    if buf.strip():
        out.append(buf.strip())
    return out
