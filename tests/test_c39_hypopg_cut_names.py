"""A HypoPG name cut inside a multibyte character: suggest's warm prediction, `pgtune baseline` and verify keep it.

HypoPG names an index ``<oid>btree_<table>_<columns>`` and cuts that at NAMEDATALEN - 1 bytes, inside a
character maybe: the server then sends bytes that are not UTF-8, in hypopg_create_index's answer and in every
EXPLAIN that uses the index. Read as text outside a lenient session, psycopg raised UnicodeDecodeError, a
ValueError that the warm re-pricing and `pgtune baseline` caught as "cannot plan": the table's target lost its
warm prediction at emit (so verify compared a warm run with the cost cut priced with disk reads), and
`pgtune baseline` dropped every prediction ("HypoPG could not plan it with the migration's indexes").
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner
from psycopg import sql

from pgtune import plan
from pgtune.cli import cli

from .helpers import run, steady_state

# 62 and 63 bytes: whatever the digits of the oid before it, one of the two tables' HypoPG names is cut inside
# an 'é' (asserted below). The column is CJK, three bytes a character.
TABLES = ["é" * 31, "x" + "é" * 31]
COLUMN = "所有者"
LOOKUP = "SELECT id, note FROM {t} WHERE {c} = %s"


def _load(conn: psycopg.Connection[Any]) -> None:
    for name in TABLES:
        t, c = sql.Identifier(name), sql.Identifier(COLUMN)
        conn.execute(sql.SQL("CREATE TABLE {t} (id int PRIMARY KEY, {c} int NOT NULL, note text)").format(t=t, c=c))
        conn.execute(sql.SQL("INSERT INTO {t} SELECT g, g % 5000, 'n' || g FROM generate_series(1, 40000) g")
                     .format(t=t))
    conn.execute("VACUUM ANALYZE")
    steady_state(conn)
    for name in TABLES:
        query = sql.SQL(LOOKUP).format(t=sql.Identifier(name), c=sql.Identifier(COLUMN)).as_string(conn)
        run(conn, query, [(42,), (43,)])


def _cut(conn: psycopg.Connection[Any]) -> int:
    """How many of the tables' HypoPG names are not UTF-8 (read as bytes: textsend sends them as they are)."""
    cut = 0
    for name in TABLES:
        create = sql.SQL("CREATE INDEX ON {} ({})").format(sql.Identifier(name), sql.Identifier(COLUMN))
        row = conn.execute("SELECT pg_catalog.textsend(indexname) FROM hypopg_create_index(%s)",
                           (create.as_string(conn),)).fetchone()
        assert row is not None
        try:
            bytes(row[0]).decode()
        except UnicodeDecodeError:
            cut += 1
    conn.execute("SELECT hypopg_reset()")
    return cut


def _targets(folder: Path) -> dict[str, plan.Target]:
    return {name: t for t in plan.load(folder).targets for name in TABLES if f'"{name}"' in t.query}


@pytest.mark.needs_hypopg
def test_a_cut_hypopg_name_loses_no_prediction(db: str, conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    _load(conn)
    assert _cut(conn) >= 1          # the case this test is about: a name cut inside a character
    folder = tmp_path / "mig"
    suggested = CliRunner().invoke(cli, ["suggest", "--dsn", db, "--emit", str(folder), "--format", "json"])
    assert suggested.exit_code == 0, suggested.output
    assert {ix["table"] for ix in json.loads(suggested.stdout)["indexes"]} == set(TABLES), suggested.stdout[:2000]
    emitted = _targets(folder)
    assert set(emitted) == set(TABLES), [t.query for t in plan.load(folder).targets]
    for name, t in emitted.items():   # before: the cut name's table had no warm prediction
        assert t.predicted_cost is not None and t.warm_predicted_cost is not None, (name, t)
        assert t.warm_predicted_cost < t.warm_baseline_cost, (name, t)      # type: ignore[operator]

    # The DBA's own value for each: `pgtune baseline` predicts again with the migration's indexes made by HypoPG.
    raw = json.loads((folder / plan.TARGETS).read_text())
    for t in raw:
        for values in [t["values"], *(s["values"] for s in t["scenarios"])]:
            if "$1" in values:
                values["$1"] = "4242"
    (folder / plan.TARGETS).write_text(json.dumps(raw, indent=1) + "\n")
    taken = CliRunner().invoke(cli, ["baseline", str(folder), "--dsn", db, "--format", "json"])
    assert taken.exit_code == 0, taken.output
    rows = json.loads(taken.stdout)["targets"]
    assert len(rows) == len(TABLES), rows
    for row in rows:    # before: "dropped: HypoPG could not plan it with the migration's indexes: 'utf-8' codec ..."
        assert row["predicted"].startswith("predicted again") and row["predicted_cost"] is not None, row
    assert all(t.warm_predicted_cost is not None for t in _targets(folder).values())

    applied = CliRunner().invoke(cli, ["apply", str(folder), "--dsn", db])
    assert applied.exit_code == 0, applied.output
    verified = CliRunner().invoke(cli, ["verify", str(folder), "--dsn", db, "--format", "json"])
    assert verified.exit_code == 0, verified.output
    found = [t for t in json.loads(verified.stdout)["targets"] if any(f'"{n}"' in t["query"] for n in TABLES)]
    assert len(found) == len(TABLES), verified.stdout[:3000]
    for t in found:     # verify's warm comparison has its warm prediction to compare with
        assert t["warm_predicted_ratio"] is not None and t["warm_predicted_ratio"] > 1, t
