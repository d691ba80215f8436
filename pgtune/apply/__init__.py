"""Apply: run a migration's phases against a live database, and roll them back.

Safety rules, each for a reason a DBA has been bitten by:

* A *session-level* advisory lock keeps two appliers apart. A transaction-level
  lock cannot be used: CREATE INDEX CONCURRENTLY waits for every older
  transaction, including the one holding the lock, and would hang.
* Every statement runs in autocommit, after the script's own SET lock_timeout,
  so a blocked DDL gives up quickly instead of queueing application traffic
  behind it; lock timeouts are retried with a bounded backoff, and so is the
  cleanup of what a timed-out build left.
* Crashes are reconciled from the catalog, not from a "dirty" flag: an index
  that exists, is valid and has the planned definition is done; an INVALID
  leftover of an interrupted concurrent build is dropped concurrently and rebuilt.
* What exists is compared by definition, not by name, and the history records
  the OID of every object pgtune built: an index of the same name but another
  definition is refused, and rollback drops only what this migration created.
* A client that dies leaves no orphan build behind for long:
  ``client_connection_check_interval`` makes the server notice within seconds.
"""

from __future__ import annotations

from ..history import DEFAULT_SCHEMA
from ..history import exists as history_exists
from ..script import index_target
from .monitor import BuildMonitor
from .report import Outcome, PhaseStatus, Report, Status, StepResult
from .runner import ADVISORY_KEY, TAG, Applier, check_server, check_version

__all__ = ["ADVISORY_KEY", "DEFAULT_SCHEMA", "TAG", "Applier", "BuildMonitor", "Outcome", "PhaseStatus", "Report",
           "Status", "StepResult", "check_server", "check_version", "history_exists", "index_target"]
