"""Children of an old-style (INHERITS) table: a statement on the parent reads them all, and pgtune says it does not
index them (c21).

An index built on the parent reaches none of its children, and pgtune's candidates are the tables a statement
names: the statement was reported as "no index pgtune could propose makes it cheaper", with no word of the children
where its 600,000 rows are. The advice now names the parent, its children holding rows and what to do.
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from pgtune.capture import read_queries_file

from .helpers import steady_state, suggest

SCHEMA = """
CREATE TABLE measurement (id bigserial, city_id int NOT NULL, logdate date NOT NULL, peaktemp int);
CREATE TABLE measurement_y2025 () INHERITS (measurement);
CREATE TABLE measurement_y2026 () INHERITS (measurement);
CREATE TABLE measurement_empty () INHERITS (measurement);
INSERT INTO measurement_y2025 (city_id, logdate, peaktemp)
  SELECT g % 5000, date '2025-01-01' + (g % 365), g % 40 FROM generate_series(1, 300000) g;
INSERT INTO measurement_y2026 (city_id, logdate, peaktemp)
  SELECT g % 5000, date '2026-01-01' + (g % 365), g % 40 FROM generate_series(1, 300000) g;
ANALYZE;
"""


def test_a_statement_on_an_inheritance_parent_says_its_children_are_not_indexed(conn: psycopg.Connection[Any]) -> None:
    conn.execute(SCHEMA)
    steady_state(conn)
    advice = suggest(conn, read_queries_file("SELECT * FROM measurement WHERE city_id = 42;"))
    assert not advice.indexes, [ix.name for ix in advice.indexes]
    [st] = advice.statements
    assert "inheritance children of measurement" in st.note, st.note
    said = [h for h in advice.hints if h.startswith("measurement has 2 child table(s) by inheritance")]
    assert len(said) == 1, advice.hints
    # the children holding rows, not the empty one; what to do
    assert "public.measurement_y2025, public.measurement_y2026; 600,000 rows" in said[0], said[0]
    assert "declarative partitioning" in said[0]
    assert not any("no index pgtune could propose" in h for h in advice.hints), advice.hints


@pytest.mark.needs_hypopg
def test_a_statement_an_index_on_the_parent_helps_is_not_called_unhelped(conn: psycopg.Connection[Any]) -> None:
    """r21: the parent holding rows of its own, pgtune's index on it cut the statement's cost (7,683 -> 4,412 on
    PG15), and the note said "no index pgtune proposes makes it cheaper": the children's word is a note beside."""
    conn.execute("""
        CREATE TABLE ev (id int, k int, v text);
        CREATE TABLE ev_old () INHERITS (ev);
        INSERT INTO ev SELECT g, g % 20000, md5(g::text) FROM generate_series(1, 200000) g;
        INSERT INTO ev_old SELECT g, g % 20000, md5(g::text) FROM generate_series(1, 200000) g;
        ANALYZE;
    """)
    steady_state(conn)
    advice = suggest(conn, read_queries_file("SELECT id, v FROM ev WHERE k = 42;"))
    [st] = advice.statements
    assert st.indexes and st.cost_after is not None and st.cost_before is not None, st
    assert st.cost_after * 1.5 < st.cost_before, (st.cost_before, st.cost_after)
    # Without the fix: st.note == "no index pgtune proposes makes it cheaper: it reads the inheritance children…"
    assert "no index" not in st.note, st.note
    assert any("also reads the inheritance children of ev" in n for n in st.notes), st.notes
