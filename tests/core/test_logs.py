"""Secrets never reach a log line: not in a message, not in a traceback."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from app.logs import setup_logging


def test_a_secret_is_masked_in_messages_and_tracebacks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    secret = "tok-3f9a0c2d1e"
    monkeypatch.setenv("WATCHFLOOR_TEST_TOKEN", secret)
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    try:
        path = setup_logging(secret_names=["WATCHFLOOR_TEST_TOKEN"], log_dir=tmp_path)
        log = logging.getLogger("watchfloor.test")
        log.error("refused token %s", secret)
        try:
            raise RuntimeError(f"server said: bad bearer {secret}")
        except RuntimeError:
            log.exception("source failed")
        for handler in root.handlers:
            handler.flush()
        assert path is not None
        written = path.read_text(encoding="utf-8")
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
            handler.close()
        for handler in saved[0]:
            root.addHandler(handler)
        root.setLevel(saved[1])
    shown = capsys.readouterr().err
    for text in (written, shown):
        assert secret not in text
        assert "refused token [secret]" in text
    # the file keeps the traceback; stderr shows one line a record (the traceback with -v)
    assert "bad bearer [secret]" in written and "Traceback" in written
    assert "Traceback" not in shown and "source failed" in shown
