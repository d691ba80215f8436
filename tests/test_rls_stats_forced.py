"""The hint for statistics row security hides: the owner is no way out under FORCE ROW LEVEL SECURITY, and
BYPASSRLS is named with what it gives (r11 F6).

pg_stats shows a table's statistics only to a reader row security does not
apply to. The hint said "run pgtune as the tables' owner", but a table with
FORCE ROW LEVEL SECURITY binds its owner too: the owner reads no pg_stats row
of it (0 where it read 2 before the FORCE). And BYPASSRLS, the other fix,
lets the role read every tenant's rows: the hint presented it as a plain fix.
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.conninfo import make_conninfo

from pgtune import capabilities

from .helpers import login_roles


def test_the_owner_of_a_forced_table_is_not_the_fix(db: str, conn: psycopg.Connection[Any]) -> None:
    with login_roles(conn, "own", "reader") as (own, reader):
        conn.execute(f'GRANT CREATE ON SCHEMA public TO "{own}"')
        with psycopg.connect(make_conninfo(db, user=own), autocommit=True) as c:
            for table in ("docs", "notes"):
                c.execute(f"CREATE TABLE {table} (id int, tenant int)")
                c.execute(f"INSERT INTO {table} SELECT g, g % 10 FROM generate_series(1, 5000) g")
                c.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
                c.execute(f"CREATE POLICY p ON {table} USING (tenant = current_setting('app.t', true)::int)")
                c.execute(f"ANALYZE {table}")
            assert capabilities.probe(c).stats_hints() == []     # the owner, no FORCE: it reads them
            c.execute("ALTER TABLE docs FORCE ROW LEVEL SECURITY")
            assert c.execute("SELECT count(*) FROM pg_stats WHERE tablename = 'docs'").fetchone() == (0,)
            caps = capabilities.probe(c)
            (hint,) = caps.stats_hints()
            assert "tables' owner" not in hint and "public.docs has FORCE ROW LEVEL SECURITY" in hint, hint
            assert "run pgtune as a superuser, or " in hint and "BYPASSRLS;" in hint
            assert "read every row" in hint
            assert caps.stats_hidden == ("public.docs",) and caps.stats_forced == ("public.docs",)
        # Another role: the owner still fixes notes, not docs; BYPASSRLS's cost is said.
        conn.execute(f'GRANT SELECT ON docs, notes TO "{reader}"')
        with psycopg.connect(make_conninfo(db, user=reader), autocommit=True) as c:
            caps = capabilities.probe(c)
            assert set(caps.stats_hidden) == {"public.docs", "public.notes"}, caps.stats_hidden
            (hint,) = caps.stats_hints()
            assert "run pgtune as the others' owner, as a superuser, or " in hint, hint
            assert "read every row of every table it may SELECT" in hint
