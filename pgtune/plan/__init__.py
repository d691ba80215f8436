"""Plan: the phased migration model, written to and read from a folder.

A migration folder holds ``manifest.json`` (phases, planned objects, targeted
statements with their baseline cost, and a SHA-256 of every file) plus, per
phase, ``NN_up.sql`` and ``NN_down.sql``. The scripts are the source of truth:
``pgtune apply`` runs exactly what a DBA reviewed, and they also run with
``psql -v ON_ERROR_STOP=1 -f``. An edited file no longer matches its checksum
and is refused.
"""

from ..duration import check_timeout
from .folder import check_writable, emit, load, mismatches, script, sha256
from .layouts import Layout
from .layouts import write as write_layout
from .model import (
           FORMAT_VERSION,
           MANIFEST,
           TARGETS,
           ExistingConstraint,
           ExistingIndex,
           Migration,
           Phase,
           PhaseStep,
           PlannedConstraint,
           PlannedIndex,
           Target,
)
from .phases import build, planned_constraint
from .render import down_script, up_script

__all__ = ["FORMAT_VERSION", "MANIFEST", "TARGETS", "ExistingConstraint", "ExistingIndex", "Layout", "Migration",
           "Phase", "PhaseStep", "PlannedConstraint", "PlannedIndex", "Target", "build", "check_timeout",
           "check_writable", "down_script", "emit", "load", "mismatches", "planned_constraint", "script", "sha256",
           "up_script", "write_layout"]
