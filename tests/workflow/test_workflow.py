"""The queue workflow's rules, enforced by the store whoever calls it."""

from __future__ import annotations

import sqlite3
import time

import pytest

from app.workflow import audit
from app.workflow.service import QueueWorkflow
from app.workflow.states import TRANSITIONS, WorkflowError, check
from tests.workflow.conftest import Tx, queue_items


def state(conn: sqlite3.Connection, mid: str) -> tuple[str, str | None]:
    row = conn.execute("SELECT state, assignee FROM queue WHERE mention_id = ?", (mid,)).fetchone()
    return row[0], row[1]


def test_template_reply_goes_straight_to_the_outbox_and_is_sent(conn, tx: Tx, wf: QueueWorkflow) -> None:
    (mid,) = queue_items(conn, 1)
    tx(wf.claim, "olga", mid)
    assert state(conn, mid) == ("claimed", "olga")
    rid = tx(wf.reply_template, "olga", mid, "thanks")
    assert state(conn, mid)[0] == "approved"
    text = conn.execute("SELECT text FROM replies WHERE id = ?", (rid,)).fetchone()[0]
    assert text.startswith("Thank you, User 0!") and "olga, Lumio support" in text
    (item,) = tx(wf.take_due)
    assert item.reply_id == rid and item.reply_ref == {"demo_id": "0"}
    assert state(conn, mid)[0] == "sending"
    assert tx(wf.take_due) == []  # a second sender finds nothing to send
    tx(wf.mark_sent, rid, "native-1", "https://x.test/1")
    assert state(conn, mid)[0] == "sent"
    actions = [r["action"] for r in audit.rows(conn, mid)]
    assert actions == ["item.claim", "item.reply", "item.send", "item.sent"]


def test_free_text_needs_a_second_person(conn, tx: Tx, wf: QueueWorkflow) -> None:
    (mid,) = queue_items(conn, 1)
    tx(wf.claim, "olga", mid)
    with pytest.raises(WorkflowError, match="approver"):
        tx(wf.reply_direct, "olga", mid, "Hello there")
    rid = tx(wf.submit, "olga", mid, "Hello there, we are on it")
    assert state(conn, mid)[0] == "awaiting_approval"
    with pytest.raises(WorkflowError, match="role may not approve"):
        tx(wf.approve, "omar", rid)
    tx(wf.approve, "ada", rid)
    assert state(conn, mid)[0] == "approved"
    row = conn.execute("SELECT state, approved_by FROM replies WHERE id = ?", (rid,)).fetchone()
    assert row == ("approved", "ada")


def test_an_approver_cannot_approve_their_own_words(conn, tx: Tx, wf: QueueWorkflow) -> None:
    (mid,) = queue_items(conn, 1)
    tx(wf.claim, "ada", mid)
    rid = tx(wf.submit, "ada", mid, "my own words")
    with pytest.raises(WorkflowError, match="other than its writer"):
        tx(wf.approve, "ada", rid)


def test_rejected_reply_returns_to_its_writer_as_a_draft(conn, tx: Tx, wf: QueueWorkflow) -> None:
    (mid,) = queue_items(conn, 1)
    tx(wf.claim, "olga", mid)
    rid = tx(wf.submit, "olga", mid, "lol sorry")
    with pytest.raises(WorkflowError, match="needs a reason"):
        tx(wf.reject, "ada", rid, "  ")
    tx(wf.reject, "ada", rid, "tone: no 'lol' please")
    assert state(conn, mid) == ("draft", "olga")
    assert conn.execute("SELECT state, review_note FROM replies WHERE id = ?", (rid,)).fetchone() == (
        "draft", "tone: no 'lol' please")
    again = tx(wf.submit, "olga", mid, "We're sorry about this.")
    # what goes back to an approver is a reply of its own: one who read the first words
    # cannot sign off the new ones under the old id
    assert again != rid
    assert conn.execute("SELECT state FROM replies WHERE id = ?", (rid,)).fetchone() == ("withdrawn",)
    with pytest.raises(WorkflowError, match="not awaiting approval"):
        tx(wf.approve, "ada", rid)
    tx(wf.approve, "ada", again)
    assert conn.execute("SELECT state, text FROM replies WHERE id = ?", (again,)).fetchone() == (
        "approved", "We're sorry about this.")


def test_send_without_approval_is_a_per_user_right(conn, tx: Tx, wf: QueueWorkflow) -> None:
    (mid,) = queue_items(conn, 1)
    tx(wf.claim, "sam", mid)
    tx(wf.reply_direct, "sam", mid, "On it!")
    assert state(conn, mid)[0] == "approved"


def test_free_text_cannot_be_approved_by_writing_sql(conn, tx: Tx, wf: QueueWorkflow) -> None:
    """A program that skips the workflow and writes the row itself is refused by the store."""
    (mid,) = queue_items(conn, 1)
    tx(wf.claim, "olga", mid)
    rid = tx(wf.submit, "olga", mid, "sneaky words")
    with pytest.raises(sqlite3.IntegrityError, match="approver"):
        conn.execute("UPDATE replies SET state = 'approved', approved_by = 'olga' WHERE id = ?", (rid,))
    with pytest.raises(sqlite3.IntegrityError, match="approver"):
        conn.execute("UPDATE replies SET state = 'approved', approved_by = 'vic' WHERE id = ?", (rid,))
    with pytest.raises(sqlite3.IntegrityError, match="starts as a draft"):
        conn.execute(
            "INSERT INTO replies (mention_id, author, text, state, created_ts, updated_ts,"
            " idempotency_key) VALUES (?, 'olga', 'x', 'approved', 0, 0, 'k')", (mid,))
    assert tx(wf.take_due) == []


def test_only_the_claimant_works_an_item_and_claims_expire(conn, tx: Tx, db_path) -> None:
    wf = QueueWorkflow()
    (mid,) = queue_items(conn, 1)
    tx(wf.claim, "olga", mid)
    with pytest.raises(WorkflowError, match="olga has claimed"):
        tx(wf.claim, "omar", mid)
    with pytest.raises(WorkflowError, match="only the person who claimed"):
        tx(wf.save_draft, "omar", mid, "mine now")
    assert tx(wf.expire_claims, time.time() + 10 * 3600) == 1
    assert state(conn, mid) == ("new", None)
    tx(wf.claim, "omar", mid)
    assert state(conn, mid) == ("claimed", "omar")
    assert [r["actor"] for r in audit.rows(conn, mid)] == ["olga", "system", "omar"]


def test_viewers_only_look(conn, tx: Tx, wf: QueueWorkflow) -> None:
    (mid,) = queue_items(conn, 1)
    with pytest.raises(WorkflowError, match="role may not claim"):
        tx(wf.claim, "vic", mid)
    with pytest.raises(WorkflowError, match="unknown or disabled user"):
        tx(wf.claim, "mallory", mid)


def test_dismiss_needs_a_reason_and_can_be_reopened(conn, tx: Tx, wf: QueueWorkflow) -> None:
    (mid,) = queue_items(conn, 1)
    with pytest.raises(WorkflowError, match="needs a reason"):
        tx(wf.dismiss, "olga", mid, "")
    tx(wf.dismiss, "olga", mid, "spam")
    assert state(conn, mid) == ("dismissed", None)
    with pytest.raises(WorkflowError, match="role may not reopen"):
        tx(wf.reopen, "olga", mid)
    tx(wf.reopen, "ada", mid)
    assert state(conn, mid)[0] == "new"


def test_transient_failures_retry_with_the_same_key_then_wait_for_a_person(conn, tx: Tx) -> None:
    wf = QueueWorkflow()
    wf.rules = type(wf.rules)(max_attempts=2, retry_base_s=0)
    (mid,) = queue_items(conn, 1)
    tx(wf.claim, "sam", mid)
    tx(wf.reply_direct, "sam", mid, "hi")
    (first,) = tx(wf.take_due)
    assert tx(wf.mark_failed, first.reply_id, "timed out", retryable=True) is True
    assert state(conn, mid)[0] == "approved"
    (second,) = tx(wf.take_due)
    assert second.idempotency_key == first.idempotency_key and second.attempts == 2
    assert tx(wf.mark_failed, second.reply_id, "timed out", retryable=True) is False
    assert state(conn, mid)[0] == "failed"
    tx(wf.retry, "olga", mid)
    (third,) = tx(wf.take_due)
    assert third.idempotency_key == first.idempotency_key


def test_a_refused_reply_fails_at_once(conn, tx: Tx, wf: QueueWorkflow) -> None:
    (mid,) = queue_items(conn, 1)
    tx(wf.claim, "sam", mid)
    tx(wf.reply_direct, "sam", mid, "hi")
    (item,) = tx(wf.take_due)
    assert tx(wf.mark_failed, item.reply_id, "the reply is too long", retryable=False) is False
    assert state(conn, mid)[0] == "failed"


def test_a_reply_stuck_in_sending_after_a_crash_is_sent_again(conn, tx: Tx, wf: QueueWorkflow) -> None:
    (mid,) = queue_items(conn, 1)
    tx(wf.claim, "sam", mid)
    tx(wf.reply_direct, "sam", mid, "hi")
    (item,) = tx(wf.take_due)
    assert tx(wf.take_due) == []
    (again,) = tx(wf.take_due, now=time.time() + 3600)
    assert again.reply_id == item.reply_id and again.idempotency_key == item.idempotency_key


def test_escalation_declares_a_crisis_where_only_crisis_rules_apply(conn, tx: Tx, wf: QueueWorkflow) -> None:
    first, second = queue_items(conn, 2)
    tx(wf.claim, "olga", first)
    with pytest.raises(WorkflowError, match="needs a reason"):
        tx(wf.escalate, "olga", first, "")
    crisis_id = tx(wf.escalate, "olga", first, "battery fire reports")
    assert state(conn, first) == ("escalated", None)
    assert conn.execute("SELECT topic, ended_ts FROM crises WHERE id = ?", (crisis_id,)).fetchone() == (
        "lumio", None)
    # the other item shares the crisis topic: normal templates no longer apply
    tx(wf.claim, "omar", second)
    names = {t.name for t in tx(wf.templates_for, second)}
    assert names == {"crisis-holding", "crisis-support"}
    with pytest.raises(WorkflowError, match="crisis templates"):
        tx(wf.reply_template, "omar", second, "thanks")
    rid = tx(wf.submit, "omar", second, "We are investigating.")
    with pytest.raises(WorkflowError, match="spokesperson"):
        tx(wf.approve, "ada", rid)
    tx(wf.approve, "spoke", rid)
    # an escalated item is taken over by an approver
    with pytest.raises(WorkflowError, match="approver or admin"):
        tx(wf.claim, "omar", first)
    tx(wf.claim, "spoke", first)
    tx(wf.reply_template, "spoke", first, "crisis-holding")
    kinds = [r[0] for r in conn.execute(
        "SELECT kind FROM crisis_events WHERE crisis_id = ? ORDER BY id", (crisis_id,))]
    assert kinds == ["declared", "escalate", "claim", "reply"]
    with pytest.raises(WorkflowError, match="approver or admin"):
        tx(wf.end_crisis, "olga")
    tx(wf.end_crisis, "ada", "resolved: a faulty charger batch")
    assert tx(wf.open_crisis) is None
    assert {t.name for t in tx(wf.templates_for, second)} >= {"thanks"}


def test_accepting_an_alert_declares_a_crisis_on_its_topic(conn, tx: Tx, wf: QueueWorkflow) -> None:
    conn.execute(
        "INSERT INTO alerts (kind, topic, ts, window_start, observed, baseline, z, explanation)"
        " VALUES ('spike', 'lumio', ?, ?, 40, 4, 9, 'lumio: 40 mentions/min')",
        (time.time(), time.time() - 300),
    )
    (alert_id,) = conn.execute("SELECT max(id) FROM alerts").fetchone()
    crisis_id = tx(wf.accept_alert, "ada", alert_id)
    assert conn.execute("SELECT topic, alert_id FROM crises WHERE id = ?", (crisis_id,)).fetchone() == (
        "lumio", alert_id)
    assert conn.execute("SELECT state, acked_by FROM alerts WHERE id = ?", (alert_id,)).fetchone() == (
        "acknowledged", "ada")


def test_wall_control_is_audited_and_needs_a_role(conn, tx: Tx, wf: QueueWorkflow) -> None:
    (mid,) = queue_items(conn, 1)
    tx(wf.wall, "olga", "spotlight", {"mention_id": mid})
    with pytest.raises(WorkflowError, match="may not send scene"):
        tx(wf.wall, "olga", "scene", {"screen": "overview", "scene": "crisis"}, target="overview")
    tx(wf.wall, "ada", "scene", {"screen": "overview", "scene": "crisis"}, target="overview")
    assert [r["action"] for r in audit.rows(conn)][-2:] == ["wall.spotlight", "wall.scene"]


def test_every_transition_in_the_table_is_reachable_only_from_its_sources() -> None:
    from app.workflow.states import STATES

    for action, t in TRANSITIONS.items():
        for s in STATES:
            if s in t.sources:
                assert check(action, s, granted=True, is_assignee=True, is_admin=True,
                             reason="r") == t.target
            else:
                with pytest.raises(WorkflowError, match="cannot"):
                    check(action, s, granted=True, is_assignee=True, is_admin=True, reason="r")


def test_templates_for_a_complaint_offer_an_apology_first(conn, tx: Tx, wf: QueueWorkflow) -> None:
    sad, happy = queue_items(conn, 2)
    conn.execute("UPDATE mentions SET sentiment = 0.8 WHERE id = ?", (happy,))
    assert tx(wf.templates_for, sad)[0].tone == "negative"
    assert tx(wf.templates_for, happy)[0].name == "thanks"
    assert tx(wf.templates_for, sad)[-1].name == "thanks"


def test_an_admin_may_take_over_a_live_claim(conn, tx: Tx, wf: QueueWorkflow) -> None:
    (mid,) = queue_items(conn, 1)
    tx(wf.claim, "olga", mid)
    tx(wf.save_draft, "olga", mid, "half-written")
    with pytest.raises(WorkflowError, match="olga has claimed"):
        tx(wf.claim, "ada", mid)  # an approver may not
    tx(wf.claim, "root", mid)
    assert state(conn, mid) == ("draft", "root")
    assert list(audit.rows(conn, mid))[-1]["after"]["taken_from"] == "olga"


def test_a_disabled_user_can_neither_act_nor_extend_a_claim(conn, tx: Tx, wf: QueueWorkflow) -> None:
    from app.workflow.users import set_disabled

    (mid,) = queue_items(conn, 1)
    tx(wf.claim, "olga", mid)
    (expires,) = conn.execute("SELECT claim_expires FROM queue WHERE mention_id = ?", (mid,)).fetchone()
    tx(set_disabled, "olga", True)
    for action, args in ((wf.claim, ()), (wf.touch, ()), (wf.save_draft, ("a draft",)),
                         (wf.release, ()), (wf.dismiss, ("spam",))):  # fmt: skip
        with pytest.raises(WorkflowError, match="disabled user"):
            tx(action, "olga", mid, *args)
    assert conn.execute("SELECT claim_expires, state FROM queue WHERE mention_id = ?",
                        (mid,)).fetchone() == (expires, "claimed")  # fmt: skip
