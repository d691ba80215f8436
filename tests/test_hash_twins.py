"""suggest beside the indexes an application already has: Prisma's hash indexes and a primary key (u3 on rallly).

A b-tree beside a hash index on the same column is credited by the planner
for the heap order a b-tree's statistics describe, which the rows have
whichever index finds them: verify measured nothing of the 4.6x credited
(R4). A b-tree that leads with a primary key's column has one row to find,
which the key already finds (R5).
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from .helpers import run, steady_state, suggest

RALLLY = """
CREATE TABLE polls (id text PRIMARY KEY, title text NOT NULL, deleted boolean NOT NULL DEFAULT false);
CREATE TABLE options (id text PRIMARY KEY, poll_id text NOT NULL REFERENCES polls (id) ON DELETE CASCADE,
                      start_time timestamp NOT NULL);
CREATE INDEX options_poll_id_idx ON options USING hash (poll_id);
CREATE TABLE votes (id text PRIMARY KEY, option_id text NOT NULL REFERENCES options (id) ON DELETE CASCADE,
                    poll_id text NOT NULL REFERENCES polls (id) ON DELETE CASCADE, type text NOT NULL DEFAULT 'yes');
CREATE INDEX votes_poll_id_idx ON votes USING hash (poll_id);
CREATE INDEX votes_option_id_idx ON votes USING hash (option_id);
INSERT INTO polls SELECT 'p' || i, 'poll ' || i, i % 50 = 0 FROM generate_series(1, 30000) i;
INSERT INTO options SELECT 'o' || i || '-' || k, 'p' || i, timestamp '2026-01-01' + (i * 7 + k) * interval '1 hour'
FROM generate_series(1, 30000) i, generate_series(1, 3) k;
INSERT INTO votes SELECT 'v' || i || '-' || k || '-' || j, 'o' || i || '-' || j, 'p' || i
FROM generate_series(1, 30000) i, generate_series(1, 3) k, generate_series(1, 2) j;
"""

VOTES = ('SELECT "public"."votes"."id", "public"."votes"."type" FROM "public"."votes" '
         'WHERE "public"."votes"."poll_id" = %s')
COUNT = 'SELECT count(*) FROM "public"."votes" WHERE "public"."votes"."poll_id" = %s'
OPTIONS = ('SELECT "public"."options"."id", "public"."options"."start_time" FROM "public"."options" '
           'WHERE "public"."options"."poll_id" IN (%s) ORDER BY "public"."options"."start_time" ASC')
POLL = 'SELECT id, title FROM polls WHERE id = %s AND deleted = %s LIMIT 1'


def _rallly(conn: psycopg.Connection[Any]) -> None:
    conn.execute(RALLLY)
    conn.execute("VACUUM ANALYZE")
    steady_state(conn)
    polls = [(f"p{i * 97 % 30000 + 1}",) for i in range(40)]
    run(conn, VOTES, polls, times=40)
    run(conn, COUNT, polls, times=40)
    run(conn, OPTIONS, polls, times=40)
    run(conn, POLL, [(p, False) for (p,) in polls], times=40)


def _keys(advice: list[Any]) -> list[tuple[str, tuple[str, ...]]]:
    return sorted((i.table, tuple(i.columns)) for i in advice)


@pytest.mark.needs_hypopg
def test_no_btree_twin_of_a_hash_index_with_what_if(conn: psycopg.Connection[Any]) -> None:
    """R4: the hash index serves the equality lookups; a b-tree on poll_id alone adds nothing to credit."""
    _rallly(conn)
    keys = _keys(suggest(conn).indexes)
    assert ("votes", ("poll_id",)) not in keys, keys
    assert all(cols[0] != "id" for _, cols in keys), keys


@pytest.mark.no_hypopg
def test_heuristic_mode_proposes_no_twin_and_nothing_behind_a_primary_key(conn: psycopg.Connection[Any]) -> None:
    """R5: without HypoPG nothing plans the candidates, so the catalog must rule out what already has an index.

    The ORDER BY beside the hash index is what a b-tree adds, and stays.
    """
    _rallly(conn)
    keys = _keys(suggest(conn).indexes)
    assert ("votes", ("poll_id",)) not in keys, keys
    assert not [k for k in keys if k[0] == "polls"], keys
    assert ("options", ("poll_id", "start_time")) in keys, keys


def test_a_hash_index_on_a_narrow_column_of_a_two_column_key_serves_it(conn: psycopg.Connection[Any]) -> None:
    """u10 (Langfuse): dataset_items' key (dataset_id, project_id) is checked through its hash index on dataset_id,
    a handful of rows per dataset; health called the key unindexed (exit 1) and --emit built a b-tree for it."""
    from pgtune import api

    conn.execute("""
        CREATE TABLE datasets (id text, project_id text, PRIMARY KEY (id, project_id));
        CREATE TABLE dataset_items (id text PRIMARY KEY, dataset_id text NOT NULL, project_id text NOT NULL,
                                    FOREIGN KEY (dataset_id, project_id) REFERENCES datasets ON DELETE CASCADE);
        INSERT INTO datasets SELECT 'd' || g, 'p' || g % 10 FROM generate_series(1, 20000) g;
        INSERT INTO dataset_items SELECT 'i' || g, 'd' || (1 + g % 20000), 'p' || (1 + g % 20000) % 10
        FROM generate_series(1, 60000) g;
        CREATE INDEX dataset_items_dataset_id_idx ON dataset_items USING hash (dataset_id);
        ANALYZE;
    """)
    conn.execute("DELETE FROM datasets WHERE id = 'd5'")      # the parent sees deletes
    report = api.health(conn, only=["foreign-key-without-index"])
    assert [f for f in report.findings if f.table == "dataset_items" and f.fix] == [], report.findings
