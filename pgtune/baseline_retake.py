"""``pgtune baseline DIR``: the baselines of the targets whose values a DBA edited in targets.json, taken again.

emit times each target with the values its scenarios chose (often the biggest tenant's); a DBA reviewing the
migration wants the before/after judged for their own representative values (a typical small site), and verify
compares nothing with a baseline taken for other values (verify_baselines.VALUES_EDITED). Before deploy the
baseline can be taken again exactly as emit took it (baseline.capture, same runs, cache handling and budget):
the table is still without the migration's indexes. After deploy it cannot (that needs the index dropped or
disabled, or a lock), so a migration applied in part, or any of whose indexes exists, is refused. Only values
may differ from emit (targets.json's digest without them, kept in the manifest): any other edit is refused as
apply refuses it. The costs predicted for the old values are predicted again with HypoPG, else dropped.
"""

from __future__ import annotations

import json
import os
from dataclasses import MISSING, asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from . import analyze, api, baseline, catalog_sql, plan
from ._text import Progress
from .apply import ADVISORY_KEY, AdvisoryLock
from .baseline_pace import paced
from .baseline_warm import hypothetical_ddl, warm_predictions
from .boundary import library_errors
from .capabilities import probe
from .connect import lost
from .errors import ChecksumMismatch, MigrationError
from .history import PhaseState
from .plan import MANIFEST, TARGETS, Migration, PlannedIndex, Target

# What a baseline and its prediction are made of (emit's capture, warm_predictions, paced): cleared before a target
# is taken again, so nothing of the old values' figures stays beside the new ones.
TAKEN = ("param_types", "baseline_cost", "baseline_plan", "baseline_ms", "baseline_runs", "baseline_read_blocks",
         "baseline_note", "baseline_how", "baseline_standby", "baseline_values", "predicted_cost",
         "warm_baseline_cost", "warm_predicted_cost", "predicted_with_statistics", "predicted_ms", "pace_query",
         "pace_ms", "warm_predicted_cpu", "predicted_scans", "heap_pages_planned", "heap_pages_sampled")

BUSY = ("baseline refused: it times the tables without the migration's indexes, which an apply may be building; "
        "take it before apply (or after a rollback)")


@dataclass
class Retaken:
    """A target whose baseline was taken again for the values targets.json holds now (docs/baseline-json.md)."""

    name: str
    query: str
    values: dict[str, str | None]
    baseline_cost_before: float | None
    baseline_cost: float | None
    baseline_ms_before: float | None
    baseline_ms: float | None
    baseline_how: str
    baseline_note: str
    predicted_cost_before: float | None
    predicted_cost: float | None
    predicted_ms: float | None          # the time predicted with the migration's indexes (baseline_pace)
    predicted: str


@dataclass
class BaselineReport:
    """What ``pgtune baseline`` did: the targets taken again, how many were left as emit took them."""

    migration_id: str
    directory: str
    targets: list[Retaken] = field(default_factory=list)
    unchanged: int = 0
    written: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "retaken": len(self.targets)}


@library_errors
def retake(conn: psycopg.Connection[Any], directory: Path, *, progress: Progress | None = None) -> BaselineReport:
    """Take again, as emit did, the baselines of ``directory``'s targets whose values were edited since emit, and
    write targets.json and its checksum so apply accepts the folder; refuse (nothing written) any other edit, and
    a migration any of whose indexes exists or that pgtune's history shows applied in part."""
    say = progress or (lambda _m: None)
    folder = plan.prisma_plan(directory) or Path(directory)
    m = plan.load(folder, check=False)
    text = _checked_files(m, folder)
    report = BaselineReport(m.id, str(directory))
    if text is None:
        report.unchanged = len(m.targets)
        return report                   # targets.json as emitted: every baseline is of its values
    # apply's own lock, held from the check that no index exists to the files written: an apply of this migration
    # started meanwhile would build them while the "before" is timed (k37). Refused, not waited for: after that
    # apply, the baseline is refused anyway.
    with AdvisoryLock(conn, ADVISORY_KEY, wait=0, say=say, hint=BUSY):
        _refuse_built(conn, m, directory)
        edited = [t for t in m.targets if baseline.values_digest(t) != t.baseline_values]
        say(f"taking the baselines of {len(edited)} edited targets again")
        taken = _taken(conn, edited, [ix for p in m.phases for ix in p.indexes], say)
        again = iter(taken)
        targets = [next(again)[0] if baseline.values_digest(t) != t.baseline_values else t for t in m.targets]
        _write(folder, targets)
    report.targets = [_row(old, new, why) for old, (new, why) in zip(edited, taken, strict=True)]
    report.unchanged, report.written = len(m.targets) - len(edited), True
    return report


def _checked_files(m: Migration, folder: Path) -> str | None:
    """targets.json's text when only its values changed since emit; None when it is as emitted. Refuses (exit 1)
    any other edit: a script, or targets.json beyond its values (or one emitted before that could be told)."""
    bad = [name for name in plan.mismatches(m, folder) if name != TARGETS]
    if bad:
        raise ChecksumMismatch(f"{', '.join(bad)} changed since emit (checksum mismatch): only the values in "
                               f"{TARGETS} may be edited before their baselines are taken again; re-emit the migration")
    for phase in m.phases:
        plan.match_steps(folder, phase.up_file, phase.up)
        plan.match_steps(folder, phase.down_file, phase.down)
    text = plan.script(folder, TARGETS)
    if plan.sha256(text) == m.checksums.get(TARGETS):
        return None
    if not m.targets_shape:
        raise ChecksumMismatch(f"{TARGETS} changed since emit, and this migration was emitted before pgtune kept its "
                               "digest without values, so an edit of values only cannot be told from another; "
                               "re-emit the migration")
    try:
        shape = plan.targets_shape(text)
    except ValueError as exc:
        raise MigrationError(f"{folder / TARGETS} is not valid JSON: {exc}").with_exit(1) from None
    if shape != m.targets_shape:
        raise ChecksumMismatch(f"{TARGETS} changed since emit in more than its values (values, scenarios[].values): "
                               "refusing to take baselines for unreviewed targets; re-emit the migration")
    for t in m.targets:
        if t.scenarios and t.values != (t.scenarios[0].get("values") or {}):
            raise MigrationError(f"{TARGETS}: {t.label}: values differ from its first scenario's (scenarios[0]."
                                 "values), which pgtune plans and times it with: edit both alike").with_exit(1)
    return text


def _refuse_built(conn: psycopg.Connection[Any], m: Migration, directory: Path) -> None:
    """A baseline is of the table without the migration's indexes: refuse when pgtune's history shows a phase
    run (applied, failed, interrupted), or one of its indexes exists (valid or not, built by whoever)."""
    ran = [f"{p.number} {p.state}" for p in api.status(conn, directory).phases
           if p.state not in (PhaseState.PENDING, PhaseState.ROLLED_BACK)]
    why = ("a baseline is timed on the tables without the migration's indexes, and pgtune never drops or disables "
           "an index or takes a lock to time \"before\"")
    if ran:
        raise MigrationError(f"baseline refused: migration {m.id} has run (phase {', '.join(ran)}): {why}; verify "
                             "then times the edited targets with their values, not compared").with_exit(1)
    wanted = [(ix.schema, ix.name) for p in m.phases for ix in p.indexes]
    wanted += [(x.schema, x.name) for p in m.phases for ix in p.indexes for x in ix.partitions]
    # apply's own query for the migration's indexes (sql/index_states.sql), not one of this command's.
    states = conn.execute(catalog_sql.load("index_states"),
                          {"schemas": [s for s, _ in wanted], "names": [n for _, n in wanted]}).fetchall()
    rows = sorted({(r[0], r[1], r[4]) for r in states})      # schema, name, is_valid
    if rows:
        found = ", ".join(f"{s}.{n}{'' if valid else ' (INVALID)'}" for s, n, valid in rows)
        raise MigrationError(f"baseline refused: the migration's index {found} exists already: {why}").with_exit(1)


def _taken(conn: psycopg.Connection[Any], edited: list[Target], indexes: list[PlannedIndex],
           say: Progress) -> list[tuple[Target, str]]:
    """``edited`` planned, timed and predicted again for their values, each with what became of its prediction."""
    cleared: dict[str, Any] = {f.name: f.default_factory() if f.default_factory is not MISSING else
               None if f.default is MISSING else f.default for f in fields(Target) if f.name in TAKEN}
    captured = baseline.capture(conn, [replace(t, **cleared) for t in edited], analyze=True, say=say)
    predicted, why = _predict(conn, [c for c, t in zip(captured, edited, strict=True)
                                     if t.predicted_cost is not None], indexes)
    captured = [replace(c, predicted_cost=predicted.get(c.key)) for c in captured]
    captured = paced(conn, warm_predictions(conn, captured, indexes), indexes)
    return [(c, _fate(t, c, why)) for t, c in zip(edited, captured, strict=True)]


def _fate(old: Target, new: Target, why: str) -> str:
    if old.predicted_cost is None:
        return "none at emit"
    if new.predicted_cost is not None:
        return "predicted again with HypoPG, the migration's indexes hypothetical"
    if new.baseline_cost is None:
        return f"dropped: it could not be planned with these values ({new.baseline_note})"
    return f"dropped: {why or 'its indexes cannot be made hypothetical'}"


def _predict(conn: psycopg.Connection[Any], targets: list[Target],
             indexes: list[PlannedIndex]) -> tuple[dict[Any, float], str]:
    """Each target's cost with the migration's indexes made hypothetical (HypoPG), as suggest predicted it; '' or
    why none could be: a target whose foreseen indexes HypoPG cannot all make (GIN, partitioned) gets none."""
    if not targets:
        return {}, ""
    if not probe(conn).hypopg_installed:
        return {}, "HypoPG is not installed in this database, and a cost predicted for the old values is no prediction"
    made = [(ix.name, d) for ix in indexes if not ix.partitioned for d in [hypothetical_ddl(ix)] if d is not None]
    hypopg = catalog_sql.extension_schema(conn, "hypopg")
    out = {}
    try:
        # suggest's own routine: an index the server refuses is skipped, and only the targets it serves go unpredicted
        names = {made[n][0] for n in analyze.made_hypothetically(conn, hypopg, [d for _, d in made]).values()}
        for t in targets:
            if t.baseline_cost is not None and t.expected_indexes and set(t.expected_indexes) <= names:
                out[t.key] = baseline.plan_target(conn, t).cost
    except (psycopg.Error, ValueError) as exc:
        if lost(conn):
            raise
        return {}, f"HypoPG could not plan it with the migration's indexes: {baseline.server_message(exc)}"
    finally:
        if not lost(conn):
            conn.execute(sql.SQL("SELECT /* pgtune */ {}()").format(catalog_sql.function(hypopg, "hypopg_reset")))
    return out, "its indexes cannot be made hypothetical (GIN, or on a partitioned table)"


def _write(folder: Path, targets: list[Target]) -> None:
    """targets.json as emit writes it, and the manifest's checksum and digest of it; each file replaced whole."""
    text = json.dumps([asdict(t) for t in targets], indent=1) + "\n"
    manifest = json.loads((folder / MANIFEST).read_text())
    manifest["checksums"][TARGETS] = plan.sha256(text)
    manifest["targets_shape"] = plan.targets_shape(text)
    for name, content in ((TARGETS, text), (MANIFEST, json.dumps(manifest, indent=2) + "\n")):
        tmp = folder / (name + ".tmp")
        tmp.write_bytes(content.encode())
        os.replace(tmp, folder / name)


def _row(old: Target, new: Target, predicted: str) -> Retaken:
    return Retaken(new.label, new.query, dict(new.values), old.baseline_cost, new.baseline_cost, old.baseline_ms,
                   new.baseline_ms, new.baseline_how, new.baseline_note, old.predicted_cost, new.predicted_cost,
                   new.predicted_ms, predicted)
