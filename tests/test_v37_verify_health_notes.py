"""verify of a health migration (v37, a Hoppscotch-shaped database): its foreign-key indexes have no targets.

health writes no targets (it reads no statement's plan to justify a foreign key's index), so verify's note for
each index was "planned index ... is used by no targeted statement", read as "nothing uses it", although the
application's lookup by that key used it (121 ms -> 0.03 ms). The note says there is no target to check it by.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
from click.testing import CliRunner

from pgtune import api
from pgtune.apply import Applier
from pgtune.cli import cli

from .test_p31_verify_scanned import SETUP


def test_a_health_index_is_not_said_to_be_used_by_no_statement(db: str, conn: psycopg.Connection[Any],
                                                                tmp_path: Path) -> None:
    conn.execute(SETUP)
    for i in range(5001, 5021):         # accounts closed: the parent sees deletes, its foreign key needs an index
        conn.execute('DELETE FROM "User" WHERE id = %s', (i,))
    conn.execute("SELECT pg_stat_force_next_flush()")
    folder = tmp_path / "h"
    api.health(conn, only=["foreign-key-without-index"], min_stats_age_s=0, emit=api.EmitOptions(directory=folder))
    Applier(conn, folder).apply()
    result = api.verify(conn, folder)
    assert not result.targets and result.unused_indexes, result.unused_indexes    # not vacuous: the index is noted
    out = CliRunner().invoke(cli, ["verify", str(folder), "--dsn", db])
    notes = [line for line in out.stdout.splitlines() if line.startswith("note: planned index")]
    assert notes, out.stdout
    assert all("no statement of this migration targets it" in line and "used by no" not in line
               for line in notes), out.stdout
