"""The session each statement is planned in: its role's search_path, and the row security it is under.

A statement is costed as the application ran it. Its names resolve through its
role's search_path. When row security filters a table it reads for that role,
pgtune plans it under ``SET LOCAL ROLE`` (the planner then adds the policies'
filters itself, as it does for the application), with a representative value
for each ``current_setting('app.x')`` a policy compares with a column. Where
pgtune may not take that role, the statement says so (``notes``).

That value is a tenant of typical size; the most common tenant, when it is big,
is planned too (``big_tenant``): one scenario more, weighed by its share of the rows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .. import ddl
from ..capture import Catalog, TableKey
from ..roles import RoleView
from .bind import Shape
from .params import ParamUse
from .scenarios import Scenario, ValueSource
from .values import value_for

Sampler = Callable[[TableKey, list[str]], "dict[str, str] | None"]


@dataclass(frozen=True)
class Session:
    role: str | None                 # the role that ran the statement (None: unknown, e.g. a --queries file)
    search_path: tuple[str, ...]     # where its names were resolved
    planned_as: str | None = None    # SET LOCAL ROLE for its row security
    settings: tuple[tuple[str, str], ...] = ()     # what its policies read, with the values planned with
    notes: tuple[str, ...] = ()
    big: tuple[str, str, float] | None = None      # a setting's most common tenant and its share of rows (big_tenant)


def own_values(shape: Shape, values: dict[str, str | None]) -> dict[tuple[TableKey, str], str]:
    """The value ``values`` (the statement's main scenario) gives each column the statement compares by ``= $n``."""
    out: dict[tuple[TableKey, str], str] = {}
    for n, use in shape.params.items():
        value = values.get(f"${n}")
        if use.table is not None and use.op == "=" and not use.array and value is not None:
            out.setdefault((use.table, use.column), value)
    return out


def session_for(view: RoleView, shape: Shape, catalog: Catalog, session_role: str, sample: Sampler,
                own: dict[tuple[TableKey, str], str] | None = None) -> Session:
    """How ``shape``'s statement is planned: as its role saw the database, or why not quite.

    A policy's setting compared with a column the statement also compares with ``= $n`` takes the statement's own
    value (``own``; u13): chosen apart, the policy and the WHERE asked for two tenants, and the plan found no row.
    """
    role = view.role
    if role is None:
        return Session(None, view.search_path)
    notes = [f"row security: no permissive policy of {f.table[0]}.{f.table[1]} applies to {role.name}: "
             "it reads no row there" for f in shape.row_filters if f.denies]
    if not shape.row_filters:
        return Session(role.name, view.search_path, notes=tuple(notes))
    policies = ", ".join(sorted({f"{p} on {f.table[0]}.{f.table[1]}" for f in shape.row_filters for p in f.policies}))
    if not role.can_set:
        notes.append(f"row security: planned as {session_role}, not as {role.name}, whose policies ({policies}) "
                     f"filter what it reads: pgtune may not SET ROLE {role.name} (GRANT {ddl.name(role.name)} TO "
                     f"{ddl.name(session_role)};); the plan costs are those of a reader without them")
        # A policy for PUBLIC applies to pgtune's own session all the same: planned without its settings, the
        # planner's estimate of current_setting('app.x') failed the EXPLAIN (an ERROR in the server's log per
        # statement, and the statement not planned: p21). Set, they cost pgtune's session nothing.
        own_settings = _settings(shape, catalog, sample, own, notes, session_role, policies)
        return Session(role.name, view.search_path, settings=tuple(own_settings or ()), notes=tuple(notes))
    settings = _settings(shape, catalog, sample, own, notes, session_role, policies)
    if settings is None:
        return Session(role.name, view.search_path, notes=tuple(notes))
    return Session(role.name, view.search_path, planned_as=role.name, settings=tuple(settings), notes=tuple(notes),
                   big=_biggest(shape, catalog, own, dict(settings)))


BIG = 0.05      # the most common tenant is planned on its own from this share of the rows
OVER = 10       # ... and this many times the rows of the tenant the statement is planned with


def _biggest(shape: Shape, catalog: Catalog, own: dict[tuple[TableKey, str], str] | None,
             settings: dict[str, str]) -> tuple[str, str, float] | None:
    """The setting whose most common tenant (pg_stats) holds the largest share of the rows, BIG or more and OVER
    times the planned tenant's: (setting, that tenant, its share of the non-NULL rows); None when none does.
    A setting the statement's own ``= $n`` gave its value is not one: its scenarios choose that tenant."""
    found = []
    for name, use in shape.settings.items():
        if (use.table is None or use.op != "=" or use.array or name not in settings
                or (own or {}).get((use.table, use.column)) is not None):
            continue
        st = catalog.column_stats.get((use.table[0], use.table[1], use.column))
        if st is None or not st.most_common_vals or st.null_frac >= 1.0:
            continue
        top, freq = st.most_common_vals[0], st.most_common_freqs[0]
        share = freq / (1.0 - st.null_frac)
        if share >= BIG and top != settings[name] and freq >= OVER * _frequency(use, catalog, settings[name]):
            found.append((share, name, top))
    if not found:
        return None
    share, name, top = max(found)
    return name, top, share


def _frequency(use: ParamUse, catalog: Catalog, value: str) -> float:
    """The share of all rows whose column holds ``value``, as the planner sees it (a common value: its frequency)."""
    assert use.table is not None
    st = catalog.column_stats[(use.table[0], use.table[1], use.column)]
    common = dict(zip(st.most_common_vals, st.most_common_freqs, strict=False))
    if value in common:
        return common[value]
    rest = max(catalog.distinct_values(use.table, use.column) - len(common), 1.0)
    return max(1.0 - st.null_frac - sum(common.values()), 0.0) / rest


def big_tenant(scenarios: list[Scenario], session: Session) -> tuple[list[Scenario], str | None]:
    """``scenarios`` and one more: the main one's values, planned with the session's big tenant (``big``), weighed by
    its share of the rows, the others scaled to the rest; and the note that says so (None: unchanged).

    The policy's setting is one tenant for every call, so a statement planned with a tenant of typical size was
    never priced for the tenant that holds most of the table (t36: team 1, 60% of a Documenso-shaped audit log;
    the index chosen for 2,570's calls cost 78,145 for team 1's against 138). Calls follow rows: a tenant's rows
    are the record of its activity, so its share of the rows is the share of the calls a DBA would give it. The
    main scenario stays the typical tenant's (what verify --measure runs); one plan more per such statement.
    """
    if session.big is None or not scenarios:
        return scenarios, None
    name, tenant, share = session.big
    rest = [Scenario(s.values, s.source, s.weight * (1.0 - share)) for s in scenarios]
    main = {**scenarios[0].values, name: tenant}
    note = (f"row security: planned for current_setting('{name}') = {tenant!r} too, the most common tenant "
            f"({share:.0%} of the rows), weighed {share:.0%}; the other plans with "
            f"{dict(session.settings)[name]!r}, a tenant of typical size")
    return [*rest, Scenario(main, ValueSource.STATS, share)], note


def typical(session: Session) -> Scenario:
    """The scenario of a statement without ``$n`` under row security: the tenant of typical size it is planned
    with, named, so that beside the big tenant's plan it is a plan with a value (scenarios.weighted_cost counts an
    empty one only alone). Its plan is the session's own: no setting differs."""
    assert session.big is not None
    name = session.big[0]
    return Scenario({name: dict(session.settings)[name]}, ValueSource.STATS)


def _settings(shape: Shape, catalog: Catalog, sample: Sampler, own: dict[tuple[TableKey, str], str] | None,
              notes: list[str], session_role: str, policies: str) -> list[tuple[str, str]] | None:
    """A value for each setting the statement's policies read (None: one has none; ``notes`` say why)."""
    settings: list[tuple[str, str]] = []
    for name, use in sorted(shape.settings.items()):
        value = (own or {}).get((use.table, use.column)) if use.table is not None and use.op == "=" else None
        value = value if value is not None else value_for(use, catalog)
        if value is None and use.table is not None:
            row = sample(use.table, [use.column])
            value = row[use.column] if row else None
        if value is None and use.table is not None and catalog.policed(use.table) and use.op == "=" \
                and not use.array:
            # Planned as pgtune, the policy would apply all the same (pgtune is a member of the role) and fail
            # on the unset setting (p12 F7). A value of the column's type plans it under the policy: the planner
            # reads the table's own statistics, and prices an ordinary tenant's rows.
            value = _stand_in(catalog, use.table, use.column)
            if value is not None:
                notes.append(f"row security: current_setting('{name}') planned with {value!r}, a stand-in for one "
                             f"{use.column} (pgtune's role sees no statistics and no row of "
                             f"{use.table[0]}.{use.table[1]}): its costs are those of a tenant outside the most "
                             "common ones")
        if value is None:
            notes.append(f"row security: no value of {use.column} for current_setting('{name}') (no statistics, "
                         f"no row): planned as {session_role}, without the policies ({policies})")
            return None
        settings.append((name, value))
    return settings


# Per pg_type.typcategory (and uuid, a user-defined category): a value any column of the kind accepts.
_STAND_INS = {"N": "0", "S": "pgtune", "B": "false"}
_UUID = "00000000-0000-0000-0000-000000000000"


def _stand_in(catalog: Catalog, table: TableKey, column: str) -> str | None:
    """A value of ``column``'s type for a policy's setting that nothing else gave (None: no kind known)."""
    info = catalog.table_columns(table).get(column)
    if info is None:
        return None
    return _UUID if info.type == "uuid" else _STAND_INS.get(info.category)
