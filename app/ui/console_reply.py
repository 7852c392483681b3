"""The reply box: a pre-approved template, or free text for an approver, counted as the
item's network counts it."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.ui.console_parts import plain_label
from app.workflow import console_text
from app.workflow.limits import ReplyRoom
from app.workflow.queries import Detail
from app.workflow.templates import Template


class ReplyPane(QWidget):
    def __init__(self) -> None:
        super().__init__()
        self.detail: Detail | None = None
        self.templates: dict[str, Template] = {}
        #: the signed-in user may handle items (their role), and this item takes replies
        self.can_handle = False
        self.brand = ""
        self.operator = ""
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(plain_label("Reply", role="section"))
        trow = QHBoxLayout()
        self.template_box = QComboBox()
        self.template_box.currentIndexChanged.connect(lambda _: self.preview())
        self.template_button = QPushButton("Send template (T)")
        trow.addWidget(self.template_box, 1)
        trow.addWidget(self.template_button)
        lay.addLayout(trow)
        self.template_preview = plain_label("", role="muted")
        lay.addWidget(self.template_preview)
        self.reply_why = plain_label("", role="error")
        self.reply_why.hide()
        lay.addWidget(self.reply_why)
        self.text = QPlainTextEdit()
        self.text.setPlaceholderText("Free text: an approver signs it off before it goes out  (R)")
        self.text.setMaximumHeight(120)
        lay.addWidget(self.text)
        rrow = QHBoxLayout()
        self.counter = plain_label("", role="muted", wrap=False)
        self.review_note = plain_label("", role="error")
        self.save_button = QPushButton("Save draft")
        self.submit_button = QPushButton("Submit for approval")
        self.send_button = QPushButton("Send without approval")
        rrow.addWidget(self.counter)
        rrow.addWidget(self.review_note, 1)
        for b in (self.save_button, self.submit_button, self.send_button):
            rrow.addWidget(b)
        lay.addLayout(rrow)

    @property
    def buttons(self) -> tuple[QPushButton, ...]:
        return (self.template_button, self.save_button, self.submit_button, self.send_button)

    def words(self) -> str:
        return self.text.toPlainText()

    def chosen_template(self) -> str | None:
        name = self.template_box.currentData()
        return str(name) if name else None

    def show_item(self, d: Detail | None, templates: list[Template], room: ReplyRoom | None) -> None:
        """The templates that fit ``d``, its unsent draft, and whether it can be answered."""
        self.detail = d
        self.text.setEnabled(d is not None)
        self.template_box.setEnabled(d is not None)
        current = self.template_box.currentData()
        self.template_box.blockSignals(True)
        self.template_box.clear()
        self.templates = {t.name: t for t in templates}
        for t in templates:
            self.template_box.addItem(t.title or t.name, t.name)
        self.template_box.setCurrentIndex(max(self.template_box.findData(current), 0))
        self.template_box.blockSignals(False)
        if d is None:
            self.template_preview.setText("")
            self.review_note.setText("")
            self.counter.setText("")
            return
        self.preview()
        draft = next((r for r in reversed(d.replies) if r.state in {"draft", "awaiting_approval"}), None)
        if draft is not None and not self.words().strip():
            self.text.setPlainText(draft.text)
        self.review_note.setText(f"Sent back: {draft.review_note}" if draft and draft.review_note else "")
        possible = room is not None and room.possible
        for button in self.buttons:
            button.setEnabled(self.can_handle and possible)
        self.template_box.setEnabled(possible)
        self.text.setEnabled(possible)
        why = room.why if room is not None else ""
        self.reply_why.setText("" if possible else why[:1].upper() + why[1:] + ".")
        self.reply_why.setVisible(not possible)

    def preview(self) -> None:
        t = self.templates.get(self.template_box.currentData())
        if t is None or self.detail is None:
            self.template_preview.setText("No template fits this item." if self.detail else "")
            return
        self.template_preview.setText(console_text.preview(t, self.detail, self.brand, self.operator))

    def show_count(self, room: ReplyRoom | None) -> None:
        """The reply's length as its source counts it (links as 23 on Mastodon), and its limit."""
        if room is None:
            self.counter.setText("")
            return
        if not room.possible:
            self.counter.setText("no replies here")
            return
        self.counter.setText(f"{room.length} / {room.limit}" if room.limit else f"{room.length}")
        self.counter.setProperty("role", "error" if room.too_long else "muted")
        self.counter.style().polish(self.counter)
