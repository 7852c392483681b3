"""The stories' tables: one migration appended to the store's list, and their names.

Only stories of two posts or more are stored: a post nobody repeated is not a story.
``story_rollups`` counts a story's public mentions per topic and minute (``*`` for every
mention), so the wall's stories tile reads a bounded rollup, never the mentions.
"""

from __future__ import annotations

from typing import Final

STORIES: Final = "stories"
STORY_MEMBERS: Final = "story_members"
STORY_ROLLUPS: Final = "story_rollups"

STORIES_V = """
CREATE TABLE stories (
    id INTEGER PRIMARY KEY,
    label TEXT NOT NULL,                 -- the text of its most typical post
    label_mention TEXT NOT NULL,         -- that post's mention id
    size INTEGER NOT NULL,
    first_ts REAL NOT NULL,
    last_ts REAL NOT NULL,
    pos INTEGER NOT NULL DEFAULT 0,
    neu INTEGER NOT NULL DEFAULT 0,
    neg INTEGER NOT NULL DEFAULT 0,
    unscored INTEGER NOT NULL DEFAULT 0,
    networks TEXT NOT NULL DEFAULT '{}', -- JSON {network: mentions}
    topics TEXT NOT NULL DEFAULT '{}',   -- JSON {topic: mentions}
    authors TEXT NOT NULL DEFAULT '[]',  -- JSON [[author, network, followers], …] most reach first
    merged_into INTEGER                  -- set when it joined a larger story
);
CREATE INDEX stories_last ON stories(last_ts);
CREATE TABLE story_members (
    mention_id TEXT PRIMARY KEY,
    story_id INTEGER NOT NULL,
    ts REAL NOT NULL
);
CREATE INDEX story_members_story ON story_members(story_id, ts);
CREATE TABLE story_rollups (
    topic TEXT NOT NULL,
    bucket INTEGER NOT NULL,             -- minute start, epoch seconds
    story_id INTEGER NOT NULL,
    n INTEGER NOT NULL,
    PRIMARY KEY (topic, bucket, story_id)
) WITHOUT ROWID;
"""
