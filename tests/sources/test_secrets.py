"""Secrets: the environment first, then the keyring; the value never reaches a log."""

from __future__ import annotations

import logging

import keyring
import pytest

from app.secrets import get_secret


def test_environment_first(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WF_TEST_TOKEN", "from-env")
    monkeypatch.setattr(keyring, "get_password", lambda s, n: "from-keyring")
    assert get_secret("WF_TEST_TOKEN") == "from-env"


def test_keyring_service_watchfloor_then_nothing(monkeypatch: pytest.MonkeyPatch,
                                                 caplog: pytest.LogCaptureFixture) -> None:  # fmt: skip
    monkeypatch.delenv("WF_TEST_TOKEN", raising=False)
    asked: list[tuple[str, str]] = []

    def fake(service: str, name: str) -> str | None:
        asked.append((service, name))
        return "kr-value-123" if name == "WF_TEST_TOKEN" else None

    monkeypatch.setattr(keyring, "get_password", fake)
    with caplog.at_level(logging.DEBUG):
        assert get_secret("WF_TEST_TOKEN") == "kr-value-123"
        assert get_secret("WF_OTHER") is None
    assert asked == [("watchfloor", "WF_TEST_TOKEN"), ("watchfloor", "WF_OTHER")]
    assert "kr-value-123" not in caplog.text


def test_a_broken_keyring_means_not_found(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WF_TEST_TOKEN", raising=False)

    def broken(service: str, name: str) -> str:
        raise keyring.errors.NoKeyringError("no backend")

    monkeypatch.setattr(keyring, "get_password", broken)
    assert get_secret("WF_TEST_TOKEN") is None


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("echo: Authorization: Bearer abcdef123456 end", "echo: Authorization: Bearer [secret] end"),
        ('{"authorization": "Basic dXNlcjpwYXNz"}', '{"authorization": "Basic [secret]"}'),
        ("token was bearer zyx987wvu654 in the log", "token was bearer [secret] in the log"),
        ('{"accessJwt":"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJkaWQifQ.c2ln"}', '{"accessJwt":"[secret]"}'),
        ("GET /api?access_token=abc123def456&limit=5", "GET /api?access_token=[secret]&limit=5"),
        ("The access token is invalid", "The access token is invalid"),  # words stay words
        ("Invalid token provided", "Invalid token provided"),
    ],
)
def test_credential_shapes_are_masked_even_when_the_value_is_unknown(text: str, kept: str) -> None:
    from app.secrets import mask

    assert mask(text) == kept


def test_every_secret_read_is_masked_from_then_on(monkeypatch: pytest.MonkeyPatch) -> None:
    from app.secrets import mask

    monkeypatch.setenv("WF_TEST_TOKEN", "plain-value-77x")
    assert mask("got plain-value-77x back") == "got plain-value-77x back"  # not read yet
    get_secret("WF_TEST_TOKEN")
    assert mask("got plain-value-77x back") == "got [secret] back"


def test_session_tokens_are_masked_but_only_the_latest_are_kept() -> None:
    from app import secrets

    tokens = [f"session-token-{n:04d}" for n in range(secrets.SESSION_TOKENS_KEPT + 5)]
    for token in tokens:
        secrets.remember(token, session=True)
    assert secrets.mask(tokens[-1]) == "[secret]"  # the current session is masked
    assert secrets.mask(tokens[0]) == tokens[0]  # long expired: forgotten, the set stays bounded
