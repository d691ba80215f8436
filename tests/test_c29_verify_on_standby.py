"""verify --measure on a hot standby says its baselines were timed on the primary (p29, LOW).

p29 (an Immich-shaped PostgreSQL 15 primary with a hot standby, where the application reads): emit timed the
targets' baselines on the primary; verify --measure, run where the reads are, timed them on the standby and
compared the two as one server's, with no word that another server's cache and load stood behind each side.
"""

from __future__ import annotations

import time
from pathlib import Path

import psycopg
from click.testing import CliRunner

from pgtune import api
from pgtune.apply import Applier
from pgtune.cli import cli

from .helpers import emitted, primary_and_standby

SETUP = """
CREATE TABLE item (id bigint PRIMARY KEY, owner int NOT NULL, label text NOT NULL);
INSERT INTO item SELECT g, g % 500, 'label ' || g FROM generate_series(1, 50000) g;
ANALYZE item;
"""
QUERY = "SELECT id, label FROM item WHERE owner = 42 ORDER BY id DESC LIMIT 10;\n"


def test_verify_measuring_on_a_standby_says_the_baselines_were_timed_on_the_primary(tmp_path: Path) -> None:
    with primary_and_standby() as (primary, standby_dsn):
        with psycopg.connect(primary.dsn, autocommit=True) as p:
            p.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
            p.execute(SETUP)
            emitted(p, tmp_path / "m", QUERY)
            Applier(p, tmp_path / "m").apply()
            assert api.verify(p, tmp_path / "m", measure=True).baseline_elsewhere == ""
        with psycopg.connect(standby_dsn, autocommit=True) as s:
            for _ in range(600):     # replayed: the index is there
                if s.execute("SELECT count(*) FROM pg_indexes WHERE tablename = 'item'").fetchone() == (2,):
                    break
                time.sleep(0.1)
            result = api.verify(s, tmp_path / "m", measure=True)
        assert result.measured == 1, result.targets
        assert result.baseline_elsewhere == ("measured on a hot standby, against baselines timed at emit on the "
                                             "primary for 1 of 1 statements: another server, with its own cache "
                                             "and load"), result.baseline_elsewhere
        out = CliRunner().invoke(cli, ["verify", str(tmp_path / "m"), "--measure", "--dsn", standby_dsn])
        notes = [line for line in out.output.splitlines() if "baselines timed at emit on the primary" in line]
        assert notes == ["note: " + result.baseline_elsewhere], out.output
