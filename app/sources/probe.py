"""What ``doctor`` finds out about each configured source by asking its server now.

Reachability and credentials are not enough: Mastodon-API servers differ in what they
answer (a search that never finds anything, timelines that answer nothing for
``min_id``), and IT should learn it from ``doctor`` rather than from a quiet wall. Each
source's :meth:`~app.sources.base.Source.probe` says what it found, line by line.
"""

from __future__ import annotations

import asyncio

import httpx

from app.config import Config
from app.sources.base import Finding

#: the most one source's probes may take before doctor moves on
PROBE_TIMEOUT_S = 45.0


async def probe_all(config: Config) -> list[tuple[str, list[Finding]]]:
    """Every enabled source's findings, in config order; a probe that crashes is a finding too."""
    from app.poller import source_context
    from app.sources.registry import build_source

    ctx = source_context(config)
    out: list[tuple[str, list[Finding]]] = []
    async with httpx.AsyncClient(timeout=15.0) as client:
        for cfg in config.sources:
            if not cfg.enabled:
                continue
            try:
                source = build_source(cfg, ctx)
                try:
                    findings = await asyncio.wait_for(source.probe(client), timeout=PROBE_TIMEOUT_S)
                finally:
                    await source.aclose()
            except TimeoutError:
                findings = [Finding("bad", f"no answer within {PROBE_TIMEOUT_S:g} s")]
            except Exception as exc:  # doctor reports, never crashes
                findings = [Finding("bad", f"check failed: {type(exc).__name__}: {exc}")]
            out.append((cfg.name, findings))
    return out


def probe_sources(config: Config) -> list[tuple[str, list[Finding]]]:
    """:func:`probe_all` for a command-line caller (its own event loop)."""
    return asyncio.run(probe_all(config))
