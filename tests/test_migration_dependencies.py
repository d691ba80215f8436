"""Migrations aware of each other (issue 23 point 6, rollback side): rolling back a migration whose index a
later health migration relies on (it dropped the index this one's replaced) is refused, with one line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner

from pgtune import api, ddl, plan
from pgtune.analyze import Advice, IndexSuggestion, Method
from pgtune.apply import Applier
from pgtune.cli import cli
from pgtune.errors import ApplyFailed

from .helpers import shop


def suggest_wide_index(conn: psycopg.Connection[Any], folder: Path) -> str:
    """The migration a suggest run writes for ORDERS_BY_USER: ("userId", "createdAt" DESC) on "order"."""
    keys = (ddl.IndexKey("userId"), ddl.IndexKey("createdAt", True))
    name = ddl.index_name("order", keys)
    ix = IndexSuggestion("public", "order", name, ["userId", "createdAt"], [False, True],
                         ddl.create_index("public", "order", name, keys), ddl.drop_index("public", name),
                         ddl.analyze("public", "order"), "serves the orders of a user, newest first",
                         cost_before=100.0, cost_after=1.0)
    plan.emit(plan.build(Advice(Method.HYPOPG, indexes=[ix]), slug="orders"), folder)
    return name


def indexes(conn: psycopg.Connection[Any]) -> set[str]:
    return {r[0] for r in conn.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'order'")}


def test_rollback_refuses_to_remove_an_index_a_later_migration_relies_on(db: str, conn: psycopg.Connection[Any],
                                                                         tmp_path: Path) -> None:
    shop(conn)
    conn.execute('CREATE INDEX "order_userId_idx" ON "order" ("userId")')     # the foreign key's index
    wide = suggest_wide_index(conn, tmp_path / "suggest")
    Applier(conn, tmp_path / "suggest").apply()
    # health sees the foreign key's index as a leading part of the new one, and drops it.
    report = api.health(conn, only=["overlapping-index"], emit=api.EmitOptions(directory=tmp_path / "health"))
    assert report.migration is not None
    [drop] = [s for s in plan.load(tmp_path / "health").phases[0].up if s.action == plan.Action.DROP]
    assert drop.name == "order_userId_idx" and drop.relies_on == plan.Name("public", wide)
    Applier(conn, tmp_path / "health").apply()
    health_id = plan.load(tmp_path / "health").id

    with pytest.raises(ApplyFailed, match=rf"rollback refused: migration {health_id} relies on "
                                          rf'public."{wide}", which this rollback drops: it dropped '
                                          r'public."order_userId_idx"'):
        Applier(conn, tmp_path / "suggest").rollback()
    out = CliRunner().invoke(cli, ["rollback", str(tmp_path / "suggest"), "--dsn", db])
    assert out.exit_code == 1 and len(out.stderr.strip().splitlines()) == 1, out.stderr
    assert "--force" in out.stderr
    assert wide in indexes(conn)                                 # nothing was dropped

    # Rolled back in the right order, both go through: the foreign key's index is back, the wide one gone.
    Applier(conn, tmp_path / "health").rollback()
    Applier(conn, tmp_path / "suggest").rollback()
    assert indexes(conn) == {"order_pkey", "order_userId_idx"}


def test_force_rolls_back_anyway_and_says_what_it_leaves(db: str, conn: psycopg.Connection[Any],
                                                         tmp_path: Path) -> None:
    shop(conn)
    conn.execute('CREATE INDEX "order_userId_idx" ON "order" ("userId")')
    wide = suggest_wide_index(conn, tmp_path / "suggest")
    Applier(conn, tmp_path / "suggest").apply()
    api.health(conn, only=["overlapping-index"], emit=api.EmitOptions(directory=tmp_path / "health"))
    Applier(conn, tmp_path / "health").apply()
    out = CliRunner().invoke(cli, ["rollback", str(tmp_path / "suggest"), "--dsn", db, "--force"])
    assert out.exit_code == 0, out.output
    assert "--force: migration" in out.stderr and "order_userId_idx" in out.stderr
    assert indexes(conn) == {"order_pkey"}                       # what --force was warned about
    assert wide not in indexes(conn)
