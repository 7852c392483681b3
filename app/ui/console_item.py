"""The selected item: the post as plain text, why it was queued, its context, what can be
done with it, and its whole history."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QHBoxLayout,
    QLineEdit,
    QListWidget,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.analysis.sentiment import Explanation
from app.ui.console_parts import plain_label
from app.workflow import console_text
from app.workflow.queries import Detail


class ItemPane(QWidget):
    def __init__(self, reply: QWidget) -> None:
        super().__init__()
        lay = QVBoxLayout(self)
        self.item_head = plain_label(console_text.NO_ITEM, role="heading")
        self.item_meta = plain_label("", role="muted")
        self.post = QPlainTextEdit()
        self.post.setReadOnly(True)
        self.post.setObjectName("post")
        self.post.setMaximumHeight(180)
        self.why = plain_label("", role="muted")
        self.context = plain_label("", role="muted")
        self.thread_label = plain_label("", role="muted")
        self.drivers = plain_label("", role="muted")
        for w in (self.item_head, self.item_meta, self.drivers, self.thread_label, self.post, self.why,
                  self.context):  # fmt: skip
            lay.addWidget(w)
        self.story_box = QWidget()
        sbox = QVBoxLayout(self.story_box)
        sbox.setContentsMargins(0, 0, 0, 0)
        self.story_label = plain_label("", role="muted")
        sbox.addWidget(self.story_label)
        srow = QHBoxLayout()
        sbox.addLayout(srow)
        self.claim_story_button = QPushButton("Claim story (Shift+C)")
        self.answer_story_button = QPushButton("Answer story (Shift+T)")
        self.dismiss_story_button = QPushButton("Dismiss duplicates… (Shift+D)")
        self.take_out_button = QPushButton("Take out of story (X)")
        for b in self.story_buttons:
            srow.addWidget(b)
        srow.addStretch(1)
        lay.addWidget(self.story_box)
        self.story_box.hide()
        buttons = QHBoxLayout()
        self.claim_button = QPushButton("Claim (C)")
        self.release_button = QPushButton("Release")
        self.dismiss_button = QPushButton("Dismiss… (D)")
        self.escalate_button = QPushButton("Escalate… (E)")
        self.spotlight_button = QPushButton("Spotlight on wall (S)")
        self.retry_button = QPushButton("Retry sending")
        for b in self.buttons:
            buttons.addWidget(b)
        buttons.addStretch(1)
        lay.addLayout(buttons)
        lay.addWidget(reply)
        lay.addWidget(plain_label("Notes and history", role="section"))
        self.history = QListWidget()
        lay.addWidget(self.history, 1)
        nrow = QHBoxLayout()
        self.note_edit = QLineEdit()
        self.note_edit.setPlaceholderText("Internal note (not sent)")
        nrow.addWidget(self.note_edit, 1)
        self.note_button = QPushButton("Add note")
        nrow.addWidget(self.note_button)
        lay.addLayout(nrow)

    @property
    def buttons(self) -> tuple[QPushButton, ...]:
        return (self.claim_button, self.release_button, self.dismiss_button, self.escalate_button,
                self.spotlight_button, self.retry_button)  # fmt: skip

    @property
    def story_buttons(self) -> tuple[QPushButton, ...]:
        return (self.claim_story_button, self.answer_story_button, self.dismiss_story_button,
                self.take_out_button)  # fmt: skip

    def show_item(self, d: Detail | None, explanation: Explanation | None = None) -> None:
        self.post.setEnabled(d is not None)
        self.note_edit.setEnabled(d is not None)
        self.story_box.setVisible(d is not None and d.story is not None)
        if d is not None and d.story is not None:
            self.story_label.setText(console_text.story(d.story))
        self.drivers.setText(console_text.drivers(explanation) if d is not None else "")
        if d is None:
            self.item_head.setText(console_text.NO_ITEM)
            for w in (self.item_meta, self.why, self.context):
                w.setText("")
            self.post.setPlainText("")
            self.history.clear()
            self.retry_button.hide()
            return
        self.item_head.setText(console_text.head(d))
        self.item_meta.setText(console_text.meta(d))
        self.post.setPlainText(console_text.post(d))
        self.why.setText(console_text.why(d))
        self.context.setText(console_text.context(d))
        self.history.clear()
        for line in console_text.history(d):
            self.history.addItem(line)
        self.retry_button.setVisible(d.state == "failed")
