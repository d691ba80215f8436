"""Heuristic mode (no HypoPG, as on PostgreSQL 18 here): no proposal whose keys another proposal already serves.

Session 23 found the document-signing app's Document table (tests/orm_app.py)
given four indexes leading "userId": ("userId") INCLUDE ("deletedAt", id) beside
("userId", status, "createdAt"), ("userId", "createdAt") and ("userId", title).
Without a plan nothing shows the covering twin's index-only scan is worth an
index every write maintains; the wider index serves its lookup.
"""

from __future__ import annotations

from typing import Any

import psycopg

from pgtune.analyze import Options
from pgtune.analyze.candidates import Candidate, serves
from pgtune.ddl import IndexKey

from . import orm_app
from .helpers import suggest


def test_heuristic_mode_proposes_no_index_another_proposal_serves(db: str, conn: psycopg.Connection[Any]) -> None:
    orm_app.build(conn)
    orm_app.run(db)
    advice = suggest(conn, options=Options(min_rows=100, use_hypopg=False))
    assert advice.method == "heuristic"
    proposals = [ix for ix in advice.indexes if str(ix.method) == "btree" and not any(ix.expressions or [])]
    on_document = [ix for ix in proposals if ix.table == "Document"]
    assert any(ix.columns[0] == "userId" for ix in on_document), on_document     # the lookup is still served
    assert {str(ix.costed_by) for ix in proposals} == {"none"}      # nothing costed them (p17: said hypopg)
    for ix in proposals:
        bare = Candidate((ix.schema, ix.table), tuple(IndexKey(c, d) for c, d in zip(ix.columns, ix.descending,
                                                                                       strict=True)), 0, where=ix.where)
        hosts = [o.name for o in proposals if o is not ix and o.table == ix.table and serves(
            tuple(IndexKey(c, d) for c, d in zip(o.columns, o.descending, strict=True)), o.where, o.include, bare)]
        assert not hosts, (ix.name, ix.include, hosts)
