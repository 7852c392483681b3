"""The console's first page: sign in, or on an empty database create the first administrator."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.store.writer import StoreWriter
from app.ui.console_model import Reader
from app.ui.console_parts import plain_label
from app.workflow.users import (
    Attempt,
    AuthFailed,
    FirstAdminExists,
    SignInThrottled,
    check_sign_in,
    create_first_admin,
    has_users,
    hash_password,
    password_problem,
    record_sign_in,
    station_id,
)


class LoginPage(QWidget):
    """Sign in; on an empty database, create the first administrator instead.

    Reading the users, checking a password (scrypt: tens of milliseconds) and adding the
    first administrator all happen off the GUI thread; the walls beside it never wait.
    """

    signed_in = Signal(object)  # User

    def __init__(self, reader: Reader, writer: StoreWriter, station: str | None = None) -> None:
        super().__init__()
        self.reader = reader
        self.writer = writer
        self.station = station or station_id()
        self.setObjectName("login")
        outer = QVBoxLayout(self)
        outer.addStretch(1)
        box = QWidget()
        box.setMinimumWidth(460)
        box.setMaximumWidth(560)
        form = QFormLayout(box)
        self.title = plain_label("Sign in to the watchfloor console", role="heading")
        form.addRow(self.title)
        self.name = QLineEdit()
        self.name.setPlaceholderText("user name")
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.again = QLineEdit()
        self.again.setEchoMode(QLineEdit.EchoMode.Password)
        form.addRow("User", self.name)
        form.addRow("Password", self.password)
        self.again_label = QLabel("Again")
        form.addRow(self.again_label, self.again)
        self.button = QPushButton("Sign in")
        self.button.setDefault(True)
        form.addRow(self.button)
        self.message = plain_label("", role="error")
        form.addRow(self.message)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(box)
        row.addStretch(1)
        outer.addLayout(row)
        outer.addStretch(2)
        self.button.clicked.connect(self.submit)
        self.password.returnPressed.connect(self.submit)
        self.again.returnPressed.connect(self.submit)
        #: None until the database has said whether any user exists
        self.first_admin: bool | None = None
        #: in a room: (name, password) → a future of the User, checked against the room's users
        self.check_in: Callable[[str, str], Future[Any]] | None = None
        self.again.hide()
        self.again_label.hide()
        self.button.setEnabled(False)
        self.refresh()

    def refresh(self) -> None:
        """Ask the database again whether any user exists (after a sign-out too)."""
        self.button.setEnabled(False)
        self.reader.read(lambda c: not has_users(c), self._mode)

    def _mode(self, empty: object) -> None:
        self.first_admin = empty is True and self.check_in is None  # a room's users are its own
        self.again.setVisible(self.first_admin)
        self.again_label.setVisible(self.first_admin)
        self.button.setEnabled(True)
        if self.first_admin:
            self.title.setText("No users yet: create the first administrator")
            self.button.setText("Create and sign in")
        else:
            self.title.setText("Sign in to the watchfloor console")
            self.button.setText("Sign in")

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        self.name.setFocus()  # type straight away, as at any sign-in screen

    def submit(self) -> None:
        if self.first_admin is None or not self.button.isEnabled():
            return
        name, password = self.name.text().strip(), self.password.text()
        if self.first_admin and password != self.again.text():
            self.message.setText("The two passwords differ.")
            return
        problem = password_problem(name, password) if self.first_admin else None
        if problem:
            self.message.setText(problem[0].upper() + problem[1:] + ".")
            return
        self.button.setEnabled(False)
        self.message.setText("")
        station = self.station
        if self.first_admin:
            # scrypt on the reader's thread, then the writer checks "still no user?" and inserts
            self.reader.read(lambda _: hash_password(password),
                             lambda h: self._create_admin(name, password, h))  # fmt: skip
        elif self.check_in is not None:
            self.check_in(name, password).add_done_callback(
                lambda f: self.reader.hand_over(self._answered, f.exception() or f.result()))
        else:
            self.reader.read(lambda c: check_sign_in(c, name, password, station), self._checked)

    def _create_admin(self, name: str, password: str, hashed: object) -> None:
        if not isinstance(hashed, str):
            self._answered(hashed)
            return
        fut = self.writer.call(lambda c: create_first_admin(c, name, password, hashed),
                               tables=("users", "audit"))  # fmt: skip
        fut.add_done_callback(
            lambda f: self.reader.hand_over(self._answered, f.exception() or f.result()))

    def _checked(self, attempt: object) -> None:
        if not isinstance(attempt, Attempt | SignInThrottled):
            self._answered(attempt)
            return
        station = self.station
        fut = self.writer.call(lambda c: record_sign_in(c, attempt, station),
                               tables=("signin_failures", "users", "audit"))  # fmt: skip
        fut.add_done_callback(
            lambda f: self.reader.hand_over(self._answered, f.exception() or f.result()))

    def _answered(self, result: object) -> None:
        self.button.setEnabled(True)
        if isinstance(result, FirstAdminExists):
            self.message.setText(f"Not created: {result}.")
            self.password.clear()
            self.again.clear()
            self.refresh()  # back to the sign-in page
            return
        if isinstance(result, AuthFailed):
            self.message.setText(f"Could not sign in: {result}.")
            self.password.clear()
            return
        if isinstance(result, BaseException):
            self.message.setText(str(result))
            return
        self.password.clear()
        self.again.clear()
        self.message.setText("")
        self.signed_in.emit(result)
