"""The configuration file: TOML validated by pydantic, every problem reported at once.

An error names the file, the key (``sources[1].interval_s``) and what was expected, so
the person at the wall PC can fix it without reading code. Secrets are never in here:
a source names the environment variable (or keyring entry) that holds its token.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

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


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Brand(_Model):
    name: str = Field(min_length=1)
    accounts: list[str] = Field(default_factory=list)


class Topic(_Model):
    name: str = Field(min_length=1, pattern=r"^[^\s*]+$")
    kind: TopicKind = "brand"
    query: str = Field(min_length=1)
    colour: str | None = None

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
    name: str = Field(min_length=1)
    enabled: bool = True
    interval_s: float = Field(default=60.0, gt=0)
    timeout_s: float = Field(default=20.0, gt=0)


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
    base_url: str
    hashtags: list[str] = Field(default_factory=list)
    queries: list[str] = Field(default_factory=list)
    notifications: bool = True
    token_env: str | None = None
    interval_s: float = Field(default=30.0, gt=0)
    #: pages read back on the first start of each stream (hashtag, query, notifications);
    #: 0 starts from now
    backfill_pages: int = Field(default=2, ge=0, le=50)
    #: statuses per request (Mastodon allows at most 40, notifications 80)
    page_size: int = Field(default=40, ge=1, le=80)


class BlueskySourceConfig(_SourceBase):
    type: Literal["bluesky"]
    base_url: str = "https://bsky.social"
    queries: list[str] = Field(default_factory=list)
    handle: str | None = None
    password_env: str | None = None
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
    url: str
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

    #: ``care``: VADER with the shipped care rules and the terms below; ``vader``: VADER alone
    scorer: Literal["care", "vader"] = "care"
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
    mentions_days: float = Field(default=30, gt=0)
    minute_rollups_days: float = Field(default=3, gt=0)


class Sla(_Model):
    """Minutes an item may wait for a response, by priority (P1 … P4)."""

    p1_min: int = 15
    p2_min: int = 60
    p3_min: int = 240
    p4_min: int = 1440


class Wall(_Model):
    layout: str = "demo"
    theme: str = "dark"
    admin_chord: str = "Ctrl+Alt+Shift+Q"
    cursor_idle_s: float = 3.0
    #: burn-in care for panels that show the same title bar for weeks: the whole picture
    #: moves by this many pixels every ``pixel_shift_min`` minutes (0 = never)
    pixel_shift_px: int = Field(default=2, ge=0, le=16)
    pixel_shift_min: float = Field(default=10.0, ge=0)


class Console(_Model):
    """The operator console and the queue workflow."""

    #: a claim nobody touches for this long is released, so nothing stays stuck
    claim_idle_min: float = Field(default=15, gt=0)
    #: tries of one reply before it waits for a person (same idempotency key every time)
    max_send_attempts: int = Field(default=5, ge=1, le=50)
    #: the templates file; empty: the shipped ``config/templates.toml``
    templates: str = ""
    #: desktop notifications for new P1 items and spikes
    notify: bool = True
    #: a sound file (WAV) played with them; empty: silent
    sound: str = ""
    #: priorities that raise a notification
    notify_priorities: list[int] = Field(default_factory=lambda: [1])


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

    url: str = Field(min_length=1)
    password_env: str | None = None
    sslmode: Literal["disable", "allow", "prefer", "require", "verify-ca", "verify-full"] = (
        "prefer"
    )
    sslrootcert: str | None = None
    #: a name for this machine in the room (doctor, hub lock holder); empty: the host name
    station: str = ""

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
    topics: list[Topic] = Field(default_factory=list)
    sources: list[SourceConfig] = Field(default_factory=list)
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


def describe_validation_error(exc: ValidationError) -> list[str]:
    """Turn pydantic's errors into ``key: what was expected (got …)`` lines."""
    problems = []
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
            msg += f" (got {got!r})"
        problems.append(f"{key}: {msg}")
    return problems


def parse_config(data: dict[str, Any], path: Path | str = "<config>") -> Config:
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(path, describe_validation_error(exc)) from None


def load_config(path: Path | str) -> Config:
    """Load and validate a config file, or raise :class:`ConfigError` listing every problem."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(path, [f"cannot read the file: {exc.strerror or exc}"]) from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigError(path, [f"not UTF-8 text (byte {exc.start})"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(path, [f"TOML syntax: {exc}"]) from None
    return parse_config(data, path)
