"""What a pipelined what-if question sends (issue 28: speed): psycopg's work per statement was most of what-if
costing's CPU, so each question sends as few statements as its answer needs, with the advice of one at a time.

A question's hypothetical indexes (those it drops and those it makes) are one statement; a pipeline's
transaction is opened by BEGIN and one SELECT of its settings, plan_cache_mode among them, and closed by
one ROLLBACK.
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from .test_pool import _advice, _run_shop, _shop


@pytest.mark.needs_hypopg
def test_a_pipelined_question_sends_one_hypopg_statement_and_its_transaction_no_mode_of_its_own(
        conn: psycopg.Connection[Any], monkeypatch: pytest.MonkeyPatch) -> None:
    from psycopg import Cursor

    from pgtune.analyze import batch, whatif

    statements = _run_shop(conn, 4)
    texts: list[str] = []
    queued = {"questions": 0, "both": 0}
    real_execute, real_queue, real_diff = Cursor.execute, whatif.Hypothetical.queue, whatif.Hypothetical._diff

    def execute(self: Cursor[Any], query: Any, *args: Any, **kwargs: Any) -> Any:
        texts.append(str(query))
        return real_execute(self, query, *args, **kwargs)

    def queue(self: whatif.Hypothetical, cands: Any, tables: Any, *args: Any, **kwargs: Any) -> bool:
        drops, creates = real_diff(self, cands, tables)
        done = real_queue(self, cands, tables, *args, **kwargs)
        queued["questions"] += done
        queued["both"] += done and bool(drops) and bool(creates)
        return done

    monkeypatch.setattr(Cursor, "execute", execute)
    monkeypatch.setattr(whatif.Hypothetical, "queue", queue)
    sent = _advice(conn, statements, 1)
    sent_texts = list(texts)
    monkeypatch.setattr(batch, "pipelined", lambda costing, hypo, asks: None)     # each question alone
    alone = _advice(conn, statements, 1)
    assert sent[0] and sent == alone

    assert queued["both"] > 10      # questions that drop some indexes and make others
    hypopg = [t for t in sent_texts if "hypopg_create_index(d.def)" in t or "hypopg_drop_index(o)" in t]
    assert 0 < len(hypopg) <= queued["questions"]
    mode = "SELECT /* pgtune */ pg_catalog.set_config('plan_cache_mode'"
    opened = [i for i, t in enumerate(sent_texts) if t.startswith("BEGIN /* pgtune */ READ ONLY")]
    assert opened and all("plan_cache_mode" in sent_texts[i + 1] for i in opened)
    assert not any(sent_texts[i + 2].startswith(mode) for i in opened)


@pytest.mark.needs_hypopg
def test_a_candidates_create_index_text_is_written_once_per_session(
        conn: psycopg.Connection[Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """whatif.Hypothetical._statements: selection makes the same candidates again and again; the text HypoPG gets
    for one is written once per session, with the advice of writing it every time."""
    from pgtune.analyze import whatif

    statements = _shop(conn, 4)
    written: list[tuple[Any, ...]] = []
    real = whatif.hypothetical_ddl

    def counted(schema: str, table: str, cand: Any) -> str:
        written.append((schema, table, whatif.ident(cand)))
        return real(schema, table, cand)

    monkeypatch.setattr(whatif, "hypothetical_ddl", counted)
    once = _advice(conn, statements, 1)
    each = list(written)
    written.clear()
    monkeypatch.setattr(whatif.Hypothetical, "_statements", lambda self, cand: [
        whatif.hypothetical_ddl(t[0], t[1], cand)
        for t in (self.leaves(cand.table) if cand.table in self.per_leaf else [cand.table])])
    assert _advice(conn, statements, 1) == once and once[0]
    assert len(each) == len(set(each))          # once per session and candidate (suggest has one session here)
    assert len(each) * 3 < len(written)
