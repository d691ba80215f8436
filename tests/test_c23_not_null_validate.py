"""health --emit validated a NOT NULL left NOT VALID over rows that hold NULL: the VALIDATE failed at apply (c23, LOW).

A NOT NULL added NOT VALID (``CHECK (name IS NOT NULL) NOT VALID``; PostgreSQL 18's own ``NOT NULL name NOT
VALID``) holds new rows only: rows written before it may hold NULL, and its VALIDATE then fails ("check constraint
… is violated by some row"), stopping the migration's phase. Those rows are counted first, within a short
statement_timeout as health/duplicate_keys.py reads, and such a constraint is left to the DBA with the count (a
CHECK its rows break, a foreign key whose parent rows are gone, the same).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg

from pgtune import api

TABLE = """
CREATE TABLE member (id int PRIMARY KEY, name text, email text, score int NOT NULL);
INSERT INTO member SELECT g, CASE WHEN g % 50 = 0 THEN NULL ELSE 'u' || g END, 'e' || g, g % 7
FROM generate_series(1, 1000) g;
ALTER TABLE member ADD CONSTRAINT member_email_nn CHECK (email IS NOT NULL) NOT VALID;
ALTER TABLE member ADD CONSTRAINT member_score_sign CHECK (score >= 0) NOT VALID;
ALTER TABLE member ADD CONSTRAINT member_score_low CHECK (score < 5) NOT VALID;
"""


def test_a_not_null_over_null_rows_is_not_validated(conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    conn.execute(TABLE)
    if conn.info.server_version >= 180000:
        conn.execute("ALTER TABLE member ADD CONSTRAINT member_name_nn NOT NULL name NOT VALID")
    else:
        conn.execute("ALTER TABLE member ADD CONSTRAINT member_name_nn CHECK (name IS NOT NULL) NOT VALID")
    report = api.health(conn, only=["not-valid-constraint"], emit=api.EmitOptions(directory=tmp_path / "h"))
    assert {f.evidence["constraint"] for f in report.findings} == {"member_name_nn", "member_email_nn",
                                                                  "member_score_sign", "member_score_low"}
    scripts = "".join(p.read_text() for p in sorted((tmp_path / "h").glob("*_up.sql")))
    assert "member_email_nn" in scripts and "member_score_sign" in scripts, scripts
    assert "member_name_nn" not in scripts and "member_score_low" not in scripts, scripts
    assert report.migration is not None
    [note] = [s for s in report.migration.left_out if "member_name_nn" in s]
    assert "20 rows of member hold NULL in name" in note, note
    [note] = [s for s in report.migration.left_out if "member_score_low" in s]      # any CHECK its rows break
    assert "286 rows of member break it" in note, note
    # Without the fix: apply stopped on "check constraint "member_name_nn" … is violated by some row".
    api.apply(conn, tmp_path / "h")
    names = ["member_name_nn", "member_email_nn", "member_score_sign", "member_score_low"]
    valid = dict(conn.execute("SELECT conname, convalidated FROM pg_constraint WHERE conrelid = 'member'::regclass "
                              "AND conname = ANY(%s)", (names,)).fetchall())
    assert valid == {"member_name_nn": False, "member_email_nn": True, "member_score_sign": True,
                     "member_score_low": False}, valid


def test_a_foreign_key_over_missing_parents_is_not_validated(conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    """A foreign key added NOT VALID over rows whose parent is gone: VALIDATE failed ("violates foreign key
    constraint … Key (team_id)=(99) is not present in table "team"")."""
    conn.execute("CREATE TABLE team (id int PRIMARY KEY); INSERT INTO team SELECT generate_series(1, 10);"
                 "CREATE TABLE player (id int PRIMARY KEY, team_id int, coach_team int);"
                 "INSERT INTO player SELECT g, CASE WHEN g % 100 = 0 THEN 99 WHEN g % 7 = 0 THEN NULL "
                 "ELSE g % 10 + 1 END, g % 10 + 1 FROM generate_series(1, 1000) g;"
                 "ALTER TABLE player ADD CONSTRAINT player_team_fk FOREIGN KEY (team_id) REFERENCES team (id) "
                 "NOT VALID;"
                 "ALTER TABLE player ADD CONSTRAINT player_coach_fk FOREIGN KEY (coach_team) REFERENCES team (id) "
                 "NOT VALID")
    report = api.health(conn, only=["not-valid-constraint"], emit=api.EmitOptions(directory=tmp_path / "h"))
    assert report.migration is not None
    [note] = report.migration.left_out
    # The 10 rows naming team 99; a NULL key (every 7th row) is no orphan (MATCH SIMPLE).
    assert "player_team_fk" in note and "10 rows of player name a team row that does not exist" in note, note
    api.apply(conn, tmp_path / "h")
    valid = dict(conn.execute("SELECT conname, convalidated FROM pg_constraint WHERE conrelid = 'player'::regclass "
                              "AND contype = 'f'").fetchall())
    assert valid == {"player_team_fk": False, "player_coach_fk": True}, valid
