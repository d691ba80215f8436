"""An existing index with the right keys but not the columns to cover a statement is widened, not doubled (u8).

Umami's dashboards count visitors of one website over a date range, page views
only: ``website_id = $1 AND created_at BETWEEN $2 AND $3 AND event_type NOT IN
($4, $5)``. Its ``(website_id, created_at)`` index finds the rows, and each one
is then read from the heap. u8 timed ``(website_id, created_at) INCLUDE
(event_type, session_id, visit_id)`` at a planner cost of 687 against 18,527 for
a day: an index-only scan. pgtune proposed nothing of the kind, for two reasons:
its INCLUDE left out ``event_type``, which only a filter no key serves reads (so
no index-only scan was possible), and a candidate whose keys an existing index has
was dropped as not worth a second index's writes, so the advice said "no index
pgtune could propose makes it cheaper". Now the covering twin is proposed in the
existing index's place: the migration builds it and drops the old one last.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import psycopg
import pytest

from pgtune.apply import Applier
from pgtune.plan import Layout

from .helpers import all_visible, emitted, steady_state, suggest
from .test_migration import squawk_bin

EVENTS = """
CREATE TABLE website_event (
    event_id bigint PRIMARY KEY, website_id integer NOT NULL, session_id integer NOT NULL,
    visit_id integer NOT NULL, created_at timestamptz NOT NULL, url_path varchar(500) NOT NULL,
    event_type integer NOT NULL DEFAULT 1);
INSERT INTO website_event
SELECT g, 1 + g % 40, g / 7, g / 3, timestamptz '2026-01-01' + (g % 259200) * interval '1 minute',
       '/page/' || (g % 300) || repeat('x', 40), CASE WHEN g % 10 < 8 THEN 1 ELSE 2 END
FROM generate_series(1, 300000) g;
CREATE INDEX website_event_website_id_created_at_idx ON website_event (website_id, created_at);
"""
VISITORS = ("SELECT count(DISTINCT session_id) AS visitors, count(DISTINCT visit_id) AS visits FROM website_event "
            "WHERE website_id = %s AND created_at BETWEEN %s AND %s AND event_type NOT IN (%s, %s)")
OLD = "website_event_website_id_created_at_idx"


def _plan(conn: psycopg.Connection[Any]) -> str:
    rows = conn.execute("EXPLAIN " + VISITORS.replace("%s", "{}").format(
        7, "'2026-03-01'", "'2026-03-31'", 2, 5)).fetchall()
    return "\n".join(r[0] for r in rows)


OTHER = ("SELECT url_path FROM website_event WHERE website_id = %s AND created_at >= %s "
         "ORDER BY created_at LIMIT 20")


def _workload(conn: psycopg.Connection[Any], *, other: bool = True) -> None:
    """The events, all visible, and the dashboards' count run as prepared statements (and OTHER, a list that
    reads through the old index without covering)."""
    conn.execute(EVENTS)
    all_visible(conn, "website_event")
    steady_state(conn)
    with conn.cursor() as cur:
        for i in range(30):
            cur.execute(VISITORS, (1 + i % 40, "2026-03-01", "2026-03-31", 2, 5), prepare=True)
            if other:
                cur.execute(OTHER, (1 + i % 40, "2026-03-01"), prepare=True)


@pytest.mark.needs_hypopg
def test_the_index_with_the_keys_is_replaced_by_its_covering_twin(conn: psycopg.Connection[Any],
                                                                   tmp_path: Path) -> None:
    _workload(conn, other=False)
    assert "Index Only Scan" not in _plan(conn)
    result = emitted(conn, tmp_path / "mig")
    [ix] = result.indexes.indexes
    assert ix.columns == ["website_id", "created_at"], ix
    assert set(ix.include) == {"event_type", "session_id", "visit_id"}, ix      # event_type: read by NOT IN
    assert ix.redundant == [OLD]
    m = result.migration
    assert m is not None
    last = m.phases[-1]
    assert [(e.name, e.served_by) for e in last.existing] == [(OLD, ix.name)]
    out = subprocess.run([squawk_bin(), *[str(f) for f in sorted((tmp_path / "mig").glob("*.sql"))]],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    Applier(conn, tmp_path / "mig").apply()
    names = {r[0] for r in conn.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'website_event'")}
    assert OLD not in names and ix.name in names
    all_visible(conn, "website_event")
    assert f"Index Only Scan using {ix.name}" in _plan(conn)


@pytest.mark.needs_hypopg
def test_the_old_index_goes_though_another_statement_reads_through_it(conn: psycopg.Connection[Any],
                                                                       tmp_path: Path) -> None:
    """r9: OTHER reads through the old index; the twin (the same keys) serves it as well, so the drop guard does
    not keep the old one (it did: two indexes with the same keys)."""
    _workload(conn)
    result = emitted(conn, tmp_path / "mig")
    [ix] = result.indexes.indexes
    assert ix.redundant == [OLD] and set(ix.include) >= {"event_type", "session_id", "visit_id"}, ix
    m = result.migration
    assert m is not None and [(e.name, e.served_by) for e in m.phases[-1].existing] == [(OLD, ix.name)]


@pytest.mark.needs_hypopg
def test_a_twin_whose_old_index_stays_is_not_proposed(conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    """r9: a layout with no phase that drops an index (Flyway) would leave the twin beside the old one."""
    _workload(conn)
    result = emitted(conn, tmp_path / "mig", layout=Layout.FLYWAY)
    assert all(ix.columns != ["website_id", "created_at"] for ix in result.indexes.indexes), result.indexes.indexes
    assert any(h.startswith("website_event_website_id_created_at_incl") and f"covering twin of existing index {OLD}"
               in h for h in result.indexes.hints), result.indexes.hints
    visitors = next(st for st in result.indexes.statements if "count(DISTINCT session_id)" in st.query)
    assert visitors.cost_after == visitors.cost_before      # the headline does not count it
    sql_text = "".join(p.read_text() for p in (tmp_path / "mig").rglob("*.sql"))
    assert "INCLUDE" not in sql_text


@pytest.mark.needs_hypopg
def test_an_index_that_covers_already_gets_no_twin(conn: psycopg.Connection[Any]) -> None:
    conn.execute(EVENTS)
    conn.execute(f"DROP INDEX {OLD}")
    conn.execute("CREATE INDEX covering ON website_event (website_id, created_at) "
                 "INCLUDE (event_type, session_id, visit_id)")
    all_visible(conn, "website_event")
    steady_state(conn)
    for i in range(30):
        conn.execute(VISITORS, (1 + i % 40, "2026-03-01", "2026-03-31", 2, 5)).fetchall()
    assert "Index Only Scan using covering" in _plan(conn)      # served already: what the advice must see
    advice = suggest(conn)
    assert advice.indexes == []
    [st] = [s for s in advice.statements if "count(DISTINCT session_id)" in s.query]
    assert st.cost_before is not None and st.cost_after == st.cost_before and not st.indexes


@pytest.mark.needs_hypopg
def test_plain_suggest_agrees_with_emit_on_a_twin_whose_old_index_stays(conn: psycopg.Connection[Any],
                                                                        tmp_path: Path) -> None:
    """u12 (Cal.com): the old index came from the application's Prisma migrations, so the migration keeps it and
    emit withdrew its twin; plain suggest (table, JSON, --prisma-schema) still proposed the twin."""
    from .test_layouts import PRISMA_LEDGER

    _workload(conn)
    conn.execute(PRISMA_LEDGER)          # `prisma migrate deploy` made the schema, the old index with it
    plain = suggest(conn)
    assert all(ix.columns != ["website_id", "created_at"] for ix in plain.indexes), plain.indexes
    assert any(f"covering twin of existing index {OLD}" in h for h in plain.hints), plain.hints
    visitors = next(st for st in plain.statements if "count(DISTINCT session_id)" in st.query)
    assert visitors.cost_after == visitors.cost_before
    written = emitted(conn, tmp_path / "mig")
    assert [ix.name for ix in written.indexes.indexes] == [ix.name for ix in plain.indexes]


@pytest.mark.needs_hypopg
def test_one_tenants_twin_withdrawn_leaves_the_others_index(conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    """A schema per tenant (p15, Rallly-shaped) whose tenants drifted: t_old has the old index, t_new not. Both
    get the same covering index name; Flyway keeps t_old's old index, so t_old's twin goes, and by bare name
    t_new's index went too, though t_new has nothing it would twin."""
    for schema in ("t_old", "t_new"):
        conn.execute(f"CREATE SCHEMA {schema}; SET search_path = {schema}")
        conn.execute(EVENTS)
        if schema == "t_new":
            conn.execute(f"DROP INDEX {OLD}")
        all_visible(conn, "website_event")
    conn.execute("RESET search_path")
    steady_state(conn)
    with conn.cursor() as cur:
        for i in range(30):
            for schema in ("t_old", "t_new"):
                cur.execute(VISITORS.replace("FROM website_event", f"FROM {schema}.website_event"),
                            (1 + i % 40, "2026-03-01", "2026-03-31", 2, 5), prepare=True)
    result = emitted(conn, tmp_path / "mig", layout=Layout.FLYWAY)
    assert any(f"covering twin of existing index {OLD}" in h for h in result.indexes.hints), result.indexes.hints
    kept = [(ix.schema, ix.columns) for ix in result.indexes.indexes]
    assert kept == [("t_new", ["website_id", "created_at"])], (kept, result.indexes.hints)
    visitors = next(st for st in result.indexes.statements if "FROM t_new.website_event" in st.query)
    assert visitors.cost_before is not None and visitors.cost_after is not None
    assert visitors.cost_after < visitors.cost_before / 2       # t_new's statement keeps its gain
