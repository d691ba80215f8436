"""Apply: run a migration's phases against a live database, and roll them back (see runner for the rules)."""

from __future__ import annotations

from ..history import DEFAULT_SCHEMA
from ..history import exists as history_exists
from .analyzed import analyzed_before_build
from .catalog import ObjectStates
from .lock import AdvisoryLock
from .monitor import BuildMonitor
from .report import IndexSize, Outcome, PhaseStatus, Report, SettingState, SettingStatus, Status, StepResult
from .runner import ADVISORY_KEY, TAG, Applier
from .server import check_server, check_version

__all__ = [
           "ADVISORY_KEY",
           "DEFAULT_SCHEMA",
           "TAG",
           "AdvisoryLock",
           "Applier",
           "BuildMonitor",
           "IndexSize",
           "ObjectStates",
           "Outcome",
           "PhaseStatus",
           "Report",
           "SettingState",
           "SettingStatus",
           "Status",
           "StepResult",
           "analyzed_before_build",
           "check_server",
           "check_version",
           "history_exists",
]
