"""health's note on a NOT VALID constraint it leaves out speaks of one row in the singular (c25).

It said "1 row of member break it: its VALIDATE would fail on them; fix them": every verb and pronoun of the
note now follows the count ("1 row of member breaks it: its VALIDATE would fail on it; fix it").
"""

from __future__ import annotations

from typing import Any

import psycopg

from pgtune.health.not_valid_rows import left_out

SETUP = """
CREATE TABLE team (id int PRIMARY KEY); INSERT INTO team SELECT generate_series(1, 10);
CREATE TABLE member (id int PRIMARY KEY, name text, score int NOT NULL, team_id int, team2 int);
INSERT INTO member SELECT g, 'u' || g, g % 7, g % 10 + 1, g % 10 + 1 FROM generate_series(1, 100) g;
UPDATE member SET name = NULL, score = 9, team_id = 99 WHERE id = 1;
UPDATE member SET score = 8, team2 = 99 WHERE id IN (2, 3);
ALTER TABLE member ADD CONSTRAINT member_name_nn CHECK (name IS NOT NULL) NOT VALID;
ALTER TABLE member ADD CONSTRAINT member_score_one CHECK (score < 9) NOT VALID;
ALTER TABLE member ADD CONSTRAINT member_score_three CHECK (score < 8) NOT VALID;
ALTER TABLE member ADD CONSTRAINT member_team_fk FOREIGN KEY (team_id) REFERENCES team (id) NOT VALID;
ALTER TABLE member ADD CONSTRAINT member_team2_fk FOREIGN KEY (team2) REFERENCES team (id) NOT VALID;
"""


def test_one_row_is_said_in_the_singular(conn: psycopg.Connection[Any]) -> None:
    conn.execute(SETUP)

    def note(name: str) -> str:
        return left_out(conn, "public", "member", name) or ""

    assert note("member_score_one").startswith(
        "1 row of member breaks it: its VALIDATE would fail on it; fix it, then run"), note("member_score_one")
    assert note("member_score_three").startswith(
        "3 rows of member break it: its VALIDATE would fail on them; fix them, then run"), note("member_score_three")
    assert note("member_team_fk").startswith("1 row of member names a team row that does not exist: "), \
        note("member_team_fk")
    assert note("member_team2_fk").startswith("2 rows of member name a team row that does not exist: "), \
        note("member_team2_fk")
    if conn.info.server_version < 180000:      # 18 reads a CHECK (x IS NOT NULL) as a rule like any other
        assert note("member_name_nn").startswith("1 row of member holds NULL in name: "), note("member_name_nn")
