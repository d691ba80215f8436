"""HypoPG names a hypothetical index ``<oid>btree_<table>_<columns>`` and cuts it at NAMEDATALEN bytes.

On a UTF-8 database the cut can fall inside a multi-byte character: the name
HypoPG returns, and the "Index Name" of every EXPLAIN that uses the index, then
end in half a character. Where the cut falls depends on the table's name and on
how many digits the OID has (a cluster past OID 99,999 moves it by one byte),
so the same hostile table passed on one cluster and failed on another with a
UnicodeDecodeError. Both spellings below put the cut inside a character for
either parity of the prefix.
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from psycopg import sql
from psycopg.pq import Format

from pgtune.analyze import whatif
from pgtune.analyze.candidates import Candidate
from pgtune.ddl import IndexKey
from pgtune.explain import explain

pytestmark = pytest.mark.needs_hypopg

SPLIT = ["é" * 31 + "x", "x" + "é" * 31]          # 63 bytes each, the longest name PostgreSQL keeps


def _load(conn: psycopg.Connection[Any], name: str) -> str:
    t = sql.Identifier(name)
    conn.execute(sql.SQL("CREATE TABLE {t} (id int PRIMARY KEY, {t} int)").format(t=t))
    conn.execute(sql.SQL("INSERT INTO {t} SELECT g, g % 5000 FROM generate_series(1, 20000) g").format(t=t))
    conn.execute(sql.SQL("ANALYZE {t}").format(t=t))
    return sql.SQL("SELECT id FROM {t} WHERE {t} = 42").format(t=t).as_string(conn)


def test_a_hypothetical_name_cut_inside_a_character_still_maps_to_its_candidate(
        conn: psycopg.Connection[Any]) -> None:
    queries = {name: _load(conn, name) for name in SPLIT}
    cut = []
    strict = [conn.adapters.get_loader(conn.adapters.types[t].oid, Format.TEXT) for t in ("text", "json")]
    with whatif.session(conn) as hypo:
        for position, name in enumerate(SPLIT):
            cand = Candidate(("public", name), (IndexKey(name),), 1)
            hypo.create(position, cand)
            (oid, _), = hypo.present[next(k for k in hypo.present if k[0] == cand.table)]
            raw = conn.execute("SELECT indexname::bytea FROM hypopg() WHERE indexrelid = %s", (oid,)).fetchone()
            assert raw is not None
            try:
                bytes(raw[0]).decode()
            except UnicodeDecodeError:
                cut.append(name)
            plan = explain(conn, queries[name])
            assert {hypo.names[n] for n in plan.indexes if n in hypo.names} == {position}, plan.indexes
    assert cut, "HypoPG cut no name inside a character: the test shows nothing"
    # Once the session is over the connection reads text and plans strictly again.
    assert [conn.adapters.get_loader(conn.adapters.types[t].oid, Format.TEXT) for t in ("text", "json")] == strict
