"""The statements priced as they run now are prepared as the what-if session keeps them (analyze.batch.KEPT), not
prepared and freed once more before the selection prepares them again (issue 28: 4,000 PREPAREs and 4,000
DEALLOCATEs of speed.py's 168,000 statements sent at 5,000 statements), with the advice of preparing them apart."""

from __future__ import annotations

import re
from typing import Any

import psycopg
import pytest

from .test_pool import _advice, _run_shop


class _Forgetful(dict[int, Any]):
    """batch.KEPT as it was: price_many finds no session's statements kept."""

    def get(self, key: int, default: Any = None) -> Any:
        return default


@pytest.mark.needs_hypopg
def test_a_statement_priced_is_prepared_once_per_session(conn: psycopg.Connection[Any],
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from pgtune.analyze import batch
    from pgtune.explain_script import Wire

    statements = _run_shop(conn, 3)
    prepared: list[str] = []
    real_wire = Wire.execute

    def wired(self: Wire, query: str, *args: Any, **kwargs: Any) -> Any:
        if query.startswith("PREPARE"):
            prepared.append(re.sub(r"^PREPARE /\* pgtune \*/ \S+", "", query))     # its text, not its name
        return real_wire(self, query, *args, **kwargs)

    monkeypatch.setattr(Wire, "execute", wired)
    kept = _advice(conn, statements, 1)
    once = list(prepared)
    assert len(statements) <= len(once) == len(set(once))       # each statement prepared once, kept after
    prepared.clear()
    monkeypatch.setattr(batch, "KEPT", _Forgetful())
    apart = _advice(conn, statements, 1)
    assert kept[0] and kept == apart
    assert len(prepared) >= len(once) + len(statements)
