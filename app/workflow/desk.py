"""What an operator can do from a console, as calls for the store writer: one guard for all.

The console's window keeps no rules: it tells the desk who is signed in and what is
selected (an item, a pending reply, an alert), asks it for a :class:`Job` and hands the
job to the writer, which runs it inside ``BEGIN IMMEDIATE`` (the workflow checks the rules
there). The desk only refuses what cannot even be asked — nobody signed in, nothing
selected, a reason left blank — with the sentence the console shows; tests drive it
without a window.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from app import wallcontrol
from app.analysis.corrections import RELABEL_TABLES, relabel
from app.workflow.service import QueueWorkflow
from app.workflow.story_work import TABLES as STORY_TABLES
from app.workflow.story_work import Outcome, StoryWork

#: asks the operator for a line of text (a reason); None when they cancel
Ask = Callable[[str, str], str | None]


class NotReady(Exception):
    """The action cannot start; the message says what is missing ("" when they cancelled)."""


@dataclass(frozen=True, slots=True)
class Job:
    label: str
    #: runs on the store writer's connection (sqlite3), or the room's (psycopg) if ``room``
    call: Callable[[Any], Any]
    #: what the call writes beyond the queue's tables (the change log names them), and
    #: the rows it changes
    tables: tuple[str, ...] = ()
    ids: tuple[str, ...] = ()
    room: bool = False


def _never(title: str, prompt: str) -> str | None:
    return None


class Desk:
    def __init__(self, workflow: QueueWorkflow, ask: Ask = _never) -> None:
        self.workflow = workflow
        self.stories = StoryWork(workflow)
        self.ask = ask
        #: the signed-in user's name
        self.user: str | None = None
        #: the selected queue item, the pending reply and the alert picked (by id)
        self.item: str | None = None
        self.reply: int | None = None
        self.alert: int | None = None
        #: the queue's topic filter (claim next and a declared crisis follow it)
        self.topic: str | None = None

    # -- the guard ---------------------------------------------------------------------

    def _user(self) -> str:
        if self.user is None:
            raise NotReady("Sign in first")
        return self.user

    def _item(self) -> str:
        if self.item is None:
            raise NotReady("Select an item first")
        return self.item

    def _reason(self, given: str | None, title: str, prompt: str) -> str:
        """The reason given, or asked for; a blank answer or a cancel starts nothing."""
        if given is not None:
            return given  # the workflow says so if it is blank
        text = self.ask(title, prompt)
        if text is None or not text.strip():
            raise NotReady("")
        return text

    def _job(self, label: str, fn: Callable[[sqlite3.Connection, str], Any]) -> Job:
        user = self._user()
        return Job(label, lambda c: fn(c, user))

    def _on_item(self, label: str, fn: Callable[[sqlite3.Connection, str, str], Any]) -> Job:
        user, mid = self._user(), self._item()
        return Job(label, lambda c: fn(c, user, mid))

    # -- the selected item -------------------------------------------------------------

    def claim(self) -> Job:
        return self._on_item("Claim", self.workflow.claim)

    def claim_next(self) -> Job:
        topic = self.topic
        return self._job("Claim next", lambda c, u: self.workflow.claim_next(c, u, topic=topic))

    def release(self) -> Job:
        return self._on_item("Release", self.workflow.release)

    def send_template(self, name: str | None) -> Job:
        job = self._on_item("Template reply", lambda c, u, m: self.workflow.reply_template(c, u, m, str(name)))
        if not name:
            raise NotReady("No template fits this item")
        return job

    def save_draft(self, text: str) -> Job:
        return self._on_item("Save draft", lambda c, u, m: self.workflow.save_draft(c, u, m, text))

    def submit(self, text: str) -> Job:
        return self._on_item("Submit for approval", lambda c, u, m: self.workflow.submit(c, u, m, text))

    def send_direct(self, text: str) -> Job:
        return self._on_item("Send", lambda c, u, m: self.workflow.reply_direct(c, u, m, text))

    def dismiss(self, reason: str | None = None) -> Job:
        user, mid = self._user(), self._item()
        why = self._reason(reason, "Dismiss", "Why needs this no response?")
        return Job("Dismiss", lambda c: self.workflow.dismiss(c, user, mid, why))

    def escalate(self, reason: str | None = None) -> Job:
        user, mid = self._user(), self._item()
        why = self._reason(reason, "Escalate",
                           "Why does this need escalating? (This declares a crisis if none is open.)")  # fmt: skip
        return Job("Escalate", lambda c: self.workflow.escalate(c, user, mid, why))

    def retry(self) -> Job:
        return self._on_item("Retry", self.workflow.retry)

    def add_note(self, text: str) -> Job:
        job = self._on_item("Note", lambda c, u, m: self.workflow.add_note(c, u, m, text))
        if not text.strip():
            raise NotReady("")
        return job

    # -- the walls ---------------------------------------------------------------------

    def spotlight(self) -> Job:
        mid = self._item()
        return self.wall("spotlight", {"mention_id": mid})

    def wall(self, command: wallcontrol.Command, args: dict[str, Any], target: str = "*") -> Job:
        return self._job(f"Walls: {command}",
                         lambda c, u: self.workflow.wall(c, u, command, args, target=target))  # fmt: skip

    def switch_scene(self, screen: str, scene: str) -> Job:
        if not screen or not scene:
            raise NotReady("Choose a screen and a scene")
        return self.wall("scene", {"screen": screen, "scene": scene}, target=screen)

    # -- approvals ---------------------------------------------------------------------

    def _reply_id(self, given: int | None, what: str) -> int:
        rid = given if given is not None else self.reply
        if rid is None:
            raise NotReady(f"Select a reply to {what}")
        return rid

    def approve(self, reply_id: int | None = None) -> Job:
        self._user()
        rid = self._reply_id(reply_id, "approve")
        return self._job("Approve", lambda c, u: self.workflow.approve(c, u, rid))

    def reject(self, reply_id: int | None = None, reason: str | None = None) -> Job:
        self._user()
        rid = self._reply_id(reply_id, "send back")
        why = self._reason(reason, "Send back", "What should change?")
        return self._job("Send back", lambda c, u: self.workflow.reject(c, u, rid, why))

    # -- alerts and crisis -------------------------------------------------------------

    def _alert_id(self, given: int | None) -> int:
        aid = given or self.alert
        if aid is None:
            raise NotReady("Select an alert first")
        return aid

    def acknowledge(self, alert_id: int | None = None) -> Job:
        self._user()
        aid = self._alert_id(alert_id)
        return self._job("Acknowledge", lambda c, u: self.workflow.acknowledge_alert(c, u, aid))

    def accept_alert(self, alert_id: int | None = None) -> Job:
        self._user()
        aid = self._alert_id(alert_id)
        return self._job("Declare crisis", lambda c, u: self.workflow.accept_alert(c, u, aid))

    def declare_crisis(self, reason: str | None = None, topic: str | None = None) -> Job:
        self._user()
        why = self._reason(reason, "Declare a crisis", "What is happening?")
        on = topic if topic is not None else self.topic
        return self._job("Declare crisis", lambda c, u: self.workflow.declare_crisis(c, u, on, why))

    def end_crisis(self, summary: str | None = None) -> Job:
        self._user()
        text = self._reason(summary, "End the crisis", "Summary for the record:")
        return self._job("End crisis", lambda c, u: self.workflow.end_crisis(c, u, text))

    # -- the selected item's story -----------------------------------------------------

    def _on_story(self, label: str, fn: Callable[[sqlite3.Connection, str, int], Outcome | int]) -> Job:
        user, mid = self._user(), self._item()
        work = self.stories
        return Job(label, lambda c: fn(c, user, work.story_for(c, mid)), STORY_TABLES)

    def claim_story(self) -> Job:
        return self._on_story("Claim story", self.stories.claim_story)

    def answer_story(self, template: str | None) -> Job:
        job = self._on_story("Answer story",
                             lambda c, u, s: self.stories.answer_story(c, u, s, str(template)))  # fmt: skip
        if not template:
            raise NotReady("No template fits this item")
        return job

    def dismiss_duplicates(self, reason: str | None = None) -> Job:
        self._item()
        why = self._reason(reason, "Dismiss the story's duplicates",
                           "Why need the others no response? (The selected item stays.)")  # fmt: skip
        keep = self.item
        return self._on_story("Dismiss duplicates",
                              lambda c, u, s: self.stories.dismiss_duplicates(c, u, s, why, keep=keep))  # fmt: skip

    def take_out(self) -> Job:
        user, mid = self._user(), self._item()
        return Job("Take out of story", lambda c: self.stories.take_out(c, user, mid), STORY_TABLES)

    # -- the selected post's sentiment -------------------------------------------------

    def relabel(self, label: str) -> Job:
        """The operator's class for the post (audited; the rollups and the walls follow)."""
        user, mid = self._user(), self._item()
        return Job(f"Sentiment {label}", lambda c: relabel(c, user, mid, label), RELABEL_TABLES, (mid,))
