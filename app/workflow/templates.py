"""Pre-approved reply templates (``config/templates.toml``) and their placeholders.

Placeholders are filled from our own fields only ({author}, {brand}, …); the post's text
is never a placeholder, so nothing a stranger wrote can inject words into our reply.
"""

from __future__ import annotations

import string
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from app.config import FileProblems, describe_validation_error

PLACEHOLDERS = ("author", "author_name", "brand", "network", "topic", "operator")


class TemplateError(FileProblems):
    """Problems in a templates file."""


class Template(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    title: str = ""
    text: str = Field(min_length=1)
    #: words signed off in advance: sent without a second person's approval
    preapproved: bool = True
    #: during a crisis only crisis templates apply (and outside one, only the others)
    crisis: bool = False
    #: networks it fits (empty: all)
    networks: list[str] = Field(default_factory=list)
    #: topics it fits (empty: all)
    topics: list[str] = Field(default_factory=list)
    #: the mood of post it answers: offered first for posts of that sentiment
    tone: Literal["positive", "negative", "any"] = "any"

    @field_validator("text")
    @classmethod
    def _known_placeholders(cls, value: str) -> str:
        try:
            fields = [f for _, f, _, _ in string.Formatter().parse(value) if f is not None]
        except ValueError as exc:
            raise ValueError(f"bad braces: {exc} (write {{{{ and }}}} for literal braces)") from None
        unknown = sorted({f for f in fields if f not in PLACEHOLDERS})
        if unknown:
            raise ValueError(
                f"unknown placeholder(s) {', '.join('{' + u + '}' for u in unknown)};"
                f" known: {', '.join('{' + p + '}' for p in PLACEHOLDERS)}"
            )
        return value

    def fits(self, network: str, topics: list[str], *, crisis: bool) -> bool:
        return (
            self.crisis == crisis
            and (not self.networks or network in self.networks)
            and (not self.topics or any(t in self.topics for t in topics))
        )

    def rank(self, sentiment: float) -> int:
        """0 for a template made for this mood, 1 for any mood, 2 for the opposite one."""
        mood = "positive" if sentiment >= 0.05 else "negative" if sentiment <= -0.05 else "any"
        if self.tone == "any":
            return 1
        return 0 if self.tone == mood else 2

    def render(self, values: Mapping[str, str]) -> str:
        return self.text.format_map({p: values.get(p, "") for p in PLACEHOLDERS})


def placeholder_values(*, author: str, author_name: str, brand: str, network: str,
                       topics: list[str], operator: str) -> dict[str, str]:
    """What the placeholders stand for on one item (all of it ours or the author's name)."""
    return {
        "author": author, "author_name": author_name or author.lstrip("@"), "brand": brand,
        "network": network, "topic": topics[0] if topics else "", "operator": operator,
    }  # fmt: skip


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    templates: list[Template] = Field(default_factory=list)


def load_templates(path: Path | str) -> dict[str, Template]:
    """Templates by name, or :class:`TemplateError` listing every problem."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        parsed = _File.model_validate(data)
    except OSError as exc:
        raise TemplateError(path, [f"cannot read the file: {exc.strerror or exc}"]) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise TemplateError(path, [f"TOML syntax: {exc}"]) from None
    except ValidationError as exc:
        raise TemplateError(path, describe_validation_error(exc)) from None
    out: dict[str, Template] = {}
    problems = []
    for i, t in enumerate(parsed.templates):
        if t.name in out:
            problems.append(f"templates[{i}].name: the name {t.name!r} is used twice")
        out[t.name] = t
    if problems:
        raise TemplateError(path, problems)
    return out
