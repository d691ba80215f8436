"""Phase policy: which change goes in which phase, cheapest risk first."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from .. import ddl
from ..analyze import Advice, AnalyzedStatement, IndexSuggestion, Method, Origin, StatisticsProposal
from ..constraints.model import Proposal
from .model import (
    Migration,
    Phase,
    PhaseStep,
    PlannedConstraint,
    PlannedExtension,
    PlannedIndex,
    PlannedStatistics,
    Target,
)
from .partitions import PartitionMap


def build(advice: Advice, *, slug: str = "indexes", lock_timeout: str = "5s",
          statement_timeout: str = "1min", first_phase_share: float = 0.8,
          now: datetime | None = None, constraints: list[Proposal] | None = None,
          partitions: PartitionMap | None = None) -> Migration:
    """Group the advice into phases, cheapest risk first.

    Phase 1 holds the indexes that together remove ``first_phase_share`` of the
    workload cost the advice saves (heuristic mode: those serving the most
    calls), plus foreign-key indexes the workload joins on; phase 2 the rest.
    ``partitions`` (plan.partitions.read): the partitioned tables among the
    indexed ones, whose indexes are built partition by partition.
    """
    parts = partitions or PartitionMap()
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%S")
    first, rest = _first_and_rest(advice, first_phase_share)
    phases: list[Phase] = []
    extensions = planned_extensions(advice)
    if extensions:
        phases.append(Phase(1, "extensions the indexes need",
                            "the operator classes of the indexes in the next phases come from these extensions; "
                            "CREATE EXTENSION IF NOT EXISTS changes nothing where one is installed",
                            extensions=extensions, step=PhaseStep.EXTENSIONS))
    if first:
        phases.append(Phase(len(phases) + 1, "indexes for the costliest statements and hot foreign keys",
                            f"these {len(first)} indexes {_share(advice, first_phase_share)}, or index a "
                            "foreign key the workload joins on or whose parent sees deletes",
                            [_planned(s, parts) for s in first]))
    if rest:
        phases.append(Phase(len(phases) + 1, "remaining indexes",
                            "the smaller gains, built once phase 1 has proven itself",
                            [_planned(s, parts) for s in rest]))
    statistics = [planned_statistics(p) for p in advice.statistics]
    if statistics:
        phases.append(Phase(len(phases) + 1, "extended statistics",
                            "CREATE STATISTICS takes a brief SHARE UPDATE EXCLUSIVE lock and reads nothing; ANALYZE "
                            "then samples each table: the planner's estimates below change, no index is built",
                            statistics=statistics, step=PhaseStep.STATISTICS))
    planned = [planned_constraint(p) for p in constraints or ()]
    if planned:
        phases.append(Phase(len(phases) + 1, "CHECK constraints, NOT VALID",
                            "each ADD CONSTRAINT … NOT VALID holds its lock for an instant and scans nothing; "
                            "new rows are checked from now on",
                            constraints=planned, step=PhaseStep.ADD_NOT_VALID))
        phases.append(Phase(len(phases) + 1, "validate CHECK constraints",
                            "VALIDATE scans under SHARE UPDATE EXCLUSIVE, so reads and writes go on; "
                            "NOT NULL is then set without a scan thanks to the validated check",
                            constraints=planned, step=PhaseStep.VALIDATE))
    return Migration(id=f"{stamp}_{_slug(slug)}", created=stamp, server_version=advice.server_version,
                     phases=phases, targets=_targets(advice), lock_timeout=lock_timeout,
                     statement_timeout=statement_timeout)


def _first_and_rest(advice: Advice, first_phase_share: float) -> tuple[list[IndexSuggestion], list[IndexSuggestion]]:
    """The indexes of phase 1 and of phase 2, each by benefit, largest first (see build)."""
    by_cost = _by_cost(advice)
    ordered = sorted(advice.indexes, key=lambda s: -_benefit(s, by_cost))
    total = sum(_benefit(s, by_cost) for s in ordered)
    first: list[IndexSuggestion] = []
    rest: list[IndexSuggestion] = []
    running = 0.0
    for s in ordered:
        # Foreign-key indexes exist only where the workload joins or the parent sees deletes: hot
        # (unless no row references the parent yet).
        if s.origin == Origin.FOREIGN_KEY and s.hot and first_phase_share > 0:
            first.append(s)
        elif (total > 0 and running < first_phase_share * total) or (not rest and not first):
            first.append(s)
            running += _benefit(s, by_cost)
        else:
            rest.append(s)
    return first, rest


def _targets(advice: Advice) -> list[Target]:
    """The statements the migration promises to speed up, each with the indexes it should use."""
    # Keyed by queryid and role too: a schema per tenant's roles run the same unqualified text, each in its own
    # schema (r18: by text, one tenant's target stood for both, timed in the last tenant's search_path), and from
    # PostgreSQL 18 on with one queryid for all (r19).
    by_query: dict[tuple[int | None, str, int | None], Target] = {}
    for stmt in advice.statements:
        if stmt.indexes and stmt.credited:      # a cut under MIN_GAIN is predicted, not promised
            by_query[stmt.key] = Target(queryid=stmt.queryid, query=stmt.query, calls=stmt.calls,
                                        baseline_cost=stmt.cost_before, expected_indexes=list(stmt.indexes),
                                        values=dict(stmt.values), predicted_cost=stmt.cost_after,
                                        scenarios=list(stmt.scenarios), **_session(stmt))
    if advice.method != Method.HYPOPG:
        # Heuristic advice costs nothing, but its statements have their values and their role's session: emit
        # and verify plan them with those (an app role's own search_path finds its tables).
        analyzed = {st.key: st for st in advice.statements}
        for s in advice.indexes:
            for q in s.queries:
                key = (q.queryid, q.query, q.userid)
                st = analyzed.get(key)
                t = by_query.setdefault(key, Target(
                    queryid=q.queryid, query=q.query, calls=q.calls, baseline_cost=None,
                    values=dict(st.values) if st else {}, scenarios=list(st.scenarios) if st else [],
                    **(_session(st) if st else {})))
                if s.name not in t.expected_indexes:
                    t.expected_indexes.append(s.name)
    return list(by_query.values())


def _session(stmt: AnalyzedStatement) -> dict[str, Any]:
    """The target's session: its role's search_path and row security (see analyze.sessions)."""
    return {"search_path": list(stmt.search_path) if stmt.role is not None else None, "role": stmt.planned_as,
            "settings": dict(stmt.settings)}


def _share(advice: Advice, share: float) -> str:
    """What phase 1's share is of. Without what-if costs (heuristic mode) no saving was measured: the calls of
    the statements each index serves stand in for it, and the phase says so rather than claim a cost cut."""
    if _by_cost(advice):
        return f"remove at least {share:.0%} of the workload cost the migration saves"
    return (f"serve at least {share:.0%} of the calls of the statements the migration serves (no what-if "
            "costs without HypoPG: calls stand in for the saving)")


def _by_cost(advice: Advice) -> bool:
    """Are the indexes weighed by the cost they save? With HypoPG, yes; in heuristic advice only when every
    workload index has a cost: a GIN costed on a sample beside uncosted b-trees would add planner units to calls
    (p31: its 65,290 units beside 4,700 calls made it phase 1 alone, "80% of the workload cost")."""
    costed = [s.cost_before is not None and s.cost_after is not None
              for s in advice.indexes if s.origin == Origin.WORKLOAD]
    return any(costed) and (advice.method == Method.HYPOPG or all(costed))


def _benefit(s: IndexSuggestion, by_cost: bool) -> float:
    if by_cost and s.cost_before is not None and s.cost_after is not None:
        return max(s.cost_before - s.cost_after, 0.0)
    return float(sum(q.calls for q in s.queries))


def planned_constraint(p: Proposal) -> PlannedConstraint:
    """A proposal's statements, by name, as the migration runs them."""
    st = p.statements
    return PlannedConstraint(p.kind, p.schema, p.table, p.name, list(p.columns), add=st.add, validate=st.validate,
                             drop=st.drop, set_not_null=st.set_not_null, drop_not_null=st.undo_not_null)


def planned_extensions(advice: Advice) -> list[PlannedExtension]:
    """One CREATE EXTENSION IF NOT EXISTS per extension a proposed index needs, in the schema it is (or goes) in."""
    needs = {e.name: e for e in advice.extensions}
    users: dict[str, list[str]] = {}
    for s in advice.indexes:
        if s.extension is not None:
            users.setdefault(s.extension, []).append(s.name)
    out = []
    for name, indexes in users.items():
        need = needs.get(name)
        schema = need.schema if need is not None else None
        installed = need is not None and need.installed
        out.append(PlannedExtension(name, None if installed else schema,
                                    ddl.create_extension(name, None if installed else schema),
                                    ddl.drop_extension(name), need.note if need is not None else "", indexes,
                                    installed))
    return out


def planned_statistics(p: StatisticsProposal) -> PlannedStatistics:
    """A statistics proposal as the migration runs it, with the evidence it rests on."""
    evidence = {"filter": p.filter, "estimate_before": p.estimate_before, "estimate_after": p.estimate_after,
                "sampled_rows": p.sampled_rows, "sample_share": p.sample_share, "queryids": p.queries,
                "plans_before": p.plans_before, "plans_after": p.plans_after}
    return PlannedStatistics(p.schema, p.table, p.name, list(p.columns), list(p.kinds), p.create, p.drop, p.analyze,
                             p.reason, evidence)


def _planned(s: IndexSuggestion, partitions: PartitionMap) -> PlannedIndex:
    partitioned = partitions.partitioned(s.schema, s.table)
    rollback = ddl.drop_index(s.schema, s.name, concurrently=False) if partitioned else s.rollback
    return PlannedIndex(s.schema, s.table, s.name, s.ddl, rollback, s.analyze, s.reason,
                        forecast_bytes=s.forecast_bytes, partitioned=partitioned,
                        partitions=partitions.indexes_for(s.schema, s.table, s.name))


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40] or "migration"
