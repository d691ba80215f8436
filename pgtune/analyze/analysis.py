"""One record per statement analyze works on: its text and counters, its binding, its value scenarios, its costs.

``analyze`` binds each statement of the workload (or says why it is
skipped), gives an equality ``$n`` the value the workload nearly always fills
it with, finds the session it runs in (search_path, row security) and the
value scenarios it is costed over. Selection and costing then read and fill
the same record: candidates name statements by their position in the list.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from pglast import ast as pg_ast

from .. import ddl
from ..capture import Catalog, Statement, TableKey
from ..explain import prepare_text
from ..roles import Roles
from ..snapshot import Qual, QualConstant, QualShare
from ..sqltext import ParseFailed, parse_one
from . import coverage, reasons, sessions, written
from .bind import EQ, Shape, bind
from .model import AnalyzedStatement, Skipped
from .scenarios import Scenario
from .values import observed

DOMINANT = 1.0     # a $n counts as a constant only when every execution pg_qualstats saw had that one value:
                   # a parameter that takes several (umami's tab: 'cohort' or 'segment') is the application's
                   # choice, and a partial index for one of them never serves the others (u2's F7)
MIN_SEEN = 5       # ... and saw every call, or this many: one call in 100 sampled (the default rate) shows one
                   # value of a parameter that takes 50 (p32: Teable's "Owner" = $1, 1 of 61 calls seen)

Sampler = Callable[[TableKey, list[str]], dict[str, str] | None]


@dataclass(slots=True)     # one per statement of the workload
class Analysis:
    """A statement under analysis. ``row`` is what the advice reports of it (costs, indexes, values);
    ``scenarios`` the typed value scenarios it is costed over (``row.scenarios`` is their JSON form)."""

    statement: Statement
    shape: Shape
    row: AnalyzedStatement
    scenarios: list[Scenario] = field(default_factory=list)
    # What costing reads of the shape on every plan, worked out once (analyze.costing._tests).
    tests: tuple[frozenset[TableKey], frozenset[tuple[TableKey, str | None]]] | None = field(
        default=None, repr=False, compare=False)

    @property
    def query(self) -> str:
        return self.statement.query

    def keep(self, scenarios: list[Scenario]) -> None:
        """Cost it over ``scenarios`` only (the others cannot be planned); the first is its main one."""
        self.scenarios = scenarios
        self.row.scenarios = [s.as_dict() for s in scenarios]
        self.row.values = dict(scenarios[0].values)


@dataclass
class Evidence:
    """What the snapshot knows beyond the statements: roles, and pg_qualstats' constants and shares."""

    catalog: Catalog
    roles: Roles
    constants: dict[int, list[QualConstant]]
    shares: dict[int, list[QualShare]]
    sample: Sampler
    unseen: dict[int, dict[Qual, int]] = field(default_factory=dict)   # snapshot.read_unseen
    unseen_rows: dict[int, dict[Qual, tuple[int, int]]] = field(default_factory=dict)   # the rows they read, kept


def bind_all(statements: list[Statement], catalog: Catalog, roles: Roles, exclude: tuple[str, ...],
             examples: dict[int, str] | None = None, row_functions: frozenset[str] = frozenset(),
             ) -> tuple[list[tuple[Statement, Shape]], list[Skipped]]:
    """Each statement's shape, or why it is skipped (a parse failure that is noise is dropped silently).

    ``examples``: pg_qualstats' text of a statement as sent (queryid ->); the
    constants of its key expressions are bound as written (analyze.written).
    """
    bound: list[tuple[Statement, Shape]] = []
    skipped: list[Skipped] = []
    for st in statements:
        example = (examples or {}).get(st.queryid or 0)
        constants = written.key_constants(st.query, example)
        try:
            shape = bind(written.keyed(st.query, constants), catalog, roles.view(st.userid, st.queryid))
            shape.written = constants
            shape.sent = written.sent_constants(st.query, example)
        except ParseFailed as exc:
            if not exc.noise:
                skipped.append(reasons.parse_skip(st, exc))
            continue
        skip = (reasons.tenant(st, roles.unplaced) or reasons.foreign_key_check(st) or reasons.referenced_row_check(st)
                or reasons.shape_skip(st, shape, exclude, catalog.foreign)
                or reasons.stale_columns(st, shape, catalog)
                or reasons.in_function(st, shape, {c for t in shape.tables if t in catalog.tables
                                                   for c in catalog.tables[t].columns}, {t[1] for t in shape.tables})
                or reasons.gone_column(st, shape, row_functions))
        if skip is not None:
            skipped.append(skip)
        else:
            bound.append((st, shape))
    return bound, skipped


def analyze(st: Statement, shape: Shape, known: Evidence) -> Analysis:
    """The record of a bound statement: its dominant constants taken in, its session and value scenarios."""
    shape = with_constants(shape, known.constants.get(st.queryid or 0), known.unseen.get(st.queryid or 0),
                           calls=st.calls)
    a = Analysis(st, shape, AnalyzedStatement.of(st))
    a.row.literals = written.values(shape.sent)
    nparams = _nparams(st.query)
    valuing = coverage.valued(shape, known.catalog, nparams, known.constants.get(st.queryid or 0),
                              sample=known.sample, shares=known.shares.get(st.queryid or 0),
                              rows_per_call=_rows_per_call(st),
                              written=written.values(shape.written), sent=written.values(shape.sent),
                              unseen=known.unseen.get(st.queryid or 0), rows=known.unseen_rows.get(st.queryid or 0))
    view = known.roles.view(st.userid, st.queryid)
    found = sessions.session_for(view, shape, known.catalog, known.roles.session_role,
                                 known.sample, own=sessions.own_values(
                                     shape, valuing.scenarios[0].values if valuing.scenarios else {}))
    row = a.row
    row.role, row.search_path, row.planned_as = found.role, list(found.search_path), found.planned_as
    row.settings, row.notes = dict(found.settings), list(found.notes)
    row.notes += [f"sorts on {e}: pgtune makes no index key of an expression in ORDER BY (a sort an index on "
                  "it would spare is not counted)" for e in shape.unkeyed_sorts]
    row.params, row.generic_params = valuing.params, valuing.generic_params
    row.qualstats_coverage = valuing.coverage
    if valuing.coverage is not None and (coverage.minor(valuing.coverage) or valuing.coverage.alike):
        row.notes.append(coverage.note(valuing.coverage))
    if valuing.scenarios:
        main = valuing.scenarios[0]
        row.values, row.values_source = main.values, main.source
        a.scenarios, big = sessions.big_tenant(list(valuing.scenarios), found)     # row security's big tenant
        row.scenarios = [s.as_dict() for s in a.scenarios]
        row.notes += [big] if big else []
    elif not nparams and found.big is not None:
        # No $n: the policy's tenant is the statement's only value, and its big tenant one plan more (q37).
        a.scenarios, big = sessions.big_tenant([sessions.typical(found)], found)
        row.scenarios = [s.as_dict() for s in a.scenarios]
        row.notes += [big] if big else []
    return a


def _rows_per_call(st: Statement) -> float | None:
    """pg_stat_statements' rows / calls; None where nobody counted them (a ``--queries`` file: no queryid).

    0 is an answer, not a gap: no call returned a row, so no LIMIT stopped one early (p12 F4).
    """
    if not st.calls or (not st.rows and st.queryid is None):
        return None
    return st.rows / st.calls


def with_constants(shape: Shape, constants: list[QualConstant] | None,
                   unseen: dict[Qual, int] | None = None, calls: int = 0) -> Shape:
    """An equality ``$n`` the workload fills with one value (pg_qualstats) counts as that constant.

    So ``status = $1``, run with 'pending' every time, can get the partial index a
    literal ``status = 'pending'`` would; one other value seen, and it stays a parameter.
    So does one seen in fewer than ``MIN_SEEN`` of its ``calls`` (a sampled few show one value of many).
    So does one whose qual pg_qualstats also saw without a constant (``unseen``): a
    prepared statement's generic plan keeps none, and those calls' values are unknown
    (umami's ``type = $2``: 10 of 30 calls seen, all 'cohort'; the other tab unseen).
    """
    if not constants:
        return shape
    uses = []
    for u in shape.uses:
        if u.role == EQ and u.value is None and (u.table, u.column, "=") not in (unseen or {}):
            param = next((p for p in shape.params.values()
                          if p.table == u.table and p.column == u.column and p.op == "="), None)
            value = observed(param, constants, dominant=DOMINANT,
                             least=min(calls, MIN_SEEN)) if param is not None else None
            if value is not None:
                u = replace(u, value=ddl.literal(value))
        uses.append(u)
    return replace(shape, uses=uses)


def delete_target(st: Statement, catalog: Catalog) -> TableKey | None:
    """The table a DELETE of the workload deletes from (its foreign keys' children are then searched)."""
    try:
        node: Any = parse_one(st.query)
    except ParseFailed:
        return None
    node = node.query if isinstance(node, pg_ast.PrepareStmt) else node
    if not isinstance(node, pg_ast.DeleteStmt) or node.relation is None or not node.relation.relname:
        return None
    table = catalog.lookup(node.relation.schemaname, node.relation.relname)
    return table.key if table is not None else None


def _nparams(query: str) -> int:
    try:
        return prepare_text(query)[1]
    except ValueError:
        return 0
