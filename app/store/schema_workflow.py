"""Tables of the queue workflow (users, replies and their outbox, notes, audit): migration 2.

The rules live in :mod:`app.workflow`; the triggers here are the last line of defence,
so that even a program writing SQL by hand cannot rewrite the audit trail or mark a
free-text reply approved without an approver.
"""

WORKFLOW_V2 = """
ALTER TABLE queue ADD COLUMN claimed_ts REAL;
ALTER TABLE queue ADD COLUMN note TEXT NOT NULL DEFAULT '';       -- dismissal or escalation reason
ALTER TABLE queue ADD COLUMN crisis_id INTEGER REFERENCES crises(id);
CREATE INDEX queue_assignee ON queue(assignee, state);

CREATE TABLE users (
    name TEXT PRIMARY KEY,
    role TEXT NOT NULL CHECK (role IN ('operator', 'approver', 'admin', 'viewer')),
    password TEXT NOT NULL,              -- scrypt$n$r$p$salt$hash (hex)
    send_unapproved INTEGER NOT NULL DEFAULT 0,
    spokesperson INTEGER NOT NULL DEFAULT 0,
    disabled INTEGER NOT NULL DEFAULT 0,
    created_ts REAL NOT NULL
);

-- a reply: drafted, perhaps approved, then sent through the outbox (one row from draft to sent)
CREATE TABLE replies (
    id INTEGER PRIMARY KEY,
    mention_id TEXT NOT NULL REFERENCES mentions(id),
    author TEXT NOT NULL,
    text TEXT NOT NULL,
    template TEXT,                       -- the template's name when the words are pre-approved
    preapproved INTEGER NOT NULL DEFAULT 0,
    state TEXT NOT NULL DEFAULT 'draft',
        -- draft | awaiting_approval | approved | sending | sent | failed | rejected | withdrawn
    created_ts REAL NOT NULL,
    updated_ts REAL NOT NULL,
    approved_by TEXT,
    approved_ts REAL,
    review_note TEXT NOT NULL DEFAULT '',
    idempotency_key TEXT NOT NULL UNIQUE,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_ts REAL,
    last_error TEXT,
    sent_native_id TEXT,
    sent_url TEXT NOT NULL DEFAULT '',
    sent_ts REAL
);
CREATE INDEX replies_mention ON replies(mention_id, id);
CREATE INDEX replies_outbox ON replies(state, next_attempt_ts);

-- approved means an approver (not the writer), the writer's own send-without-approval right,
-- or words from a pre-approved template
CREATE TRIGGER replies_need_an_approver BEFORE UPDATE OF state ON replies
WHEN NEW.state = 'approved' AND OLD.state NOT IN ('approved', 'sending', 'failed')
  AND NOT (NEW.preapproved = 1 AND NEW.template IS NOT NULL)
  AND NOT EXISTS (
    SELECT 1 FROM users u WHERE u.name = NEW.approved_by AND u.disabled = 0 AND (
      (u.role IN ('approver', 'admin') AND u.name IS NOT NEW.author)
      OR (u.send_unapproved = 1 AND u.name = NEW.author)))
BEGIN
    SELECT RAISE(ABORT, 'a free-text reply needs the sign-off of an approver');
END;
CREATE TRIGGER replies_born_unapproved BEFORE INSERT ON replies
WHEN NEW.state NOT IN ('draft', 'awaiting_approval')
BEGIN
    SELECT RAISE(ABORT, 'a reply starts as a draft or awaiting approval');
END;

CREATE TABLE notes (
    id INTEGER PRIMARY KEY,
    mention_id TEXT NOT NULL,
    author TEXT NOT NULL,
    ts REAL NOT NULL,
    text TEXT NOT NULL
);
CREATE INDEX notes_mention ON notes(mention_id, ts);

-- what happened during a crisis, in order (declared, items escalated, alerts, replies, ended)
CREATE TABLE crisis_events (
    id INTEGER PRIMARY KEY,
    crisis_id INTEGER NOT NULL REFERENCES crises(id),
    ts REAL NOT NULL,
    actor TEXT NOT NULL,
    kind TEXT NOT NULL,
    text TEXT NOT NULL DEFAULT '',
    mention_id TEXT
);
CREATE INDEX crisis_events_crisis ON crisis_events(crisis_id, ts);

-- append-only and hash-chained: each row's hash covers its content and the previous hash
CREATE TABLE audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ts REAL NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL DEFAULT '',
    before TEXT NOT NULL DEFAULT '{}',   -- JSON
    after TEXT NOT NULL DEFAULT '{}',    -- JSON
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX audit_target ON audit(target, id);
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN
    SELECT RAISE(ABORT, 'the audit trail is append-only');
END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN
    SELECT RAISE(ABORT, 'the audit trail is append-only');
END;
"""

# sign-in throttling (per user and per station) and the audit trail's keyed MACs
WORKFLOW_SIGNIN_AUDIT_MAC = """
CREATE TABLE signin_failures (
    key TEXT PRIMARY KEY,                -- 'user:<name, case-folded>' or 'station:<host>'
    failures INTEGER NOT NULL DEFAULT 0, -- consecutive, since the last good sign-in
    last_ts REAL NOT NULL,
    until_ts REAL NOT NULL DEFAULT 0     -- no attempt is checked before this (backoff or lockout)
);
ALTER TABLE audit ADD COLUMN mac TEXT;  -- HMAC-SHA256 of the row's hash, with the audit key
"""

# a story as one piece of work: who claimed it (new items that join it go to them, until the
# claim goes idle), and the items taken out of their story (they stay out, whatever the
# story detector later decides)
WORKFLOW_STORIES = """
CREATE TABLE story_claims (
    story_id INTEGER PRIMARY KEY,
    assignee TEXT NOT NULL,
    claimed_ts REAL NOT NULL,
    expires REAL NOT NULL
);
CREATE TABLE story_exclusions (
    mention_id TEXT PRIMARY KEY,
    story_id INTEGER NOT NULL,
    by TEXT NOT NULL,
    ts REAL NOT NULL
);
"""
