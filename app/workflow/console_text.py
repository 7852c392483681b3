"""What the console says about an item, a pending reply, an alert: plain strings, no Qt.

Every string here may carry a post's or an author's words; the widgets show them as
plain text. Kept apart from the widgets so tests read exactly what an operator reads.
"""

from __future__ import annotations

import time
from datetime import datetime

from app.analysis.sentiment import Explanation
from app.formatting import age
from app.model import Mention, sentiment_label
from app.workflow.queries import Alert, Detail, Pending, StoryInfo
from app.workflow.templates import Template, placeholder_values
from app.workflow.users import User

NO_ITEM = "Select an item in the queue (or press N to claim the next one)."


def clock(ts: float) -> str:
    return datetime.fromtimestamp(ts).strftime("%H:%M")


def flat(text: str, limit: int | None = None) -> str:
    """Line breaks and runs of spaces folded into one line, cut at ``limit``."""
    folded = " ".join(text.split())
    return folded if limit is None else folded[:limit]


def head(d: Detail) -> str:
    m = d.mention
    name = f"{m['author_name']} ({m['author']})" if m["author_name"] else m["author"]
    return f"P{m['priority']} · {name}"


def meta(d: Detail, now: float | None = None) -> str:
    m = d.mention
    now = time.time() if now is None else now
    followers = f"{m['author_followers']:,} followers · " if m["author_followers"] is not None else ""
    label = m.get("sentiment_label") or sentiment_label(m["sentiment"])
    return (
        f"{m['network']} via {m['source']} · {followers}{clock(m['ts'])} ({age(now - m['ts'])} ago)"
        f" · sentiment {m['sentiment']:+.2f} ({label})"
        f" · {', '.join(m['topics']) or 'no topic'} · {d.state.replace('_', ' ')}"
        + ((" by " if d.state == "claimed" else ", held by ") + d.assignee if d.assignee else "")
        + (f"\n{m['url']}" if m["url"] else "")
    )  # fmt: skip


def post(d: Detail) -> str:
    m = d.mention
    if m["content_warning"]:
        return f"[content warning: {m['content_warning']}]\n\n{m['text']}"
    return str(m["text"])


def why(d: Detail) -> str:
    return "Queued because: " + ("; ".join(d.reasons) or "it needs a response") + (
        f"\nNote: {d.note}" if d.note else "")  # fmt: skip


def context(d: Detail) -> str:
    lines = []
    if d.parent:
        lines.append(f"In reply to {d.parent['author']}: {flat(d.parent['text'], 240)}")
    if d.earlier:
        lines.append(f"{len(d.earlier)} earlier post(s) by this author in the cache; "
                     f"we answered them {d.replies_to_author} time(s). Latest: "
                     + " | ".join(flat(e["text"], 80) for e in d.earlier[:3]))  # fmt: skip
    else:
        lines.append("First post by this author in the cache.")
    return "\n".join(lines)


def history(d: Detail) -> list[str]:
    """The item's audit trail, notes and replies, oldest first."""
    events = [(ts, f"{clock(ts)}  {actor}: {action.removeprefix('item.')}")
              for ts, actor, action in d.history]  # fmt: skip
    events += [(ts, f"{clock(ts)}  note by {a}: {t}") for a, ts, t in d.notes]
    events += [(r.ts, f"{clock(r.ts)}  reply {r.state.replace('_', ' ')} ({r.author}"
                + (f", approved by {r.approved_by}" if r.approved_by and r.approved_by != r.author else "")
                + f"): {flat(r.text, 160)}"
                + (f" — {r.last_error}" if r.last_error else ""))
               for r in d.replies if r.state != "withdrawn"]  # fmt: skip
    return [line for _, line in sorted(events)]


def thread(got: list[Mention] | str) -> str:
    """The thread above a post, as read through its source (or why it could not be)."""
    if isinstance(got, str):
        return got
    lines = [f"{m.author}: {flat(m.text, 200)}" for m in got[-4:]]
    return ("Thread above:\n" + "\n".join(f"  ↳ {line}" for line in lines)) if lines else (
        "Not a reply: no thread above it.")  # fmt: skip


def preview(t: Template, d: Detail, brand: str, operator: str) -> str:
    """A template as it would go out to this item's author."""
    m = d.mention
    return "“" + t.render(placeholder_values(
        author=m["author"], author_name=m["author_name"], brand=brand, network=m["network"],
        topics=m["topics"], operator=operator,
    )) + "”"  # fmt: skip


def pending(p: Pending, now: float | None = None) -> str:
    now = time.time() if now is None else now
    return (f"{p.author} → {p.post_author} ({p.network}), {age(now - p.ts)} ago\n"
            f"  reply: {flat(p.text)}\n  to: {flat(p.post_text, 200)}")  # fmt: skip


def alert(a: Alert) -> str:
    """An alert's line; one that is over says so, as the wall does, until acknowledged."""
    line = f"{clock(a.ts)}  {a.text}"
    if a.subsided_ts is not None:
        line = f"{clock(a.ts)}  subsided at {clock(a.subsided_ts)}, not yet acknowledged — {a.text}"
    return line


def timeline(ts: float, actor: str, kind: str, text: str) -> str:
    return f"{clock(ts)}  {actor}: {kind}" + (f" — {text}" if text else "")


def status(user: User, now: float | None = None) -> str:
    rights = [user.role]
    if user.send_unapproved:
        rights.append("sends without approval")
    if user.spokesperson:
        rights.append("spokesperson")
    at = datetime.fromtimestamp(time.time() if now is None else now).strftime("%H:%M:%S")
    return f"Signed in as {user.name} ({', '.join(rights)})   ·   updated {at}"


def crisis_banner(reason: str, topic: str | None) -> str:
    return f"CRISIS — {reason}" + (f" — the queue shows {topic} first" if topic else "")


def story(s: StoryInfo) -> str:
    """The item's story: how many still wait, what it says, who holds it."""
    held = f" · claimed by {s.assignee}" if s.assignee else " · nobody has claimed it"
    return f"Story: {s.open} open of {s.size} posts saying “{flat(s.label, 160)}”{held}"


def drivers(e: Explanation | None) -> str:
    """Which words drove the score, strongest first (and the rules that changed the reading)."""
    if e is None:
        return ""
    words = ", ".join(f"“{d.text}” {d.weight:+.1f}" for d in e.drivers[:6]) or "no word with a sentiment"
    notes = f" · {'; '.join(e.notes)}" if e.notes else ""
    return f"Scored {e.score:+.2f} ({e.label}) from: {words}{notes}   ·   re-label: − negative, 0 neutral, + positive"
