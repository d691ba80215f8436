"""A --queries file that is a log: the same few statements with other constants and comments each time.

u6: a 26 MB log of 300,000 statements of 7 shapes (documenso-shaped) was
300,000 distinct statements to analyze: 1 GB resident and no answer after 10
minutes (a 1.5 MB slice of it: 160 s, 16,716 statements). Folded by shape,
the log is a few statements per shape with every call counted.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import psycopg
from click.testing import CliRunner

from pgtune.capture.stream import KEPT
from pgtune.cli import cli


def test_a_log_of_literal_values_is_analyzed_by_shape(db: str, tmp_path: Path) -> None:
    with psycopg.connect(db, autocommit=True) as conn:
        conn.execute("CREATE TABLE envelope (id int PRIMARY KEY, team int NOT NULL, status text NOT NULL)")
        conn.execute("CREATE TABLE recipient (id int PRIMARY KEY, envelope int NOT NULL, token text NOT NULL)")
        conn.execute("INSERT INTO envelope SELECT g, g % 2000, (ARRAY['DRAFT','PENDING','COMPLETED'])[1 + g % 3] "
                     "FROM generate_series(1, 40000) g")
        conn.execute("INSERT INTO recipient SELECT g, 1 + g / 2, md5(g::text) FROM generate_series(1, 60000) g")
        conn.execute("ANALYZE envelope")
        conn.execute("ANALYZE recipient")
    rng = random.Random(5)
    shapes = [lambda: f"SELECT id FROM envelope WHERE team = {rng.randint(1, 2000)} AND status = 'PENDING'",
              lambda: f"/* request {rng.random()} */ SELECT * FROM recipient WHERE token = '{rng.getrandbits(64):x}'",
              lambda: f"SELECT * FROM recipient WHERE envelope IN ({rng.randint(1, 9)}, {rng.randint(10, 99)})"]
    path = tmp_path / "log.sql"
    path.write_text("".join(f"{rng.choice(shapes)()};\n" for _ in range(3000)))
    result = CliRunner().invoke(cli, ["suggest", "--dsn", db, "--queries", str(path), "--format", "json",
                                      "--no-constraints"])
    assert result.exit_code == 0, result.output
    advice: Any = json.loads(result.stdout)
    assert len(advice["statements"]) <= 3 * KEPT
    assert sum(s["calls"] for s in advice["statements"]) == 3000
    assert {ix["columns"][0] for ix in advice["indexes"]} >= {"team", "token", "envelope"}
