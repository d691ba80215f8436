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
    from pgtune.explain_script import Wire

    statements = _run_shop(conn, 4)
    texts: list[str] = []
    queued = {"questions": 0, "both": 0}
    real_execute, real_queue, real_diff = Cursor.execute, whatif.Hypothetical.queue, whatif.Hypothetical._diff
    real_wire = Wire.execute

    def execute(self: Cursor[Any], query: Any, *args: Any, **kwargs: Any) -> Any:
        texts.append(str(query))
        return real_execute(self, query, *args, **kwargs)

    def wired(self: Wire, query: str, *args: Any, **kwargs: Any) -> Any:
        texts.append(query)
        return real_wire(self, query, *args, **kwargs)

    def queue(self: whatif.Hypothetical, cands: Any, tables: Any, *args: Any, **kwargs: Any) -> bool:
        drops, creates = real_diff(self, cands, tables)
        done = real_queue(self, cands, tables, *args, **kwargs)
        queued["questions"] += done
        queued["both"] += done and bool(drops) and bool(creates)
        return done

    monkeypatch.setattr(Cursor, "execute", execute)
    monkeypatch.setattr(Wire, "execute", wired)      # the pipelines of analyze.batch
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
    # The what-if transactions; a key sample's own READ ONLY transaction (its statement_timeout next, a346ca2:
    # one pipeline) plans nothing and sets no plan_cache_mode.
    opened = [i for i, t in enumerate(sent_texts) if t.startswith("BEGIN /* pgtune */ READ ONLY")
              and not sent_texts[i + 1].startswith("SET /* pgtune */ LOCAL statement_timeout")]
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


def test_a_wire_reads_every_answer_and_raises_the_servers_error_at_sync(conn: psycopg.Connection[Any]) -> None:
    """explain_script.Wire: statements sent straight through libpq come back in their order; one the server refuses
    fails the rest of the pipeline with the server's own error at ``sync``, and the session is usable after,
    also when the caller's code fails before the pipeline is read."""
    from pgtune.explain_script import Wire

    with Wire(conn) as wire:
        first = wire.execute("SELECT $1::int + 1, $2::text", (41, "é"), read=True)
        wire.execute("SELECT 'not read'")
        names = wire.execute("SELECT unnest($1::text[])", (["a", "b\"c"],), read=True)
    assert first.fetchone() == ("42", "é")
    assert names.fetchall() == [("a",), ('b"c',)]
    with pytest.raises(psycopg.errors.DivisionByZero), Wire(conn) as wire:
        wire.execute("BEGIN READ ONLY")
        ok = wire.execute("SELECT 1", read=True)
        wire.execute("SELECT 1 / 0")
        skipped = wire.execute("SELECT 2", read=True)
    assert ok.fetchone() == ("1",) and skipped.result is not None and not skipped.fetchall()
    assert conn.info.transaction_status == psycopg.pq.TransactionStatus.INERROR
    conn.execute("ROLLBACK")
    with pytest.raises(RuntimeError), Wire(conn) as wire:
        wire.execute("SELECT pg_sleep(0.1)")
        raise RuntimeError("pgtune's own failure between two statements")
    assert conn.execute("SELECT 3").fetchone() == (3,)
    assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE


@pytest.mark.needs_hypopg
def test_a_sessions_hypothetical_indexes_are_put_in_order_with_keys_made_once_per_candidate(
        conn: psycopg.Connection[Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """Each question sorts its set of candidates into the one order HypoPG makes them in: the sort key of a
    candidate is worked out once per session, not once per question (issue 28: pgtune's CPU per what-if plan)."""
    from pgtune.analyze import whatif

    statements = _run_shop(conn, 4)
    made: dict[int, list[Any]] = {}
    real_order, real_diff = whatif.order, whatif.Hypothetical._diff

    def diff(self: whatif.Hypothetical, *args: Any) -> Any:
        def counted(key: Any) -> Any:
            made.setdefault(id(self), []).append(key)
            return real_order(key)
        monkeypatch.setattr(whatif, "order", counted)
        return real_diff(self, *args)

    monkeypatch.setattr(whatif.Hypothetical, "_diff", diff)
    sent = _advice(conn, statements, 1)
    assert sent[0] and made
    assert all(len(keys) == len(set(keys)) for keys in made.values()), [len(k) - len(set(k)) for k in made.values()]

@pytest.mark.needs_hypopg
def test_the_seeds_are_made_one_statement_per_block_with_their_sizes(
        conn: psycopg.Connection[Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """whatif.Hypothetical.create_all (which seeds the server accepts, and HypoPG's sizes): one statement per
    CREATE_BLOCK candidates, not one each (psycopg's work per statement: ~13,000 at speed.py's 5,000), each
    candidate's size the one its own hypopg_create_index gives."""
    from psycopg import Cursor

    from pgtune.analyze import whatif
    from pgtune.analyze.candidates import Candidate
    from pgtune.ddl import IndexKey

    _shop(conn, 2)
    cands = [Candidate(("public", f"t{t}"), tuple(IndexKey(c) for c in cols), 1)
             for t in range(2) for cols in (["c1"], ["c2"], ["c1", "c8"], ["c4"], ["c6", "c1"])]
    sent: list[str] = []
    real = Cursor.execute

    def execute(self: Cursor[Any], query: Any, *args: Any, **kwargs: Any) -> Any:
        sent.append(str(query))
        return real(self, query, *args, **kwargs)

    monkeypatch.setattr(whatif, "CREATE_BLOCK", 4)
    with whatif.session(conn) as hypo:
        monkeypatch.setattr(Cursor, "execute", execute)
        assert hypo.create_all(cands)
        monkeypatch.setattr(Cursor, "execute", real)
        made = [t for t in sent if "hypopg_create_index" in t]
        assert len(made) == 3, made         # 10 candidates, 4 a statement
        sizes = {whatif.ident(c): hypo.sizes[whatif.ident(c)] for c in cands}
        hypo.reset()
        for c in cands:
            assert hypo.create(-1, c)[1] == sizes[whatif.ident(c)] > 0
