"""With pg_stat_statements.track = all, a trigger's writes are in the workload: none is counted as unseen (p19).

unseen_writers.sql read ``current_setting('pg_stat_statements.track')``: the
session's value, which pgtune now sets to 'none' for its own sessions (they evict
none of the application's entries). On a server with track = all (the
Umami-shaped one) every writing function's table then counted as unseen again, as
if nested statements were not listed. The server's value (the one a session starts
with) decides.
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg import sql

from pgtune.capture import read_catalog, read_unseen_writers
from pgtune.connect import connect


def test_track_all_on_the_server_counts_no_unseen_writer(db: str, conn: psycopg.Connection[Any]) -> None:
    conn.execute("CREATE TABLE hourly (site int PRIMARY KEY, n bigint NOT NULL DEFAULT 0)")
    conn.execute("CREATE TABLE event (id bigint PRIMARY KEY, site int NOT NULL)")
    conn.execute("""CREATE FUNCTION bump() RETURNS trigger LANGUAGE plpgsql AS $f$
                    BEGIN
                      INSERT INTO hourly AS h (site, n) VALUES (NEW.site, 1)
                      ON CONFLICT (site) DO UPDATE SET n = h.n + 1;
                      RETURN NEW;
                    END $f$""")
    conn.execute("CREATE TRIGGER event_bump AFTER INSERT ON event FOR EACH ROW EXECUTE FUNCTION bump()")
    with connect(db) as own:
        assert ("public", "hourly") in read_unseen_writers(own, read_catalog(own))     # track = top: unseen
    conn.execute(sql.SQL("ALTER DATABASE {} SET pg_stat_statements.track = 'all'").format(
        sql.Identifier(conn.info.dbname)))
    with connect(db) as own:
        assert own.execute("SHOW pg_stat_statements.track").fetchone() == ("none",)    # pgtune's own session
        # Without the fix: {('public', 'hourly')}, read from the session's 'none'.
        assert read_unseen_writers(own, read_catalog(own)) == set()
