"""A mention as the room stores it: every field analysis left on it, as one JSON body.

The body is the :class:`~app.model.Mention` itself (its fields by name, ``created_at``
as epoch seconds under ``ts``), so a field added to the model travels through the room
without a migration here, and a station running an older program ignores what it does
not know instead of failing.
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from typing import Any

from app.analysis.tokens import Doc, trend_terms
from app.model import Mention, utc_from_ts

_FIELDS = {f.name: f for f in dataclasses.fields(Mention)}
#: stored in SQLite as JSON text
_JSON_COLUMNS = frozenset({"topics", "reasons", "reply_ref"})
_NAMES = frozenset(_FIELDS) - {"created_at"}
_BOOLS = frozenset(name for name, f in _FIELDS.items() if isinstance(f.default, bool))


def body_from_row(row: sqlite3.Row) -> dict[str, Any]:
    """The room's body for a row of the local ``mentions`` table (as the hub stored it)."""
    columns = row.keys()
    body: dict[str, Any] = {"ts": float(row["ts"])}
    network, _, native = str(row["id"]).partition(":")
    body["network"], body["native_id"] = network, native
    for name in columns:
        if name not in _FIELDS or name in {"network", "native_id", "created_at"}:
            continue
        value = row[name]
        if name in _JSON_COLUMNS and isinstance(value, str):
            value = json.loads(value)
        elif name in _BOOLS and value is not None:
            value = bool(value)
        body[name] = value
    # trend terms are not stored locally: derived from the text exactly as analysis does
    text = (
        f"{body.get('title')}\n{body.get('text', '')}"
        if body.get("title")
        else body.get("text", "")
    )
    body["terms"] = trend_terms(Doc.from_text(str(text)))
    return body


def mention_from_body(body: dict[str, Any]) -> Mention:
    """The analysed mention back from its body (which it consumes: catching up makes tens of
    thousands a second); keys this program does not know are ignored."""
    created = utc_from_ts(float(body.pop("ts")))
    try:
        return Mention(**body, created_at=created)
    except TypeError:  # written by a newer program: keep what this one knows
        return Mention(**{k: v for k, v in body.items() if k in _NAMES}, created_at=created)


def body_from_mention(m: Mention) -> dict[str, Any]:
    """The room's body for an analysed mention in memory (as :func:`body_from_row` gives)."""
    body = {name: getattr(m, name) for name in _FIELDS if name != "created_at"}
    body["ts"] = m.ts
    return body
