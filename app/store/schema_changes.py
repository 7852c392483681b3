"""The change log's table (migration 5): see :mod:`app.store.changelog`."""

#: AUTOINCREMENT: an id is never reused after pruning, so a reader's last id stays meaningful
CHANGES_V = """
CREATE TABLE changes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ts REAL NOT NULL,
    tables TEXT NOT NULL,               -- JSON list of table names
    ids TEXT,                           -- JSON list of row ids touched; NULL = too many to list
    topics TEXT NOT NULL DEFAULT '[]'   -- JSON list of topic names
);
"""
