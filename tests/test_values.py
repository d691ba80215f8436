"""How representative values are chosen for `$n` (docs/values.md), on a catalog built by hand."""

from __future__ import annotations

from pgtune.analyze.bind import bind
from pgtune.analyze.values import GENERIC_WEIGHT, scenarios
from pgtune.capture import Catalog, ColumnStats, Table
from pgtune.snapshot import QualConstant

CATALOG = Catalog(
    tables={("public", "jobs"): Table("public", "jobs", ("id", "status", "runAt", "amount"), reltuples=100_000)},
    column_stats={
        ("public", "jobs", "status"): ColumnStats(4, 0.0, ("done", "failed", "pending", "running"),
                                                  (0.97, 0.01, 0.01, 0.01)),
        ("public", "jobs", "amount"): ColumnStats(-0.5, 0.0, (), (), tuple(str(i * 10) for i in range(101))),
        ("public", "jobs", "runAt"): ColumnStats(-1, 0.0, (), (), ("2026-01-01 00:00:00+00", "2026-01-11 00:00:00+00")),
    },
)


def test_ranges_windows_and_limits_come_from_the_statistics() -> None:
    query = 'SELECT id FROM jobs WHERE amount > $1 AND "runAt" >= now() - $2::interval LIMIT $3'
    [main, generic] = scenarios(bind(query, CATALOG), CATALOG, 3)
    assert main.values == {"$1": "990", "$2": "8640 seconds", "$3": "20"}     # top 1%, 1% of ten days, 20
    assert main.source == "stats" and generic.values == {} and generic.weight == GENERIC_WEIGHT
    assert abs(main.weight + generic.weight - 1) < 1e-9


def test_qualstats_constants_weighted_and_the_heaviest_kept() -> None:
    shape = bind("SELECT id FROM jobs WHERE status = $1", CATALOG)
    seen = [QualConstant(("public", "jobs"), "status", "=", f"'{v}'::text", n, filtered)
            for v, n, filtered in [("pending", 900, 10), ("running", 60, 10), ("failed", 30, 10),
                                   ("done", 10, 95_000)]]          # rare, but it reads the whole table
    found = scenarios(shape, CATALOG, 1, seen)
    values = [s.values.get("$1") for s in found]
    assert values[0] == "pending" and "done" in values and values[-1] is None
    assert all(s.source == "qualstats" for s in found[:-1])
    assert found[0].weight > found[1].weight and abs(sum(s.weight for s in found) - 1) < 1e-9


def test_a_parameter_without_a_rule_keeps_the_generic_plan() -> None:
    shape = bind("SELECT id FROM jobs WHERE id = ANY($1)", CATALOG)
    assert scenarios(shape, CATALOG, 1) == []


def test_in_lists_of_parameters_get_equality_values() -> None:
    shape = bind("SELECT id FROM jobs WHERE status IN ($1, $2) AND amount <= $3", CATALOG)
    [main, _generic] = scenarios(shape, CATALOG, 3)
    assert main.values["$1"] == main.values["$2"] == "pending" and main.values["$3"] == "10"
