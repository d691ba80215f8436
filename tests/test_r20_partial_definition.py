"""A partial index emit writes is the same index pg_get_indexdef prints back (r20, MEDIUM).

pgtune's DDL quotes every constant of a partial index's predicate (``WHERE kind = '3'``,
``mode IN ('MAIL', 'SHIP')``); the server prints an integer, numeric or boolean one bare
(``(kind = 3)``) and a list as ``= ANY (ARRAY[…])``. ddl.same_index compared them as
different: right after a clean apply of suggest's own migration, ``pgtune status``
exited 1 with "t8_d_desc_where_b_1_idx (different definition)", and an index of the
migration found built but unrecorded (a Ctrl-C or crash after its build, or the up
script run by hand) stopped apply: "already exists with another definition …
pgtune will neither adopt nor replace it".
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
import pytest

from pgtune import ddl
from pgtune.apply import Applier

from .helpers import emitted

TABLE = """
CREATE TABLE parcel (id bigint PRIMARY KEY, kind int NOT NULL, mode text NOT NULL, weight numeric NOT NULL,
                     fragile bool NOT NULL, label varchar(20) NOT NULL, at timestamptz NOT NULL);
INSERT INTO parcel SELECT g, g % 200, CASE WHEN g % 100 = 0 THEN 'MAIL' WHEN g % 100 = 1 THEN 'SHIP' ELSE 'ROAD' END,
                          (g % 50) / 2.0, g % 90 = 0, 'l' || (g % 30), now() - g * interval '1 minute'
FROM generate_series(1, 200000) g;
ANALYZE parcel;
"""

PREDICATES = ["kind = '3'", "kind IN ('3', '4')", "kind IN ('3')", "kind > '150'", "kind = '-3'", "weight = '1.5'",
              "weight = '100'", "fragile = 'true'", "fragile = 'false'", "mode IN ('MAIL', 'SHIP')",
              "mode NOT IN ('ROAD')", "label IN ('l1', 'l2')", "mode = 'MAIL' AND kind = '7'"]


@pytest.mark.parametrize("predicate", PREDICATES)
def test_the_server_prints_back_the_same_partial_index(conn: psycopg.Connection[Any], predicate: str) -> None:
    conn.execute(TABLE.split(";")[0])
    planned = f"CREATE INDEX CONCURRENTLY IF NOT EXISTS parcel_p_idx ON public.parcel (at) WHERE {predicate}"
    conn.execute(planned)
    row = conn.execute("SELECT pg_get_indexdef('parcel_p_idx'::regclass)").fetchone()
    assert row is not None
    assert ddl.same_index(planned, row[0]), (planned, row[0])       # False for 11 of the 13 before the fix
    # And a different constant or list is still a different index.
    other = planned.replace("'3'", "'5'").replace("'MAIL'", "'RAIL'").replace("'1.5'", "'2.5'")
    other = other.replace("'true'", "'false'") if "'true'" in other else other.replace("'false'", "'true'")
    other = other.replace("'ROAD'", "'RAIL'").replace("'l1'", "'l9'").replace("'150'", "'151'")
    other = other.replace("'-3'", "'-4'").replace("'100'", "'101'")
    assert not ddl.same_index(other, row[0]), (other, row[0])


def test_status_and_adoption_of_an_applied_partial_index(
        db: str, conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    conn.execute(TABLE)
    result = emitted(conn, tmp_path / "mig", "SELECT id FROM parcel WHERE kind = 3 ORDER BY at DESC LIMIT 10;\n"
                                             "SELECT id FROM parcel WHERE mode IN ('MAIL', 'SHIP') ORDER BY at;\n")
    partial = [ix for ix in result.indexes.indexes if ix.where]
    assert partial, [ix.ddl for ix in result.indexes.indexes]
    Applier(conn, tmp_path / "mig").apply()
    status = Applier(conn, tmp_path / "mig").status()
    # Without the fix: 'parcel_at_incl_id_where_mode_in_idx (different definition)', status exit 1.
    assert all(not p.invalid and not p.missing for p in status.phases), [(p.invalid, p.missing) for p in status.phases]
    # An index of the migration built but not recorded (its up script run by hand): apply adopts it.
    Applier(conn, tmp_path / "mig").rollback()
    for ix in partial:
        conn.execute(ix.ddl)
    report = Applier(conn, tmp_path / "mig").apply()       # without the fix: ApplyFailed "another definition"
    assert report.phases_run, report
