"""Heuristic advice (no HypoPG: what PostgreSQL 18 users get) keeps each target's session, as costed advice does.

Found on an Inbox-Zero-shaped database on PostgreSQL 18 (session 26, p17): the app role logs in with
``search_path = iz``, and every target of the heuristic migration came without its role's search_path, so emit
could plan none ("cannot plan at emit: relation "EmailMessage" does not exist", an ERROR line in the server log for
each) and verify failed every statement the same way. Here ``app_user``'s ``search_path = app, "Billing", public``
finds ``app.accounts``; pgtune's own session would find the legacy ``public.accounts`` (tests/production.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg

from pgtune import api
from pgtune.analyze import Options

from . import production
from .production import Part


def test_heuristic_targets_are_planned_and_verified_with_their_role_s_search_path(
        db: str, conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    prod = production.build(db)
    conn.execute('ALTER TABLE app.events DROP CONSTRAINT "events_userId_fkey"')
    conn.execute('ALTER TABLE app.notifications DROP CONSTRAINT "notifications_userId_fkey"')
    production.workload(prod, [Part.ACCOUNTS])
    folder = tmp_path / "m"
    result = api.suggest(conn, api.SuggestOptions(Options(use_hypopg=False), constraints=False),
                         emit=api.EmitOptions(directory=folder))
    assert result.indexes.method == "heuristic" and result.migration is not None
    [target] = [t for t in result.migration.targets if "accounts" in t.query]
    assert target.search_path == ["app", "Billing", "public"], target
    assert not target.baseline_note and target.baseline_cost is not None, target.baseline_note
    api.apply(conn, folder)
    checked = api.verify(conn, folder)
    assert checked.ok, checked
    assert api.rollback(conn, folder).changed
