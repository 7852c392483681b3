"""The room's schema in PostgreSQL: versioned migrations, applied under an advisory lock.

``MIGRATIONS`` only ever grows (a released entry is never edited); ``schema_version``
records each one applied. The owner role migrates; the application role gets only the
grants in :data:`GRANTS` — on the audit table INSERT and SELECT, so even a stolen
application password cannot rewrite history (triggers refuse UPDATE, DELETE and
TRUNCATE for everyone, the owner included).

Mentions carry ``seq``, a gap-free sequence handed out from a one-row counter inside
the inserting transaction: the row lock orders the commits, so a station reading
``seq > its cursor`` can never skip a row that commits late (a plain sequence could).
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg import sql

from app.room.connect import CHANNEL, SCHEMA, RoomError

#: pg_advisory_xact_lock key: one migration at a time across the room
MIGRATE_LOCK = 0x7761_7463_6801  # "watch" + 1
#: pg_try_advisory_lock key the active hub holds for as long as it polls
HUB_LOCK = 0x7761_7463_6802

_V1 = f"""
CREATE TABLE room_meta (key text PRIMARY KEY, value text NOT NULL);
INSERT INTO room_meta (key, value) VALUES ('room_id', gen_random_uuid()::text);

-- the gap-free mention sequence: one row, bumped in the transaction that inserts
CREATE TABLE mention_seq (only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
                          last bigint NOT NULL);
INSERT INTO mention_seq (last) VALUES (0);

-- analysed mentions; ``body`` holds every field of the mention as analysis left it
CREATE TABLE mentions (
    seq bigint PRIMARY KEY,
    id text NOT NULL UNIQUE,             -- <network>:<native id>
    network text NOT NULL,
    source text NOT NULL,
    ts double precision NOT NULL,        -- created_at, epoch seconds
    needs_response boolean NOT NULL,
    priority smallint NOT NULL,
    topics text[] NOT NULL DEFAULT '{{}}',
    body jsonb NOT NULL,
    published_ts double precision NOT NULL DEFAULT extract(epoch FROM clock_timestamp())
);
CREATE INDEX mentions_ts ON mentions (ts);

CREATE TABLE alerts (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind text NOT NULL,                  -- spike | negative_surge
    topic text NOT NULL,
    ts double precision NOT NULL,
    window_start double precision NOT NULL,
    observed double precision NOT NULL,
    baseline double precision NOT NULL,
    z double precision NOT NULL,
    explanation text NOT NULL,
    terms text[] NOT NULL DEFAULT '{{}}',
    state text NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'acknowledged', 'resolved')),
    acked_by text,
    acked_ts double precision,
    UNIQUE (kind, topic, ts)
);

-- each source's health and its cursor, committed with the mentions it led to
CREATE TABLE source_state (
    name text PRIMARY KEY,
    type text NOT NULL,
    cursor jsonb NOT NULL DEFAULT '{{}}',
    status text NOT NULL DEFAULT 'starting',
    last_success double precision,
    last_error text,
    last_error_ts double precision,
    next_poll double precision,
    failures integer NOT NULL DEFAULT 0,
    fetched_total bigint NOT NULL DEFAULT 0,
    stored_total bigint NOT NULL DEFAULT 0,
    updated_ts double precision NOT NULL DEFAULT extract(epoch FROM clock_timestamp()),
    hub text NOT NULL DEFAULT ''         -- the station that polled it last
);

CREATE TABLE users (
    name text PRIMARY KEY,
    role text NOT NULL CHECK (role IN ('operator', 'approver', 'admin', 'viewer')),
    password text NOT NULL,
    send_unapproved boolean NOT NULL DEFAULT false,
    spokesperson boolean NOT NULL DEFAULT false,
    disabled boolean NOT NULL DEFAULT false,
    created_ts double precision NOT NULL
);
CREATE UNIQUE INDEX users_name_folded ON users (lower(name));

CREATE TABLE crises (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    topic text,
    reason text NOT NULL DEFAULT '',
    alert_id bigint REFERENCES alerts (id),
    declared_by text NOT NULL DEFAULT '',
    started_ts double precision NOT NULL,
    ended_ts double precision,
    ended_by text
);
CREATE TABLE crisis_events (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    crisis_id bigint NOT NULL REFERENCES crises (id),
    ts double precision NOT NULL,
    actor text NOT NULL,
    kind text NOT NULL,
    text text NOT NULL DEFAULT '',
    mention_id text
);

-- the queue: one row an item; a claim is its assignee with an expiry; ``version`` makes
-- every transition a compare-and-set
CREATE TABLE queue (
    mention_id text PRIMARY KEY REFERENCES mentions (id),
    priority smallint NOT NULL,
    state text NOT NULL DEFAULT 'new',
    queued_ts double precision NOT NULL,
    updated_ts double precision NOT NULL,
    assignee text,
    claimed_ts double precision,
    claim_expires double precision,
    note text NOT NULL DEFAULT '',
    crisis_id bigint REFERENCES crises (id),
    reasons text[] NOT NULL DEFAULT '{{}}',
    version integer NOT NULL DEFAULT 0
);
CREATE INDEX queue_open ON queue (state, priority, queued_ts);
CREATE INDEX queue_assignee ON queue (assignee, state);

-- drafts, approvals, replies and the outbox: one row from draft to sent
CREATE TABLE replies (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    mention_id text NOT NULL REFERENCES mentions (id),
    author text NOT NULL,
    text text NOT NULL,
    template text,
    preapproved boolean NOT NULL DEFAULT false,
    state text NOT NULL DEFAULT 'draft' CHECK (state IN ('draft', 'awaiting_approval',
        'approved', 'sending', 'sent', 'failed', 'rejected', 'withdrawn')),
    created_ts double precision NOT NULL,
    updated_ts double precision NOT NULL,
    approved_by text,
    approved_ts double precision,
    review_note text NOT NULL DEFAULT '',
    idempotency_key text NOT NULL UNIQUE,
    attempts integer NOT NULL DEFAULT 0,
    next_attempt_ts double precision,
    sending_by text,                     -- the station whose outbox holds the send
    sending_until double precision,      -- its lease; past it another outbox may retry
    last_error text,
    sent_native_id text,
    sent_url text NOT NULL DEFAULT '',
    sent_ts double precision
);
CREATE INDEX replies_mention ON replies (mention_id, id);
CREATE INDEX replies_outbox ON replies (state, next_attempt_ts);

CREATE TABLE notes (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    mention_id text NOT NULL,
    author text NOT NULL,
    ts double precision NOT NULL,
    text text NOT NULL
);
CREATE INDEX notes_mention ON notes (mention_id, ts);

CREATE TABLE wall_commands (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ts double precision NOT NULL,
    target text NOT NULL DEFAULT '*',
    command text NOT NULL,
    args jsonb NOT NULL DEFAULT '{{}}',
    issued_by text NOT NULL DEFAULT ''
);

-- append-only and hash-chained (each row's hash covers its content and the previous hash)
CREATE TABLE audit (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ts double precision NOT NULL,
    actor text NOT NULL,
    action text NOT NULL,
    target text NOT NULL DEFAULT '',
    before jsonb NOT NULL DEFAULT '{{}}',
    after jsonb NOT NULL DEFAULT '{{}}',
    prev_hash text NOT NULL,
    hash text NOT NULL UNIQUE
);
CREATE INDEX audit_target ON audit (target, id);
CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit trail is append-only';
END $$;
CREATE TRIGGER audit_no_change BEFORE UPDATE OR DELETE ON audit
    FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit
    FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();

-- who is signed in where, viewing or typing on which item (rows refreshed, stale ones ignored)
CREATE TABLE presence (
    station text NOT NULL,
    user_name text NOT NULL,
    item text,                           -- the mention id open in the console, if any
    activity text NOT NULL DEFAULT 'idle' CHECK (activity IN ('idle', 'viewing', 'typing')),
    seen_ts double precision NOT NULL,
    PRIMARY KEY (station, user_name)
);

-- what each commit changed; NOTIFY carries the id, readers read on from the last id seen
CREATE TABLE change_log (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ts double precision NOT NULL DEFAULT extract(epoch FROM clock_timestamp()),
    tables text[] NOT NULL,
    ids text[] NOT NULL DEFAULT '{{}}',  -- the rows' ids when few; empty: read the tables
    topics text[] NOT NULL DEFAULT '{{}}'
);
CREATE FUNCTION change_log_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('{CHANNEL}', NEW.id::text);
    RETURN NULL;
END $$;
CREATE TRIGGER change_log_notify AFTER INSERT ON change_log
    FOR EACH ROW EXECUTE FUNCTION change_log_notify();
"""

# the audit chain's head in one row: appends take its row lock (held to the commit, so
# ids run on with no gap) and read the newest committed head as they do
_V2_AUDIT_HEAD = f"""
CREATE TABLE audit_head (only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
                         last_id bigint NOT NULL, hash text NOT NULL);
INSERT INTO audit_head (last_id, hash)
    SELECT coalesce(max(id), 0),
           coalesce((SELECT hash FROM audit ORDER BY id DESC LIMIT 1), '{"0" * 64}') FROM audit;
"""

# failed sign-ins by account and by station, as the local store counts them: a lockout
# holds at every station of the room
_V3_SIGNIN_FAILURES = """
CREATE TABLE signin_failures (
    key text PRIMARY KEY,                -- user:<name folded> or station:<name>
    failures integer NOT NULL,
    last_ts double precision NOT NULL,
    until_ts double precision NOT NULL   -- no password is checked before this
);
"""

# what the room shares beyond the queue: an operator's sentiment class for a post (each
# station applies it to its cache, so rollups and walls follow) and the items taken out of
# their story (stories are each station's own, detected in its cache; the item is the room's)
_V4_CORRECTIONS_EXCLUSIONS = """
CREATE TABLE sentiment_corrections (
    mention_id text PRIMARY KEY REFERENCES mentions (id),
    label text NOT NULL,
    corrected_by text NOT NULL,
    ts double precision NOT NULL,
    reason text NOT NULL DEFAULT ''
);
CREATE TABLE story_exclusions (
    mention_id text PRIMARY KEY REFERENCES mentions (id),
    taken_by text NOT NULL,
    ts double precision NOT NULL
);
CREATE INDEX notes_ts ON notes (ts);
"""

# who holds a story: stories are each station's own (their ids mean something only in one
# cache), so a claim is keyed by a post every station has, the story's first post as the
# claiming cache had it (``anchor``), with the items claimed with it (``members``): a
# station finds the story in its own cache through either, followed through merges
_V5_STORY_CLAIMS = """
CREATE TABLE story_claims (
    anchor text PRIMARY KEY,
    assignee text NOT NULL,
    claimed_ts double precision NOT NULL,
    expires double precision NOT NULL,
    members text[] NOT NULL DEFAULT '{}',
    station text NOT NULL DEFAULT ''
);
CREATE INDEX story_claims_members ON story_claims USING gin (members);
"""

MIGRATIONS: list[str] = [_V1, _V2_AUDIT_HEAD, _V3_SIGNIN_FAILURES, _V4_CORRECTIONS_EXCLUSIONS,
                         _V5_STORY_CLAIMS]  # fmt: skip

#: what the application role may do, table by table (everything else: nothing)
GRANTS: dict[str, tuple[str, ...]] = {
    "schema_version": ("SELECT",),
    "room_meta": ("SELECT",),
    "mention_seq": ("SELECT", "UPDATE"),
    "mentions": ("SELECT", "INSERT", "DELETE"),  # the hub drops those past [retention]
    "alerts": ("SELECT", "INSERT", "UPDATE"),
    "source_state": ("SELECT", "INSERT", "UPDATE"),
    "users": ("SELECT", "INSERT", "UPDATE"),
    "signin_failures": ("SELECT", "INSERT", "UPDATE", "DELETE"),
    "crises": ("SELECT", "INSERT", "UPDATE"),
    "crisis_events": ("SELECT", "INSERT"),
    "queue": ("SELECT", "INSERT", "UPDATE"),
    "replies": ("SELECT", "INSERT", "UPDATE"),
    "notes": ("SELECT", "INSERT"),
    "wall_commands": ("SELECT", "INSERT"),
    "sentiment_corrections": ("SELECT", "INSERT", "UPDATE"),
    "story_exclusions": ("SELECT", "INSERT"),
    "story_claims": ("SELECT", "INSERT", "UPDATE", "DELETE"),  # a claim ends when it goes idle
    "audit": ("SELECT", "INSERT"),
    "audit_head": ("SELECT", "UPDATE"),
    "presence": ("SELECT", "INSERT", "UPDATE", "DELETE"),
    "change_log": ("SELECT", "INSERT", "DELETE"),  # the hub prunes rows past a day
}
_ALL_PRIVILEGES = ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE")

_VERSION_TABLE = """
CREATE TABLE IF NOT EXISTS schema_version (
    version integer PRIMARY KEY,
    applied_ts timestamptz NOT NULL DEFAULT now(),
    applied_by text NOT NULL DEFAULT current_user
)
"""


def latest() -> int:
    return len(MIGRATIONS)


def current_version(conn: psycopg.Connection[Any]) -> int | None:
    """The room's schema version, or ``None`` where no schema was created yet."""
    row = conn.execute(
        "SELECT to_regclass(%s) IS NOT NULL", (f"{SCHEMA}.schema_version",)
    ).fetchone()
    if not row or not row[0]:
        return None
    found = conn.execute(f"SELECT coalesce(max(version), 0) FROM {SCHEMA}.schema_version")
    (version,) = found.fetchone() or (0,)
    return int(version)


def migrate(conn: psycopg.Connection[Any]) -> tuple[int, int]:
    """Bring the room to the newest schema; return (version before, version after).

    One transaction under an advisory lock: two machines starting at once migrate once,
    and a failure leaves the schema as it was.
    """
    try:
        with conn.transaction():
            conn.execute("SET LOCAL statement_timeout = 0")  # a migration may take its time
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATE_LOCK,))
            conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(SCHEMA)))
            conn.execute(f"SET LOCAL search_path = {SCHEMA}")
            conn.execute(_VERSION_TABLE)
            before = current_version(conn) or 0
            if before > latest():
                raise RoomError(f"the room's schema is version {before}, newer than this program "
                                f"knows ({latest()}): upgrade watchfloor")  # fmt: skip
            for version in range(before + 1, latest() + 1):
                conn.execute(MIGRATIONS[version - 1])
                conn.execute("INSERT INTO schema_version (version) VALUES (%s)", (version,))
    except psycopg.errors.InsufficientPrivilege as exc:
        raise RoomError(
            f"this role may not change the room's schema ({str(exc).strip()}): "
            "run `watchfloor room init` as the owner role"
        ) from None
    return before, latest()


def grant(conn: psycopg.Connection[Any], app_role: str) -> None:
    """Give the application role exactly :data:`GRANTS` (revoking anything more)."""
    role = sql.Identifier(app_role)
    schema = sql.Identifier(SCHEMA)
    with conn.transaction():
        conn.execute(sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(schema, role))
        conn.execute(sql.SQL("REVOKE CREATE ON SCHEMA {} FROM {}").format(schema, role))
        for table, privileges in GRANTS.items():
            name = sql.Identifier(SCHEMA, table)
            conn.execute(sql.SQL("REVOKE ALL ON TABLE {} FROM {}").format(name, role))
            conn.execute(sql.SQL("GRANT {} ON TABLE {} TO {}").format(
                sql.SQL(", ").join(sql.SQL(p) for p in privileges), name, role))  # fmt: skip
        # identity columns draw from sequences: INSERT needs them
        conn.execute(
            sql.SQL("GRANT USAGE ON ALL SEQUENCES IN SCHEMA {} TO {}").format(schema, role)
        )


def grant_problems(conn: psycopg.Connection[Any], role: str | None = None) -> list[str]:
    """Where ``role`` (default: this connection's) holds more or less than :data:`GRANTS`."""
    who = role or str((conn.execute("SELECT current_user").fetchone() or ("",))[0])
    problems = []
    for table, wanted in GRANTS.items():
        for privilege in _ALL_PRIVILEGES:
            (has,) = conn.execute(
                "SELECT has_table_privilege(%s, %s, %s)", (who, f"{SCHEMA}.{table}", privilege)
            ).fetchone() or (False,)
            if has and privilege not in wanted:
                problems.append(f"{table}: may {privilege} (should not)")
            elif not has and privilege in wanted:
                problems.append(f"{table}: may not {privilege} (needs it)")
    return problems


def ensure(conn: psycopg.Connection[Any]) -> int:
    """On first use: the schema as this program needs it, migrating if this role may.

    Raises :class:`RoomError` saying what to do when the schema is missing or older and
    this role cannot migrate, or newer than this program.
    """
    version = current_version(conn)
    if version == latest():
        return version
    if version is not None and version > latest():
        raise RoomError(f"the room's schema is version {version}, newer than this program "
                        f"knows ({latest()}): upgrade watchfloor")  # fmt: skip
    return migrate(conn)[1]


def room_id(conn: psycopg.Connection[Any]) -> str:
    """The room's identity: a station whose cache came from another room starts over."""
    row = conn.execute(f"SELECT value FROM {SCHEMA}.room_meta WHERE key = 'room_id'").fetchone()
    return str(row[0]) if row else ""
