"""The workflow's settings from the config: templates, claim idle time, send attempts."""

from __future__ import annotations

from pathlib import Path

from app.config import Config
from app.resources import templates_path
from app.workflow.limits import build_reply_sources
from app.workflow.service import QueueWorkflow, Rules
from app.workflow.templates import Template, load_templates


def templates_file(config: Config, config_dir: Path | None = None) -> Path:
    """``[console] templates``, relative to the config file's folder; else the shipped file."""
    name = config.console.templates
    if not name:
        return templates_path()
    path = Path(name).expanduser()
    if not path.is_absolute() and config_dir is not None:
        path = config_dir / path
    return path


def rules_from_config(config: Config, templates: dict[str, Template]) -> Rules:
    return Rules(
        brand=config.brand.name,
        claim_idle_s=config.console.claim_idle_min * 60,
        max_attempts=config.console.max_send_attempts,
        templates=templates,
    )


def build_workflow(config: Config, config_dir: Path | None = None) -> QueueWorkflow:
    """Raises :class:`~app.workflow.templates.TemplateError` naming the file and key."""
    return QueueWorkflow(rules_from_config(config, load_templates(templates_file(config, config_dir))),
                         build_reply_sources(config.sources))
