"""Calibration prices every what-if plan (issue 28: pgtune's CPU per plan): it reads each node of a plan once, and a
plan that uses no hypothetical b-tree not at all."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import replace
from typing import Any

import psycopg
import pytest

from pgtune.analyze import whatif
from pgtune.analyze.calibration import Pricing
from pgtune.analyze.candidates import Candidate
from pgtune.capture import read_catalog
from pgtune.ddl import IndexKey
from pgtune.explain import explain

pytestmark = pytest.mark.needs_hypopg


class _Counted(Mapping[str, Any]):
    """A plan node that counts the reads of its children (``Plans``), its children counted too."""

    def __init__(self, node: dict[str, Any], reads: dict[int, int]) -> None:
        self.node, self.reads = dict(node), reads
        if "Plans" in node:
            self.node["Plans"] = [_Counted(child, reads) for child in node["Plans"]]

    def __getitem__(self, key: str) -> Any:
        if key == "Plans":
            self.reads[id(self)] = self.reads.get(id(self), 0) + 1
        return self.node[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.node)

    def __len__(self) -> int:
        return len(self.node)


def _nodes(node: _Counted) -> int:
    return 1 + sum(_nodes(child) for child in node.node.get("Plans", ()))


def test_the_charge_reads_each_node_once(conn: psycopg.Connection[Any]) -> None:
    """A Limit over a Sort over a scan of a hypothetical index: one read of each node's children, not three
    (the aliases, the parallel divisors and the charge each walked the plan)."""
    conn.execute("CREATE TABLE walked AS SELECT g AS id, g % 5000 AS k, md5(g::text) AS name "
                 "FROM generate_series(1, 200000) g")
    conn.execute("ANALYZE walked")
    cand = Candidate(("public", "walked"), (IndexKey("k"),), 1)
    with whatif.session(conn, pricing=Pricing(read_catalog(conn))) as hypo:
        hypo.create(0, cand)
        plan = explain(conn, "SELECT name FROM walked WHERE k BETWEEN 10 AND 12 ORDER BY name LIMIT 5")
        assert hypo.calibration is not None and plan.indexes & set(hypo.calibration.descents), plan.plan
        reads: dict[int, int] = {}
        counted = _Counted(plan.plan["Plan"], reads)
        charged = hypo.calibration.charge({"Plan": counted})
    assert charged > 0
    assert _nodes(counted) >= 3, plan.plan
    assert set(reads.values()) == {1} and len(reads) == _nodes(counted), reads


def test_a_plan_without_a_hypothetical_index_is_not_walked(conn: psycopg.Connection[Any]) -> None:
    """Its cost is the planner's: nothing to charge, so nothing to read (most what-if plans are of statements
    the candidate at hand does not serve)."""
    conn.execute("CREATE TABLE unwalked AS SELECT g AS id, g % 5000 AS k, g % 7 AS j FROM generate_series(1, 50000) g")
    conn.execute("ANALYZE unwalked")
    with whatif.session(conn, pricing=Pricing(read_catalog(conn))) as hypo:
        hypo.create(0, Candidate(("public", "unwalked"), (IndexKey("k"),), 1))
        plan = explain(conn, "SELECT count(*) FROM unwalked WHERE j = 3 GROUP BY k ORDER BY 1 LIMIT 3")
        assert hypo.calibration is not None and hypo.calibration.descents
        assert not plan.indexes & set(hypo.calibration.descents), plan.plan
        reads: dict[int, int] = {}
        counted = _Counted(plan.plan["Plan"], reads)
        assert hypo.cost(replace(plan, plan={"Plan": counted})) == plan.cost
    assert reads == {}
