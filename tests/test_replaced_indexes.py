"""An existing index a suggested one makes redundant is dropped in a later phase of the same migration (u2's R6).

u2 on umami: suggest said "makes existing website_event_website_id_idx redundant" and left it, on a table of 16
indexes. Now the migration's last phase drops it, CONCURRENTLY, once the new index is built and valid (apply
refuses the drop otherwise), under health's guards: never a unique or primary-key index, never one a migration
tool's ledger says the application made, never one another workload statement's plan uses that the new index does
not serve; the rollback builds it again exactly. The scripts pass squawk.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import psycopg
import pytest

from pgtune.apply import Applier
from pgtune.errors import ApplyFailed

from .helpers import emitted, run
from .test_migration import squawk_bin

# account = g % 97: day (g % 300) does not determine it, so the proposal keeps both keys (with g % 100 it did, and
# dependent_keys.narrow left (day) alone, which serves no lookup by account: tests/test_replaced_reason.py).
EVENTS = """
CREATE TABLE ev (id bigint PRIMARY KEY, account int NOT NULL, day date NOT NULL, note text);
INSERT INTO ev SELECT g, g % 97, date '2026-01-01' + (g % 300), 'n' || g FROM generate_series(1, 300000) g;
CREATE INDEX ev_account_idx ON ev (account);
COMMENT ON INDEX ev_account_idx IS 'per account';
"""
BY_DAY = "SELECT id, note FROM ev WHERE account = %s AND day BETWEEN %s AND %s"


def _indexes(conn: psycopg.Connection[Any]) -> dict[str, str]:
    return {r[0]: r[1] for r in conn.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'ev'")}


@pytest.mark.needs_hypopg
def test_the_index_a_new_one_replaces_is_dropped_last_and_restored_on_rollback(
        db: str, conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    conn.execute(EVENTS)
    conn.execute("VACUUM ANALYZE ev")
    conn.execute("SELECT pg_stat_statements_reset()")
    run(conn, BY_DAY, [(i, f"2026-03-{1 + i % 20:02d}", f"2026-03-{4 + i % 20:02d}") for i in range(20)], times=3)
    before = _indexes(conn)
    result = emitted(conn, tmp_path / "mig")
    m = result.migration
    assert m is not None
    last = m.phases[-1]
    assert [e.name for e in last.existing] == ["ev_account_idx"], [(p.name, p.existing) for p in m.phases]
    new = next(ix.name for p in m.phases for ix in p.indexes if ix.table == "ev")
    assert last.existing[0].served_by == new
    out = subprocess.run([squawk_bin(), *[str(f) for f in sorted((tmp_path / "mig").glob("*.sql"))]],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    with pytest.raises(ApplyFailed, match="not built"):
        Applier(conn, tmp_path / "mig").apply([last.number])          # the drop alone: refused
    assert "ev_account_idx" in _indexes(conn)
    Applier(conn, tmp_path / "mig").apply()
    after = _indexes(conn)
    assert "ev_account_idx" not in after and new in after
    builds = next(p.number for p in m.phases if any(ix.name == new for ix in p.indexes))
    with pytest.raises(ApplyFailed, match="rollback refused"):
        Applier(conn, tmp_path / "mig").rollback([builds])           # would leave the lookups with neither
    assert new in _indexes(conn)
    Applier(conn, tmp_path / "mig").rollback()
    assert _indexes(conn) == before
    comment = conn.execute("SELECT obj_description('ev_account_idx'::regclass, 'pg_class')").fetchone()
    assert comment == ("per account",)


@pytest.mark.needs_hypopg
def test_an_index_another_statement_plans_with_is_kept(db: str, conn: psycopg.Connection[Any],
                                                       tmp_path: Path) -> None:
    conn.execute(EVENTS)
    conn.execute("VACUUM ANALYZE ev")
    conn.execute("SELECT pg_stat_statements_reset()")
    run(conn, BY_DAY, [(i, f"2026-03-{1 + i % 20:02d}", f"2026-03-{4 + i % 20:02d}") for i in range(20)], times=3)
    # Planned now on ev_account_idx, and by the advice on nothing new (it reads only the account's count).
    run(conn, "SELECT count(*) FROM ev WHERE account = %s", [(i,) for i in range(3)])
    result = emitted(conn, tmp_path / "mig")
    assert result.migration is not None
    assert not [e for p in result.migration.phases for e in p.existing], result.migration.phases
    assert any("ev_account_idx" in h and "kept" in h for h in result.indexes.hints), result.indexes.hints


@pytest.mark.needs_hypopg
def test_without_the_workload_plans_nothing_is_dropped(db: str, conn: psycopg.Connection[Any],
                                                       tmp_path: Path) -> None:
    """A --queries file on a database without pg_stat_statements: the guard cannot read the workload's plans."""
    conn.execute(EVENTS)
    conn.execute("VACUUM ANALYZE ev")
    conn.execute("DROP EXTENSION pg_stat_statements")
    result = emitted(conn, tmp_path / "mig",
                     "SELECT id, note FROM ev WHERE account = 7 AND day BETWEEN '2026-03-01' AND '2026-03-04';\n")
    assert result.migration is not None
    assert not [e for p in result.migration.phases for e in p.existing], result.migration.phases
    assert any("ev_account_idx" in h and "could not be read" in h for h in result.indexes.hints), result.indexes.hints
