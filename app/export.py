"""``watchfloor export``: mentions, queue, alerts, audit and stories as JSON lines or CSV.

Rows are streamed from a reader connection in chunks, so exporting millions of
mentions needs no more memory than exporting ten.
"""

from __future__ import annotations

import csv
import json
import sqlite3
from collections.abc import Iterable, Iterator
from typing import Any, Literal, TextIO

from app.model import UNSCORED, iso_utc, sentiment_label

What = Literal["mentions", "queue", "alerts", "audit", "stories"]
Format = Literal["jsonl", "csv"]

MENTION_FIELDS = [
    "id", "network", "source", "url", "author", "author_name", "author_followers", "title",
    "text", "created_at", "lang", "sentiment", "topics", "needs_response", "priority",
    "reasons", "engagement", "content_warning", "sensitive", "directed_at_us", "in_reply_to",
    "sentiment_label", "scored", "language", "private", "text_length",
]  # fmt: skip

#: cells a spreadsheet would run as a formula (OWASP's list for CSV injection)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> Any:
    """A text cell made inert for spreadsheets: a leading apostrophe before a formula start."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _rows(
    conn: sqlite3.Connection, sql: str, params: tuple[Any, ...] = ()
) -> Iterator[sqlite3.Row]:
    conn.row_factory = sqlite3.Row
    cur = conn.execute(sql, params)
    while chunk := cur.fetchmany(2000):
        yield from chunk


def mentions(conn: sqlite3.Connection) -> Iterator[dict[str, Any]]:
    for r in _rows(conn, "SELECT * FROM mentions ORDER BY ts, rowid"):
        # rows stored before labels were kept have '' and take the class of their score
        label = r["sentiment_label"] or sentiment_label(r["sentiment"])
        yield {
            "id": r["id"], "network": r["network"], "source": r["source"], "url": r["url"],
            "author": r["author"], "author_name": r["author_name"],
            "author_followers": r["author_followers"], "title": r["title"], "text": r["text"],
            "created_at": iso_utc(r["ts"]), "lang": r["lang"],
            "sentiment": round(r["sentiment"], 4), "topics": json.loads(r["topics"]),
            "needs_response": bool(r["needs_response"]), "priority": r["priority"],
            "reasons": json.loads(r["reasons"]), "engagement": r["engagement"],
            "content_warning": r["content_warning"], "sensitive": bool(r["sensitive"]),
            "directed_at_us": bool(r["directed_at_us"]), "in_reply_to": r["in_reply_to"],
            "sentiment_label": None if label == UNSCORED else label,
            "scored": label != UNSCORED, "language": r["language"], "private": bool(r["private"]),
            "text_length": r["text_length"] or len(r["text"]),
        }  # fmt: skip


def alerts(conn: sqlite3.Connection) -> Iterator[dict[str, Any]]:
    for r in _rows(conn, "SELECT * FROM alerts ORDER BY ts, id"):
        yield {
            "id": r["id"], "kind": r["kind"], "topic": r["topic"], "fired_at": iso_utc(r["ts"]),
            "window_start": iso_utc(r["window_start"]), "observed": r["observed"],
            "baseline": r["baseline"], "z": round(r["z"], 2), "explanation": r["explanation"],
            "terms": json.loads(r["terms"]), "state": r["state"], "acked_by": r["acked_by"],
            "acked_at": iso_utc(r["acked_ts"]) if r["acked_ts"] else None,
        }  # fmt: skip


def queue(conn: sqlite3.Connection) -> Iterator[dict[str, Any]]:
    from app.workflow.export import queue_rows

    yield from queue_rows(conn)


def audit(conn: sqlite3.Connection) -> Iterator[dict[str, Any]]:
    from app.workflow.export import audit_rows

    yield from audit_rows(conn)


def stories(conn: sqlite3.Connection) -> Iterator[dict[str, Any]]:
    from app.stories.queries import export_rows

    yield from export_rows(conn)


_EXPORTERS = {
    "mentions": mentions, "queue": queue, "alerts": alerts, "audit": audit, "stories": stories,
}  # fmt: skip


def rows(conn: sqlite3.Connection, what: What) -> Iterator[dict[str, Any]]:
    """Every row of ``what`` in this cache, streamed."""
    return _EXPORTERS[what](conn)


def write(conn: sqlite3.Connection, what: What, fmt: Format, out: TextIO) -> int:
    """Write every row of ``what`` to ``out``; return how many."""
    return write_rows(rows(conn, what), what, fmt, out)


def write_rows(rows: Iterable[dict[str, Any]], what: str, fmt: Format, out: TextIO) -> int:
    """Write ``rows`` (of ``what``, from a cache or from the room) to ``out``; return how many."""
    count = 0
    if fmt == "jsonl":
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
            count += 1
        return count
    writer: csv.DictWriter[str] | None = None
    for row in rows:
        flat = {k: csv_cell(json.dumps(v, ensure_ascii=False) if isinstance(v, list | dict) else v)
                for k, v in row.items()}  # fmt: skip
        if writer is None:
            writer = csv.DictWriter(out, fieldnames=list(flat))
            writer.writeheader()
        writer.writerow(flat)
        count += 1
    if writer is None and what == "mentions":
        csv.writer(out).writerow(MENTION_FIELDS)
    elif writer is None and what == "stories":
        from app.stories.queries import STORY_FIELDS

        csv.writer(out).writerow(STORY_FIELDS)
    return count
