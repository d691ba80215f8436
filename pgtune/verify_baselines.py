"""Baselines verify may not hold what it plans and times now against: taken on another server, or for other values.

A cut is a cut only when both sides were taken alike. A hot standby has its own cache and load (p29): the times are
compared, and the summary says so. targets.json is the DBA's to read, and a target's values edited there (a small
website's id in place of website 1's) are the values verify plans and times now: against the baseline taken at emit
for the old ones, the "gain" is the two values' difference (v36: "ok 2,229x" on an Umami-shaped database). Such a
target is planned and timed as it is, its plan judged, and nothing of it compared with its baseline. After deploy
its baseline cannot be taken again for the new values: that needs the table without the index, which only a lock
or a disabled index gives on a live database. apply takes no baseline, and refuses an edited targets.json; before
deploy, `pgtune baseline` (baseline_retake) takes the edited targets' baselines again for their new values.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg

from . import baseline
from .plan import TARGETS, Migration, Target, script, sha256

# Why a target's baseline is not compared (TargetResult.not_compared), in the vocabulary of the disagreements' causes.
VALUES_EDITED = ("values: edited in targets.json since emit; its baseline was planned and timed with the old ones, so "
                 "its cost and time now are not compared with it")
VALUES_UNKNOWN = ("values: targets.json changed since emit, and this migration (written before pgtune kept the values "
                  "each baseline was taken with) cannot say whose values changed; no baseline is compared")


def not_comparable(m: Migration, directory: Path) -> list[str]:
    """Per target of ``m`` (loaded from ``directory``), why its baseline is not comparable with now, or ''."""
    digest = m.checksums.get(TARGETS)
    changed = digest is not None and sha256(script(directory, TARGETS)) != digest
    return [_why(t, changed) for t in m.targets]


def _why(t: Target, changed: bool) -> str:
    if t.baseline_values:
        return VALUES_EDITED if baseline.values_digest(t) != t.baseline_values else ""
    return VALUES_UNKNOWN if changed and t.baseline_cost is not None else ""


def elsewhere(conn: psycopg.Connection[Any], targets: list[Target], compared: list[bool]) -> str:
    """Why the times now and at emit come from different servers, or '' (``compared``: per target, a time now was
    compared with its baseline): p29 measured on a hot standby, where the application reads, against baselines
    emit timed on the primary (its own cache and load), and verify compared them with no word."""
    standby = baseline.in_recovery(conn)
    other = [t for t, c in zip(targets, compared, strict=True)
             if c and t.baseline_standby is not None and t.baseline_standby != standby]
    if not other:
        return ""
    here, there = ("a hot standby", "the primary") if standby else ("a primary", "a hot standby")
    return (f"measured on {here}, against baselines timed at emit on {there} for {len(other)} of "
            f"{len(compared)} statements: another server, with its own cache and load")


def baseline_how(t: Target) -> str:
    """How the baseline time of ``t`` was taken at emit, or why there is only its planner cost."""
    if t.baseline_ms is not None:
        if t.baseline_how:
            return f"at emit, {t.baseline_how}"
        return f"at emit, best of {t.baseline_runs} runs" if t.baseline_runs > 1 else "at emit"
    return f"planner cost only: {t.baseline_note}" if t.baseline_note else "planner cost only: not timed at emit"
