"""suggest --format json says which proposals are on a partitioned table, whose ddl PostgreSQL refuses (p20).

On a Formbricks-shaped database (p20), WebhookDelivery is LIST-partitioned:
the table output printed a comment in place of its CREATE INDEX CONCURRENTLY
(u6), but the JSON's ``ddl``, documented "runnable as is outside a
transaction", was that same statement, and a tool running it failed ("cannot
create index on partitioned table concurrently"), nothing in the entry telling
it apart from the others.
"""

from __future__ import annotations

import json
from pathlib import Path

import psycopg
from click.testing import CliRunner

from pgtune.cli import cli


def test_json_flags_the_partitioned_tables_index(db: str, tmp_path: Path) -> None:
    with psycopg.connect(db, autocommit=True) as conn:
        conn.execute("CREATE TABLE deliveries (id int NOT NULL, source text NOT NULL, ws int NOT NULL) "
                     "PARTITION BY LIST (source)")
        conn.execute("CREATE TABLE deliveries_user PARTITION OF deliveries FOR VALUES IN ('user')")
        conn.execute("CREATE TABLE deliveries_other PARTITION OF deliveries DEFAULT")
        conn.execute("CREATE TABLE plain (id int NOT NULL, ws int NOT NULL)")
        conn.execute("INSERT INTO deliveries SELECT g, CASE WHEN g % 3 = 0 THEN 'user' ELSE 'zapier' END, g % 4000 "
                     "FROM generate_series(1, 40000) g")
        conn.execute("INSERT INTO plain SELECT g, g % 4000 FROM generate_series(1, 40000) g")
        conn.execute("ANALYZE")
        (tmp_path / "q.sql").write_text("SELECT * FROM deliveries WHERE ws = 42;\n" * 5
                                        + "SELECT * FROM plain WHERE ws = 42;\n" * 5)
        result = CliRunner().invoke(cli, ["suggest", "--dsn", db, "--queries", str(tmp_path / "q.sql"),
                                          "--no-constraints", "--format", "json"])
        assert result.exit_code == 0, result.output
        got = {ix["table"]: ix for ix in json.loads(result.stdout)["indexes"]}
        assert set(got) == {"deliveries", "plain"}, got
        assert got["deliveries"]["partitioned"] is True and got["plain"]["partitioned"] is False
        conn.execute(got["plain"]["ddl"])                   # runnable as is
        try:
            conn.execute(got["deliveries"]["ddl"])
        except psycopg.errors.FeatureNotSupported:
            pass                                            # what the flag warns of
        else:
            raise AssertionError("PostgreSQL built an index CONCURRENTLY on a partitioned table")
