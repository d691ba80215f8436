"""Partitioned tables, analysis side (issue 24.3): statistics, what-if costing, size forecasts, foreign keys.

The migration side (the per-partition recipe) is tests/test_partitions*.py.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import psycopg
import pytest

from pgtune import api
from pgtune.analyze import sizing, suggest, whatif
from pgtune.analyze.bind import bind
from pgtune.analyze.candidates import Candidate, for_foreign_keys, from_shape
from pgtune.capture import TableKind, read_catalog, read_queries_file
from pgtune.ddl import IndexKey
from pgtune.explain import explain

from . import production
from .helpers import steady_state

EVENTS = """
CREATE TABLE events (id bigint, "userId" int NOT NULL, kind text NOT NULL, "createdAt" timestamptz NOT NULL)
    PARTITION BY RANGE ("createdAt");
CREATE TABLE events_2026_01 PARTITION OF events FOR VALUES FROM ('2026-01-01') TO ('2026-02-01');
CREATE TABLE events_2026_02 PARTITION OF events FOR VALUES FROM ('2026-02-01') TO ('2026-03-01');
CREATE TABLE events_default PARTITION OF events DEFAULT;
INSERT INTO events SELECT g, 1 + (g * 7919) % 5000, CASE WHEN g % 50 = 0 THEN 'fail' ELSE 'view' END,
       timestamptz '2026-01-01' + (g % 70) * interval '1 day'
FROM generate_series(1, 150000) AS g;
"""
BY_USER = 'SELECT id, kind FROM events WHERE "userId" = $1 ORDER BY "createdAt" DESC LIMIT 20'


def _analyze_leaves(conn: psycopg.Connection[Any]) -> None:
    """What autovacuum leaves: every partition analyzed, the partitioned table itself never."""
    for leaf in ("events_2026_01", "events_2026_02", "events_default"):
        conn.execute(psycopg.sql.SQL("ANALYZE {}").format(psycopg.sql.Identifier(leaf)))


@pytest.mark.needs_hypopg
def test_a_partitioned_table_never_analyzed_is_costed_from_a_partition_and_the_hint_says_what_to_run(
        conn: psycopg.Connection[Any]) -> None:
    conn.execute(EVENTS)
    _analyze_leaves(conn)
    steady_state(conn)
    advice = suggest(conn, read_queries_file(BY_USER + ";"))
    [hint] = [h for h in advice.hints if "ANALYZE" in h]
    assert hint.startswith("public.events has no statistics of its own") and "run ANALYZE public.events;" in hint
    assert "events_" in hint            # the partition whose statistics were read
    [row] = advice.statements
    assert row.values_source != "generic" and row.values.get("$1"), row      # values from the partition's rows
    [ix] = advice.indexes
    assert ix.columns == ["userId", "createdAt"] and row.cost_after is not None and row.cost_before is not None
    assert row.cost_after < row.cost_before / 10
    # Once analyzed as a whole, the hint is gone.
    conn.execute("ANALYZE events")
    assert not [h for h in suggest(conn, read_queries_file(BY_USER + ";")).hints if "ANALYZE" in h]


@pytest.mark.needs_hypopg
def test_one_hypothetical_index_per_partition_counts_for_the_candidate(conn: psycopg.Connection[Any]) -> None:
    """Where HypoPG refuses an index on the partitioned table, one per leaf partition stands in for it."""
    conn.execute(EVENTS)
    conn.execute("ANALYZE")
    catalog = read_catalog(conn)
    cand = Candidate(("public", "events"), (IndexKey("userId"), IndexKey("createdAt", True)), 1)
    values = {"$1": "42"}
    costs, sizes = {}, {}
    for per_leaf in (False, True):
        with whatif.session(conn, catalog.leaf_partitions) as hypo:
            if per_leaf:
                hypo.per_leaf.add(cand.table)
            hypo.create(7, cand)
            plan = explain(conn, BY_USER, values=values)
            assert {hypo.names[n] for n in plan.indexes if n in hypo.names} == {7}, plan.indexes
            costs[per_leaf], sizes[per_leaf] = plan.cost, hypo.sizes[next(iter(hypo.present))]
            assert len(hypo.present[next(iter(hypo.present))]) == (3 if per_leaf else 1)
    assert costs[True] == pytest.approx(costs[False], rel=0.05), costs
    assert costs[True] < explain(conn, BY_USER, values=values).cost / 10
    assert sizes[True] > 0


def test_size_forecasts_are_summed_over_the_partitions(db: str, conn: psycopg.Connection[Any]) -> None:
    production.build(db)
    catalog = read_catalog(conn)
    events = ("app", "events")
    as_one = replace(catalog, tables={**catalog.tables, events: replace(catalog.tables[events],
                                                                        kind=TableKind.TABLE)})
    ratios = {}
    for index, keys in (("events_accountId_createdAt_idx", ("accountId", "createdAt")),
                        ("events_accountId_idx", ("accountId",)), ("events_type_idx", ("type",))):
        row = conn.execute("SELECT sum(pg_relation_size(inhrelid)) FROM pg_inherits WHERE inhparent = %s::regclass",
                           (f'app."{index}"',)).fetchone()
        assert row is not None
        built = int(row[0])
        key = tuple(IndexKey(k) for k in keys)
        ratios[index] = (sizing.forecast(catalog, events, key) / built, sizing.forecast(as_one, events, key) / built)
    # Summed over the eight partitions: within 1.2x of what PostgreSQL built.
    assert all(1 / 1.2 <= new <= 1.2 for new, _ in ratios.values()), ratios
    # As one table, ("accountId") was forecast at about half its size (deduplication is per partition).
    assert ratios["events_accountId_idx"][1] < 0.7, ratios


def test_a_partitions_clone_of_a_foreign_key_is_no_candidate_of_its_own(db: str,
                                                                        conn: psycopg.Connection[Any]) -> None:
    production.build(db)
    catalog = read_catalog(conn)
    # Every parent deleted from (a key matters then, whatever the reads): only the clones are in question here.
    cands = for_foreign_keys(catalog, set(), {(fk.ref_schema, fk.ref_table) for fk in catalog.foreign_keys})
    partitions = {k for k, t in catalog.tables.items() if t.parent is not None}
    assert not [c for c in cands if c.table in partitions], [c.table for c in cands]
    keys = [(c.table, tuple(k.ident for k in c.keys)) for c in cands]
    assert len(keys) == len(set(keys)), keys          # alerts' 9 clones into events: one candidate
    assert (("app", "events"), ('"userId"',)) in keys or (("app", "events"), ("userId",)) in keys, keys


@pytest.mark.needs_hypopg
def test_values_and_partial_predicates_from_the_inherited_statistics(db: str, conn: psycopg.Connection[Any]) -> None:
    production.build(db)
    catalog = read_catalog(conn)
    failed = ('SELECT count(*) FROM app.events WHERE "userId" = $1 AND type = \'SIGN_IN_FAIL\' '
              'AND "createdAt" >= $2')
    shape = bind(failed, catalog)
    partial = [c for c in from_shape(shape, 0, catalog) if c.where is not None]
    assert partial and partial[0].where == "type = 'SIGN_IN_FAIL'", partial
    assert partial[0].where_fraction is not None and 0.05 <= partial[0].where_fraction <= 0.15
    advice = api.suggest(conn, api.SuggestOptions(constraints=False),
                         statements=read_queries_file(failed + ";")).indexes
    [row] = advice.statements
    assert set(row.values) == {"$1", "$2"} and row.values_source != "generic", row
    assert row.cost_after is not None and row.cost_before is not None and row.cost_after < row.cost_before / 5
    [ix] = [i for i in advice.indexes if i.table == "events"]
    assert ix.forecast_bytes is not None and ix.forecast_bytes > 0
