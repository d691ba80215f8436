"""Plan: the phased migration model, written to and read from a folder.

A migration folder holds ``manifest.json`` (phases, planned objects, each
phase's typed steps, targeted statements with their baseline cost, and a
SHA-256 of every file) plus, per phase, ``NN_up.sql`` and ``NN_down.sql``.
The scripts are the source of truth: ``pgtune apply`` runs exactly what a DBA
reviewed, and they also run with ``psql -v ON_ERROR_STOP=1 -f``. An edited
file no longer matches its checksum and is refused; every unit of a script
must be its step (plan.steps), which tells apply what the unit touches.
"""

from ..duration import check_timeout
from . import partitions, timeouts
from .folder import check_writable, emit, load, match_steps, mismatches, script, sha256, targets_shape
from .layout_write import write as write_layout
from .layouts import Layout, without_ledgers
from .layouts import _slug as folder_slug
from .model import (
           FORMAT_VERSION,
           MANIFEST,
           TARGETS,
           ExistingConstraint,
           ExistingIndex,
           IndexFix,
           Migration,
           PartitionIndex,
           Phase,
           PhaseStep,
           PlannedConstraint,
           PlannedExtension,
           PlannedIndex,
           PlannedSetting,
           PlannedStatistics,
           SettingScope,
           Target,
           target_labels,
)
from .partitions import AttachedIndex, PartitionMap, child_name
from .phases import build, planned_constraint
from .prisma_folders import PLAN_DIR, first_folder, folder_phases, prisma_plan
from .prisma_layout import home_down
from .render import down_script, down_steps, up_script, up_steps
from .steps import Action, Direction, Name, ObjectKind, Step, index_key, roots

__all__ = ["FORMAT_VERSION", "MANIFEST", "PLAN_DIR", "TARGETS", "Action", "AttachedIndex", "Direction",
           "ExistingConstraint", "ExistingIndex", "IndexFix", "Layout", "Migration", "Name", "ObjectKind",
           "PartitionIndex", "PartitionMap", "Phase", "PhaseStep", "PlannedConstraint", "PlannedExtension",
           "PlannedIndex", "PlannedSetting", "PlannedStatistics", "SettingScope", "Step", "Target", "build",
           "check_timeout", "check_writable", "child_name", "down_script", "down_steps", "emit", "first_folder",
           "folder_phases", "folder_slug", "home_down", "index_key", "load", "match_steps", "mismatches", "partitions",
           "planned_constraint", "prisma_plan", "roots", "script", "sha256", "target_labels", "targets_shape",
           "timeouts", "up_script", "up_steps", "without_ledgers", "write_layout"]
