"""The configuration file: TOML validated by pydantic, every problem reported at once.

An error names the file, the key (``sources[1].interval_s``) and what was expected, so
the person at the wall PC can fix it without reading code. Secrets are never in here:
a source names the environment variable (or keyring entry) that holds its token.
"""

from __future__ import annotations

import codecs
import re
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

TopicKind = Literal["brand", "competitor", "industry", "campaign"]
_QUEUED_KINDS: tuple[TopicKind, ...] = ("brand", "campaign")


class FileProblems(Exception):
    """One or more problems in a file a person edits; ``problems`` lists them all."""

    def __init__(self, path: Path | str, problems: Sequence[str]) -> None:
        self.path = str(path)
        self.problems = list(problems)
        lines = "\n".join(f"  {p}" for p in self.problems)
        super().__init__(f"{self.path}: {len(self.problems)} problem(s)\n{lines}")


class ConfigError(FileProblems):
    """Problems in a config file."""


class SeveralProblems(ValueError):
    """Raised by a validator that found more than one problem at one place: each is said."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(self.problems))


class _Model(BaseModel):
    # strict: `true` is not a number nor 1.0 a count; finite: nan and inf are never settings
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)


#: human-facing text (names, handles): longer is a mistake, and would not fit a wall anyway
_NAME = 200
#: URLs, paths, queries
_LONG = 2000
_Short = Annotated[str, Field(max_length=_NAME)]


def _http_url(value: str) -> str:
    """A server's address: the sources speak HTTP only (``ftp://`` would fail on every poll)."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(value)
    except ValueError as exc:
        raise ValueError(f"not a URL ({exc}): http or https expected") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise ValueError("http or https expected, like https://mastodon.example")
    if not parts.hostname:
        raise ValueError("no host name: http or https expected, like https://mastodon.example")
    return value


_HttpUrl = Annotated[str, Field(max_length=_LONG), AfterValidator(_http_url)]


class Brand(_Model):
    name: str = Field(min_length=1, max_length=_NAME)
    accounts: list[_Short] = Field(default_factory=list, max_length=100)


class Topic(_Model):
    name: str = Field(min_length=1, max_length=64, pattern=r"^[^\s*]+$")
    kind: TopicKind = "brand"
    query: str = Field(min_length=1, max_length=_LONG)
    colour: str | None = Field(default=None, max_length=64)

    @field_validator("query")
    @classmethod
    def _query_parses(cls, value: str) -> str:
        from app.analysis.query import QueryError, parse

        try:
            parse(value)
        except QueryError as exc:
            raise ValueError(f"query does not parse: {exc}") from None
        return value


class _SourceBase(_Model):
    name: str = Field(min_length=1, max_length=64)
    enabled: bool = True
    interval_s: float = Field(default=60.0, gt=0, le=86_400)
    timeout_s: float = Field(default=20.0, gt=0, le=600)


class DemoSourceConfig(_SourceBase):
    type: Literal["demo"]
    rate_per_minute: float = Field(default=120.0, gt=0, le=6_000_000)
    interval_s: float = Field(default=1.0, gt=0)
    seed: int | None = None
    #: minutes between simulated crises (0 = never)
    crisis_every_min: float = Field(default=45.0, ge=0)
    #: minutes after the start of a run when its first crisis breaks out (its history is calm)
    crisis_first_min: float = Field(default=6.0, ge=0)
    crisis_length_min: float = Field(default=8.0, gt=0)
    #: a daily rhythm (quiet nights, busy evenings); off, the rate is flat
    rhythm: bool = True
    #: minutes of history written on first start so the wall has a past
    backfill_min: int = Field(default=180, ge=0, le=60 * 24 * 30)


class MastodonSourceConfig(_SourceBase):
    type: Literal["mastodon"]
    base_url: _HttpUrl
    hashtags: list[_Short] = Field(default_factory=list, max_length=100)
    queries: list[_Short] = Field(default_factory=list, max_length=100)
    notifications: bool = True
    token_env: _Short | None = None
    interval_s: float = Field(default=30.0, gt=0)
    #: pages read back on the first start of each stream (hashtag, query, notifications);
    #: 0 starts from now
    backfill_pages: int = Field(default=2, ge=0, le=50)
    #: statuses per request (Mastodon allows at most 40, notifications 80)
    page_size: int = Field(default=40, ge=1, le=80)


class BlueskySourceConfig(_SourceBase):
    type: Literal["bluesky"]
    base_url: _HttpUrl = "https://bsky.social"
    queries: list[_Short] = Field(default_factory=list, max_length=100)
    handle: _Short | None = None
    password_env: _Short | None = None
    notifications: bool = True
    interval_s: float = Field(default=30.0, gt=0)
    #: pages read back on the first start of each stream (query, notifications); 0 starts from now
    backfill_pages: int = Field(default=2, ge=0, le=50)
    #: posts per request (searchPosts allows at most 100)
    page_size: int = Field(default=50, ge=1, le=100)
    #: pages read per poll when catching up after a pause, before yielding a turn
    catch_up_pages: int = Field(default=5, ge=1, le=50)


class RssSourceConfig(_SourceBase):
    type: Literal["rss"]
    url: _HttpUrl
    interval_s: float = Field(default=300.0, gt=0)
    #: entries kept per poll (the newest first); a feed that never trims is bounded here
    max_entries: int = Field(default=200, ge=1, le=10_000)


SourceConfig = Annotated[
    DemoSourceConfig | MastodonSourceConfig | BlueskySourceConfig | RssSourceConfig,
    Field(discriminator="type"),
]


class Rules(_Model):
    """When a mention needs a response, and how urgent it is."""

    follower_threshold: int = Field(default=10_000, ge=0)
    negative_threshold: float = Field(default=-0.5, ge=-1, le=0)
    questions: bool = True
    #: only mentions tagged with one of these topic kinds are queued (ours, not competitors')
    queue_kinds: list[TopicKind] = Field(default_factory=lambda: list(_QUEUED_KINDS))


class Sentiment(_Model):
    """How posts are scored: the care scorer with this brand's own words, and what it reads."""

    #: "care": the care rules and the care classifier over them; "rules": the rules alone;
    #: "vader": plain VADER (the baseline)
    scorer: Literal["care", "rules", "vader"] = "care"
    #: words and phrases this brand counts as negative (for a phone maker: "hot", "runs hot")
    negative: list[str] = Field(default_factory=list)
    #: … and as positive
    positive: list[str] = Field(default_factory=list)
    #: words and phrases with their own weight on VADER's scale (−4 … 4)
    terms: dict[str, Annotated[float, Field(ge=-4, le=4, allow_inf_nan=False)]] = Field(
        default_factory=dict
    )
    #: languages told apart (ISO 639-1); a post in any but ``scored_languages`` is unscored
    languages: list[str] = Field(
        default_factory=lambda: ["en", "fr", "de", "es", "pt", "it", "nl", "ja", "zh", "ko", "ru", "ar"]
    )
    scored_languages: list[str] = Field(default_factory=lambda: ["en"])
    #: stored text is cut to this many characters (the full length is kept beside it)
    max_text_chars: int = Field(default=20_000, ge=500, le=1_000_000)

    @field_validator("languages", "scored_languages")
    @classmethod
    def _known_languages(cls, value: list[str]) -> list[str]:
        from lingua import IsoCode639_1

        unknown = [c for c in value if not hasattr(IsoCode639_1, c.upper()) or len(c) != 2]
        if unknown:
            raise ValueError(f"unknown ISO 639-1 language code(s): {', '.join(unknown)}")
        return [c.lower() for c in value]


class Alerts(_Model):
    """Spike detection: EWMA baseline per topic, alert at z ≥ ``z`` over ``min_count``."""

    z: float = Field(default=3.0, gt=0)
    min_count: int = Field(default=20, ge=1)
    window_min: int = Field(default=5, ge=1, le=120)
    baseline_min: int = Field(default=180, ge=10, le=60 * 24 * 7)
    ewma_alpha: float = Field(default=0.05, gt=0, lt=1)
    #: a volume spike is also at least this many times the usual rate
    min_ratio: float = Field(default=2.0, ge=1)
    cooldown_min: int = Field(default=30, ge=0)
    #: negative-surge alerts compare the negative share of the window with its baseline
    negative_z: float = Field(default=3.0, gt=0)
    negative_min_count: int = Field(default=10, ge=1)
    #: an unacknowledged alert resolves itself after this many minutes (0 = only by hand)
    auto_resolve_min: int = Field(default=0, ge=0)


class Retention(_Model):
    # at least a day: the wall's windows, trends and alert baselines look back that far
    mentions_days: float = Field(default=30, ge=1, le=36_500)
    minute_rollups_days: float = Field(default=3, ge=1, le=36_500)
    #: alerts and wall commands are kept this long (the alert history tiles show hours)
    alerts_days: float = Field(default=90, ge=1, le=36_500)


class Sla(_Model):
    """Minutes an item may wait for a response, by priority (P1 … P4)."""

    p1_min: int = Field(default=15, ge=1, le=525_600)
    p2_min: int = Field(default=60, ge=1, le=525_600)
    p3_min: int = Field(default=240, ge=1, le=525_600)
    p4_min: int = Field(default=1440, ge=1, le=525_600)


class Wall(_Model):
    layout: str = Field(default="demo", min_length=1, max_length=_LONG)
    theme: str = "dark"
    #: the only way to close a kiosk wall: modifiers and one key, like Qt writes them
    admin_chord: str = "Ctrl+Alt+Shift+Q"
    #: seconds without a movement before a kiosk hides the pointer
    cursor_idle_s: float = Field(default=3.0, ge=0.5, le=3600)
    #: burn-in care for panels that show the same title bar for weeks: the whole picture
    #: moves by this many pixels every ``pixel_shift_min`` minutes (0 = never)
    pixel_shift_px: int = Field(default=2, ge=0, le=16)
    pixel_shift_min: float = Field(default=10.0, ge=0, le=1440)

    @field_validator("pixel_shift_min")
    @classmethod
    def _shift_every(cls, value: float) -> float:
        if 0 < value < 1:
            raise ValueError("must be 0 (never) or at least 1 minute")
        return value

    @field_validator("admin_chord")
    @classmethod
    def _chord(cls, value: str) -> str:
        return check_chord(value)

    @field_validator("theme")
    @classmethod
    def _theme(cls, value: str) -> str:
        known = wall_themes()
        if value not in known:
            raise ValueError(f"unknown theme (shipped: {', '.join(known)})")
        return value


_MODIFIERS = ("Ctrl", "Alt", "Shift", "Meta")
#: key names Qt's QKeySequence reads (besides one printable character)
_KEY_NAMES = frozenset(
    k.lower()
    for k in ("Esc", "Escape", "Tab", "Backtab", "Backspace", "Return", "Enter", "Ins", "Insert",
              "Del", "Delete", "Pause", "Print", "SysReq", "Home", "End", "Left", "Up", "Right",
              "Down", "PgUp", "PgDown", "Space", *(f"F{n}" for n in range(1, 36)))
)  # fmt: skip


def check_chord(value: str) -> str:
    """A key chord for closing a kiosk: modifiers (one of them Ctrl, Alt or Meta) and a key.

    A key alone, or with Shift only, is typed by accident (one Escape would close the
    wall); Qt's own parser (``QKeySequence``) accepts these names, so what passes here runs.
    """
    example = "like Ctrl+Alt+Shift+Q"
    parts = [p.strip() for p in value.split("+")]
    if len(parts) < 2 or not all(parts):
        raise ValueError(f"needs modifiers and one key joined by '+', {example}")
    *mods, key = parts
    wrong = [m for m in mods if m.lower() not in {x.lower() for x in _MODIFIERS}]
    if wrong:
        raise ValueError(f"{wrong[0]!r} is not a modifier (one of {', '.join(_MODIFIERS)})")
    if len({m.lower() for m in mods}) != len(mods):
        raise ValueError("a modifier is named twice")
    if not {m.lower() for m in mods} & {"ctrl", "alt", "meta"}:
        raise ValueError(f"needs Ctrl, Alt or Meta, so it is never typed by accident ({example})")
    if not (len(key) == 1 and key.isprintable() and key not in " ,") and key.lower() not in _KEY_NAMES:
        raise ValueError(f"{key!r} is not a key Qt knows (a letter, a digit, F1…F35, Esc, …)")
    return value


def wall_themes() -> list[str]:
    """The wall themes shipped in ``assets/themes`` (the console's own sheet is not one)."""
    from app.resources import data_dir

    return sorted(p.stem for p in (data_dir("assets") / "themes").glob("*.qss") if p.stem != "console")


class Console(_Model):
    """The operator console and the queue workflow."""

    #: a claim nobody touches for this long is released, so nothing stays stuck
    claim_idle_min: float = Field(default=15, gt=0)
    #: tries of one reply before it waits for a person (same idempotency key every time)
    max_send_attempts: int = Field(default=5, ge=1, le=50)
    #: the templates file; empty: the shipped ``config/templates.toml``
    templates: str = Field(default="", max_length=_LONG)
    #: desktop notifications for new P1 items and spikes
    notify: bool = True
    #: a sound file (WAV) played with them; empty: silent
    sound: str = Field(default="", max_length=_LONG)
    #: priorities that raise a notification
    notify_priorities: list[Annotated[int, Field(ge=1, le=4)]] = Field(default_factory=lambda: [1])


class Audit(_Model):
    """Where the audit trail is anchored outside the database (see app/workflow/anchor.py)."""

    #: an environment variable or keyring entry holding the audit key (hex); empty: key_file
    key_name: str = Field(default="", max_length=200)
    #: the audit key file (created 0600 on first use); empty: audit.key in the user data folder
    key_file: str = Field(default="", max_length=4096)
    #: signed checkpoints of the chain's head are appended here; empty: the journal only
    checkpoint_file: str = Field(default="", max_length=4096)
    checkpoint_every_min: float = Field(default=5.0, ge=0.1, le=24 * 60)
    #: also send each checkpoint to the system journal (syslog)
    syslog: bool = True


class Room(_Model):
    """The shared PostgreSQL of a room of machines; absent, this machine stands alone.

    The URL carries no password: ``password_env`` names the secret, as for sources.
    """

    url: str = Field(min_length=1, max_length=_LONG)
    password_env: _Short | None = None
    sslmode: Literal["disable", "allow", "prefer", "require", "verify-ca", "verify-full"] = (
        "prefer"
    )
    sslrootcert: str | None = Field(default=None, max_length=_LONG)
    #: a name for this machine in the room (doctor, hub lock holder); empty: the host name
    station: str = Field(default="", max_length=48, pattern=r"^[\w.-]*$")

    @model_validator(mode="before")
    @classmethod
    def _hide_password(cls, data: Any) -> Any:
        # a password pasted into the URL is refused below; never echo it in the error
        if isinstance(data, dict) and isinstance(data.get("url"), str):
            data = {**data, "url": re.sub(r"(://[^/@:]*:)[^/@]*@", r"\1[secret]@", data["url"])}
        return data

    @field_validator("url")
    @classmethod
    def _url_without_password(cls, value: str) -> str:
        from app.room.connect import check_url

        return check_url(value)

    @model_validator(mode="after")
    def _root_cert_needs_verify(self) -> Room:
        if self.sslmode in {"verify-ca", "verify-full"} and not self.sslrootcert:
            raise ValueError(f"sslrootcert: needed with sslmode = {self.sslmode!r} "
                             "(the CA that signed the server's certificate)")  # fmt: skip
        return self


class Config(_Model):
    brand: Brand
    topics: list[Topic] = Field(default_factory=list, max_length=500)
    sources: list[SourceConfig] = Field(default_factory=list, max_length=200)
    rules: Rules = Rules()
    sentiment: Sentiment = Sentiment()
    alerts: Alerts = Alerts()
    retention: Retention = Retention()
    sla: Sla = Sla()
    wall: Wall = Wall()
    console: Console = Console()
    audit: Audit = Audit()
    room: Room | None = None

    @model_validator(mode="after")
    def _unique_names(self) -> Config:
        for label, names in (
            ("topics", [t.name for t in self.topics]),
            ("sources", [s.name for s in self.sources]),
        ):
            seen: set[str] = set()
            for name in names:
                if name in seen:
                    raise ValueError(f"{label}: the name {name!r} is used twice")
                seen.add(name)
        return self

    def topic(self, name: str) -> Topic | None:
        return next((t for t in self.topics if t.name == name), None)


def _loc(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(top level)"


def _clean_loc(loc: tuple[int | str, ...]) -> tuple[int | str, ...]:
    # pydantic puts the discriminator value ("mastodon") into the path of union members
    return tuple(p for p in loc if p not in {"demo", "mastodon", "bluesky", "rss"})


def _clip(text: str, limit: int = 80) -> str:
    """An over-long value quoted in an error is cut: the key says where it is."""
    return text if len(text) <= limit else f"{text[: limit - 1]}… ({len(text)} characters)"


def describe_validation_error(exc: ValidationError) -> list[str]:
    """Turn pydantic's errors into ``key: what was expected (got …)`` lines."""
    problems: list[str] = []
    for err in exc.errors():
        key = _loc(_clean_loc(err["loc"]))
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown key (a typo?)"
        elif err["type"] == "union_tag_invalid":
            msg = "type must be one of: demo, mastodon, bluesky, rss"
        elif err["type"] == "union_tag_not_found":
            key = f"{key}.type" if key != "(top level)" else "type"
            msg = "missing (one of: demo, mastodon, bluesky, rss)"
        got = err.get("input")
        if err["type"] not in {
            "missing",
            "extra_forbidden",
            "union_tag_not_found",
        } and not isinstance(got, dict | list):
            msg += f" (got {_clip(repr(got))})"
        cause = (err.get("ctx") or {}).get("error")
        if isinstance(cause, SeveralProblems):  # a check that found several: one line each
            problems.extend(f"{key}: {p}" for p in cause.problems)
        else:
            problems.append(f"{key}: {msg}")
    return problems


def parse_config(data: dict[str, Any], path: Path | str = "<config>") -> Config:
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(path, describe_validation_error(exc)) from None


#: a config or layout a person writes is a few kilobytes; a file this big is a mistake
MAX_FILE_BYTES = 1024 * 1024


def read_toml(path: Path | str, error: type[FileProblems]) -> dict[str, Any]:
    """Read a TOML file a person edits; raise ``error`` with one clear reason if it cannot be.

    Beyond syntax: a UTF-8 byte-order mark (Notepad writes one), UTF-16 text, a file too
    big or nested too deeply for a settings file, a number too long to be one.
    """
    path = Path(path)
    try:
        with path.open("rb") as fh:
            raw = fh.read(MAX_FILE_BYTES + 1)
    except IsADirectoryError:
        raise error(path, ["is a folder, not a file"]) from None
    except OSError as exc:
        raise error(path, [f"cannot read the file: {exc.strerror or exc}"]) from None
    if len(raw) > MAX_FILE_BYTES:
        raise error(path, [f"larger than {MAX_FILE_BYTES // 1024} KB: not a settings file"])
    if raw.startswith(codecs.BOM_UTF8):
        raise error(path, ["starts with a UTF-8 byte-order mark (BOM), which TOML does not "
                           "allow: save it as UTF-8 without a byte-order mark"])  # fmt: skip
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise error(path, ["is UTF-16 text (it starts with a byte-order mark): save it as UTF-8"])
    try:
        return tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise error(path, [f"not UTF-8 text (byte {exc.start})"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise error(path, [f"TOML syntax: {exc}"]) from None
    except RecursionError:
        raise error(path, ["nested too deeply (arrays or tables inside each other)"]) from None
    except ValueError as exc:  # an integer of thousands of digits
        raise error(path, [f"a value cannot be read: {_clip(str(exc))}"]) from None


def load_config(path: Path | str) -> Config:
    """Load and validate a config file, or raise :class:`ConfigError` listing every problem."""
    return parse_config(read_toml(path, ConfigError), path)
