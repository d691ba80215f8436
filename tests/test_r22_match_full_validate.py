"""r22: health --emit validated a MATCH FULL foreign key left NOT VALID over rows whose key is partly NULL.

c23 (51f55c9) counts the rows a NOT VALID foreign key's VALIDATE would fail on as those whose every key column is set
and whose parent row is gone (MATCH SIMPLE). MATCH FULL also refuses a key NULL in some columns and set in others:
PG15, 3 such rows, none counted, the VALIDATE was emitted and failed at apply ("violates foreign key constraint"),
stopping the phase.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg

from pgtune import api


def test_a_match_full_key_partly_null_is_not_validated(conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    conn.execute("CREATE TABLE region (country text, code int, PRIMARY KEY (country, code));"
                 "INSERT INTO region SELECT 'c' || g % 5, g FROM generate_series(1, 50) g;"
                 "CREATE TABLE site (id int PRIMARY KEY, country text, code int);"
                 "INSERT INTO site SELECT g, 'c' || g % 5, g % 50 + 1 FROM generate_series(1, 1000) g "
                 "WHERE ('c' || g % 5, g % 50 + 1) IN (SELECT country, code FROM region);"
                 "INSERT INTO site VALUES (5001, NULL, NULL), (5002, 'c1', NULL), (5003, NULL, 7), (5004, NULL, 8);"
                 "ALTER TABLE site ADD CONSTRAINT site_region_fk FOREIGN KEY (country, code) REFERENCES region "
                 "MATCH FULL NOT VALID")
    report = api.health(conn, only=["not-valid-constraint"], emit=api.EmitOptions(directory=tmp_path / "h"))
    assert report.migration is not None
    [note] = report.migration.left_out
    # (NULL, NULL) is no violation; the three keys NULL in one column only are.
    assert "site_region_fk" in note and "3 rows of site" in note and "MATCH FULL" in note, note
    assert not (tmp_path / "h" / "manifest.json").exists()      # nothing left to validate: no migration
