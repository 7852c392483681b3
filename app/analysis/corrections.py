"""An operator's correction of a post's sentiment class, and the explanation of a score.

The scorer is right most of the time; when it is not, the person who read the post wins:
:func:`relabel` stores the class they chose on the mention, moves the post from its old
class to the new one in every rollup that counts it (so the wall's figures follow at
once), and audits who changed what — all in the caller's write transaction. The console
runs it through the store writer::

    writer.call(lambda c: relabel(c, user, mention_id, "negative"),
                tables=RELABEL_TABLES, ids=[mention_id])

:func:`explain` is the console's "why this score": the words and phrases that drove it,
and :func:`describe` puts that in one plain line.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass

from app.analysis.sentiment import Explanation, Scorer
from app.model import UNSCORED, sentiment_label
from app.store import tables as T
from app.store.schema import ALL, ROLLUP_RES
from app.workflow import audit
from app.workflow.roles import Permission, grants
from app.workflow.states import WorkflowError
from app.workflow.users import get_user

#: the classes an operator may choose (``unscored``: "the scorer cannot read this")
LABELS = ("negative", "neutral", "positive", UNSCORED)
#: what a correction writes: hand these to ``StoreWriter.call(tables=...)``
RELABEL_TABLES = (T.MENTIONS, T.ROLLUPS, T.AUDIT)
#: the rollup column that counts each class
_COLUMN = {"negative": "neg", "neutral": "neu", "positive": "pos", UNSCORED: "unscored"}


@dataclass(frozen=True, slots=True)
class Relabel:
    mention_id: str
    before: str
    after: str
    #: the audit row written (0 when the class was already the chosen one)
    audit_id: int


def relabel(
    conn: sqlite3.Connection, actor: str, mention_id: str, label: str, *, reason: str = ""
) -> Relabel:
    """Set a mention's sentiment class to ``label`` as ``actor`` (an enabled operator or above).

    Runs inside the caller's write transaction. Raises :class:`WorkflowError` with a
    sentence for the console when the actor may not, the label is unknown or the mention
    does not exist.
    """
    user = get_user(conn, actor)
    relabel_allowed(user.role if user is not None else None, label)
    assert user is not None  # refused above
    before = apply_label(conn, mention_id, label)
    if before is None:
        raise WorkflowError(f"no mention {mention_id}")
    if before == label:
        return Relabel(mention_id, before, label, 0)
    audit_id = audit.record(
        conn, user.name, "mention.relabel", mention_id,
        {"sentiment_label": before}, {"sentiment_label": label, "reason": reason.strip()},
    )  # fmt: skip
    return Relabel(mention_id, before, label, audit_id)


def relabel_allowed(role: str | None, label: str) -> None:
    """Refuse, in a sentence for the console, a correction ``role`` may not make (an operator
    or above may) or to a class that is not one of :data:`LABELS`. ``None``: no such user."""
    if role is None or not grants(role, Permission.HANDLE):
        raise WorkflowError("your role may not correct a sentiment")
    if label not in LABELS:
        raise WorkflowError(f"unknown sentiment class {label!r} (one of: {', '.join(LABELS)})")


def apply_label(conn: sqlite3.Connection, mention_id: str, label: str) -> str | None:
    """Give a stored post the class ``label`` (one of :data:`LABELS`), moving it between
    classes in every rollup that counts it; the class it had (``label`` itself when it had it
    already, nothing written), or None when there is no such post. No audit: the caller's."""
    row = conn.execute(
        "SELECT sentiment_label, sentiment, ts, topics, private FROM mentions WHERE id = ?",
        (mention_id,),
    ).fetchone()
    if row is None:
        return None
    before = str(row[0] or sentiment_label(float(row[1])))  # rows stored before classes were kept
    if before == label:
        return before
    conn.execute("UPDATE mentions SET sentiment_label = ? WHERE id = ?", (label, mention_id))
    if not row[4]:  # private posts are in no rollup
        _move_in_rollups(
            conn, float(row[2]), [ALL, *json.loads(row[3])], before, label, float(row[1])
        )
    return before


def _move_in_rollups(
    conn: sqlite3.Connection, ts: float, topics: list[str], before: str, after: str, score: float
) -> None:
    old, new = _COLUMN[before], _COLUMN[after]
    # an unscored post adds nothing to the score sum; a scored one adds its score
    shift = (score if before == UNSCORED else 0.0) - (score if after == UNSCORED else 0.0)
    for res in ROLLUP_RES:
        bucket = int(ts // res) * res
        for topic in topics:
            conn.execute(
                f"UPDATE rollups SET {old} = max({old} - 1, 0), {new} = {new} + 1,"
                " sent_sum = sent_sum + ? WHERE res = ? AND topic = ? AND bucket = ?",
                (shift, res, topic, bucket),
            )


def explain(scorer: Scorer, conn: sqlite3.Connection, mention_id: str) -> Explanation | None:
    """Why a stored mention scored as it did (its title and text, as the pipeline read them).

    A post in a language the scorer cannot read says so instead of a score.
    """
    row = conn.execute(
        "SELECT title, text, sentiment_label, language FROM mentions WHERE id = ?", (mention_id,)
    ).fetchone()
    if row is None:
        return None
    title, text, label, language = row
    if label == UNSCORED:
        return Explanation(
            0.0, UNSCORED, [], 0, [f"not scored: written in {language or 'another language'}"]
        )
    return scorer.explain(f"{title}\n{text}" if title else text)


def describe(why: Explanation, limit: int = 6) -> str:
    """One plain line for the console: the class, the score and the words that drove it."""
    parts = [why.label if why.label == UNSCORED else f"{why.label} {why.score:+.2f}"]
    if why.drivers:
        words = ", ".join(f"“{d.text}” {d.weight:+.1f}" for d in why.drivers[:limit])
        parts.append(f"driven by {words}")
    return " · ".join([*parts, *why.notes])
