"""The one writer thread: it owns the write connection and commits in batches.

Everything that writes goes through here: ingest batches from the poller (analysed on
this thread, so sentiment never runs on the GUI thread), source health, and arbitrary
workflow writes via :meth:`StoreWriter.call`. Each commit writes its row of the change
log (:mod:`app.store.changelog`: tables, ids, topics) in the same transaction; that log
is the one channel every view reads on from, in this process and in others. Listeners
hear of each commit on this thread, with the same row: a wake-up, not a second channel.
"""

from __future__ import annotations

import logging
import queue
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future, InvalidStateError
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from app.analysis.pipeline import Analyzer
from app.analysis.trending import TermCounter
from app.config import Config
from app.model import Mention
from app.store import changelog, ingest
from app.store import tables as T
from app.store.changelog import Change as Change
from app.store.db import open_writer, transaction
from app.store.maintenance import Maintenance
from app.stories.detector import StoryDetector

log = logging.getLogger(__name__)

R = TypeVar("R")


@dataclass(slots=True)
class IngestBatch:
    """A page from one source: its mentions and the cursor that follows them."""

    source: str
    source_type: str
    mentions: list[Mention]
    cursor: dict[str, Any]
    next_poll: float | None = None
    #: the mentions come analysed (a room station's cache, filled from the hub's analysis):
    #: they are not analysed again, and no source's health or cursor is touched here
    analysed: bool = False


@dataclass(frozen=True, slots=True)
class IngestReport:
    fetched: int
    stored: int


@dataclass(slots=True)
class _Job:
    fut: Future[Any] = field(default_factory=Future)


@dataclass(slots=True)
class _Ingest(_Job):
    batch: IngestBatch | None = None


@dataclass(slots=True)
class _Call(_Job):
    fn: Callable[[sqlite3.Connection], Any] | None = None
    tables: frozenset[str] = frozenset({T.EVERY})
    ids: tuple[str, ...] | None = None


_STOP = object()


def _settle(fut: Future[Any], result: Any = None, *, error: BaseException | None = None) -> None:
    """Hand a result to whoever waits; one who stopped waiting (a cancelled poll) is skipped.

    The commit stands either way; an exception here would kill the writer thread.
    """
    try:
        if error is not None:
            fut.set_exception(error)
        else:
            fut.set_result(result)
    except InvalidStateError:
        log.debug("a caller stopped waiting for a write that was committed")


class StoreWriter:
    def __init__(
        self,
        db_path: Path | str,
        config: Config,
        *,
        analyzer: Analyzer | None = None,
        maintenance: bool = True,
        max_batch: int = 20_000,
    ) -> None:
        self.db_path = Path(db_path)
        self.config = config
        self.analyzer = analyzer or Analyzer(config)
        self.terms = TermCounter()
        self.maintenance = (
            Maintenance(config, self.terms, self.analyzer.excluded_terms) if maintenance else None
        )
        self.max_batch = max_batch
        #: stories (app.stories), grouped in each ingest transaction; None turns them off
        self.stories: StoryDetector | None = StoryDetector(self.analyzer.excluded_terms(None))
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=1000)
        self._listeners: list[Callable[[Change], object]] = []
        self._thread: threading.Thread | None = None
        self._conn: sqlite3.Connection | None = None
        self._tables: frozenset[str] = frozenset()
        self._pruned = 0.0
        self._maintained: list[Change] = []
        self._mark = 0
        #: seconds between prunes of the change log, and how long its rows are kept
        self.prune_every_s = 60.0
        self.keep_changes_s = changelog.KEEP_S

    # -- lifecycle -------------------------------------------------------------------

    def start(self) -> StoreWriter:
        # open here, not on the thread, so a bad path fails loudly in the caller
        self._conn = open_writer(self.db_path)
        self._tables = T.existing(self._conn)
        if self.maintenance is not None:
            self.maintenance.on_commit = self._record_maintenance
        self._thread = threading.Thread(target=self._run, name="store-writer", daemon=True)
        self._thread.start()
        return self

    def close(self, timeout: float = 30.0) -> None:
        """Commit what is queued, run maintenance once more, and stop the thread."""
        if self._thread is None:
            return
        self._queue.put(_STOP)
        self._thread.join(timeout)
        self._thread = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def __enter__(self) -> StoreWriter:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- API (any thread) ------------------------------------------------------------

    def add_listener(self, fn: Callable[[Change], object]) -> None:
        self._listeners.append(fn)

    def remove_listener(self, fn: Callable[[Change], object]) -> None:
        if fn in self._listeners:
            self._listeners.remove(fn)

    def submit(self, batch: IngestBatch) -> Future[IngestReport]:
        """Queue a page for analysis and storage; the future resolves after its commit."""
        job = _Ingest(batch=batch)
        self._put(job)
        return job.fut

    def call(
        self,
        fn: Callable[[sqlite3.Connection], R],
        *,
        tables: Iterable[str] = (T.EVERY,),
        ids: Iterable[object] | None = None,
    ) -> Future[R]:
        """Run ``fn(conn)`` inside a write transaction on the writer thread.

        ``tables`` names what ``fn`` writes (the :mod:`app.store.tables` constants; a name
        the database has no table for is refused here, not silently never heard of), and
        ``ids`` the rows, so each view can tell whether the commit concerns it.
        """
        known = T.check(tables, self._tables) if self._tables else frozenset(tables)
        job = _Call(fn=fn, tables=known, ids=None if ids is None else tuple(str(i) for i in ids))
        self._put(job)
        return job.fut

    def record_status(
        self,
        name: str,
        source_type: str,
        *,
        status: str,
        error: str | None = None,
        failures: int = 0,
        next_poll: float | None = None,
    ) -> Future[None]:
        """Persist a source's health (a failure with its reason, a pause, a start)."""

        def write(conn: sqlite3.Connection) -> None:
            ingest.record_source_status(
                conn, name, source_type, status=status, error=error, failures=failures,
                now=time.time(), next_poll=next_poll,
            )  # fmt: skip

        return self.call(write, tables=(T.SOURCE_STATE,), ids=(name,))

    def flush(self, timeout: float = 60.0) -> None:
        """Block until everything queued so far is committed (tests, ``poll --once``)."""
        self.call(lambda conn: None, tables=()).result(timeout)

    def run_maintenance(self, timeout: float = 60.0) -> None:
        """Run every maintenance task now (after a backfill, in tests)."""
        done: Future[None] = Future()
        self._put(("maintenance", done))
        done.result(timeout)

    def _put(self, item: Any) -> None:
        if self._thread is None:
            raise RuntimeError("the store writer is not running")
        self._queue.put(item)

    # -- the thread ------------------------------------------------------------------

    def _run(self) -> None:
        conn = self._conn
        assert conn is not None
        try:
            while True:
                try:
                    first = self._queue.get(timeout=1.0)
                except queue.Empty:
                    first = None
                items = [] if first is None else [first]
                size = self._size(first)
                while size < self.max_batch:
                    try:
                        item = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    items.append(item)
                    size += self._size(item)
                stop = any(item is _STOP for item in items)
                self._process(conn, [i for i in items if i is not _STOP])
                if self.maintenance:
                    self._mark = conn.total_changes
                    self._notify_maintenance(self.maintenance.run_due(conn, force=stop))
                if stop:
                    break
        finally:
            conn.close()

    @staticmethod
    def _size(item: Any) -> int:
        if isinstance(item, _Ingest) and item.batch is not None:
            return max(1, len(item.batch.mentions))
        return 1

    def _process(self, conn: sqlite3.Connection, items: list[Any]) -> None:
        ingests = [i for i in items if isinstance(i, _Ingest)]
        if ingests:
            self._ingest(conn, ingests)
        for item in items:
            if isinstance(item, _Call):
                self._call(conn, item)
            elif isinstance(item, tuple) and item[0] == "maintenance":
                if self.maintenance:
                    self._mark = conn.total_changes
                    self._notify_maintenance(self.maintenance.run_due(conn, force=True))
                _settle(item[1], None)

    def _ingest(self, conn: sqlite3.Connection, jobs: list[_Ingest]) -> None:
        now = time.time()
        try:
            fresh = {
                id(job): ingest.unique_new(conn, job.batch.mentions) for job in jobs if job.batch
            }
            everything = [m for ms in fresh.values() for m in ms]
            self.analyzer.analyse([m for job in jobs if job.batch and not job.batch.analysed
                                   for m in fresh[id(job)]])  # fmt: skip
            with transaction(conn):
                # another process may have stored some meanwhile: check again under the lock
                still_new = {m.id for m in ingest.unique_new(conn, everything)}
                stored = [m for m in everything if m.id in still_new]
                topics = ingest.insert_mentions(conn, stored, now)
                if stored and self.stories is not None:
                    self.stories.add(conn, stored)
                tables = {T.SOURCE_STATE}
                if stored:
                    tables |= {T.MENTIONS, T.ROLLUPS, T.MENTION_TOPICS}
                    if any(m.needs_response for m in stored):
                        tables.add(T.QUEUE)
                if stored and self.maintenance:
                    self.maintenance.rewind_alerts(conn, min(m.ts for m in stored))
                for job in jobs:
                    b = job.batch
                    assert b is not None
                    if b.analysed:
                        continue
                    ingest.record_source_success(
                        conn, b.source, b.source_type, b.cursor, fetched=len(b.mentions),
                        stored=sum(1 for m in fresh[id(job)] if m.id in still_new), now=now,
                        next_poll=b.next_poll,
                    )  # fmt: skip
                change = self._record(conn, tables, topics=topics, ids=[m.id for m in stored])
        except Exception as exc:
            log.exception("storing a batch failed")
            for job in jobs:
                _settle(job.fut, error=exc)
            return
        for m in stored:
            if not m.private:  # a private post's words never trend on a wall
                self.terms.add(("*", *m.topics), m.ts, m.terms)
        for job in jobs:
            b = job.batch
            assert b is not None
            _settle(
                job.fut,
                IngestReport(
                    fetched=len(b.mentions),
                    stored=sum(1 for m in fresh[id(job)] if m.id in still_new),
                )
            )
        self._notify(change)

    def _call(self, conn: sqlite3.Connection, job: _Call) -> None:
        assert job.fn is not None
        before = conn.total_changes
        change = None
        try:
            with transaction(conn):
                result = job.fn(conn)
                if conn.total_changes != before and job.tables:  # wrote nothing: concerns nobody
                    change = self._record(conn, job.tables, ids=job.ids)
        except BaseException as exc:  # handed to the caller, who knows what it means
            _settle(job.fut, error=exc)
            return
        _settle(job.fut, result)
        self._notify(change)

    def _record(
        self,
        conn: sqlite3.Connection,
        tables: Iterable[str],
        *,
        topics: Iterable[str] = (),
        ids: Iterable[object] | None = None,
    ) -> Change | None:
        """Write the change-log row of the commit under way (inside its transaction)."""
        names = frozenset(tables)
        if not names:
            return None
        id_list = None if ids is None else tuple(str(i) for i in ids)
        if id_list is not None and len(id_list) > changelog.MAX_IDS:
            id_list = None
        topic_set = frozenset(topics)
        now = time.time()
        if now - self._pruned >= self.prune_every_s:  # in a commit that is logged, so
            self._pruned = now  # a reader never sees a commit without its row
            changelog.prune(conn, now, self.keep_changes_s)
        cid = changelog.record(conn, names, topics=topic_set, ids=id_list, now=now)
        return Change(names, topic_set, id_list, cid)

    def _record_maintenance(self, conn: sqlite3.Connection, tables: set[str]) -> None:
        """A maintenance task's commit: its row too (bookkeeping alone is ``meta``), so
        every commit of this writer is in the log and a reader never has to guess."""
        if tables or conn.total_changes != self._mark:
            change = self._record(conn, tables or {T.META})
            if change is not None:
                self._maintained.append(change)
        self._mark = conn.total_changes

    def _notify_maintenance(self, _tables: set[str]) -> None:
        changes, self._maintained = self._maintained, []
        for change in changes:
            self._notify(change)

    def _notify(self, change: Change | None) -> None:
        if change is None:
            return
        for fn in list(self._listeners):
            try:
                fn(change)
            except Exception:
                log.exception("a change listener failed")
