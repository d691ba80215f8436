"""suggest on issue 24's production-shaped database (tests/production.py): what it must not propose.

The fixture leaves an INVALID ``ON ONLY app.events ("documentId")`` (an index
whose partitions' indexes were never built) and partitions whose foreign keys
are clones of their parent's.
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from pgtune import api

from . import production
from .production import Part

SCALE = 0.05          # 50k events: the shape matters here, not the size


@pytest.mark.needs_hypopg
def test_an_invalid_index_gets_no_twin_and_partitions_no_foreign_key_index_of_their_own(
        db: str, conn: psycopg.Connection[Any]) -> None:
    prod = production.build(db, scale=SCALE)
    production.workload(prod, parts=(Part.EVENTS,))
    result = api.suggest(conn, api.SuggestOptions(constraints=False))
    on_events = [(ix.table, ix.columns) for ix in result.indexes.indexes if ix.table.startswith("events")]
    # The statement by "documentId" is served once the INVALID index is complete: health's fix, not a twin.
    assert ("events", ["documentId"]) not in on_events, on_events
    hint = [h for h in result.indexes.hints if "events_documentId_idx" in h]
    assert hint and "INVALID" in hint[0] and "pgtune health" in hint[0], result.indexes.hints
    # A foreign key belongs to its root table: no partition gets an index of its own.
    assert all(table == "events" for table, _ in on_events), on_events
