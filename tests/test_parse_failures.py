"""Why a text does not parse is decided where the parse fails (the parser's position), never read back from its
message: a statement cut short (at its end, or inside a quote or comment it never closes) is INCOMPLETE, one the
parser rejects elsewhere is SYNTAX."""

from __future__ import annotations

import pytest

from pgtune.sqltext import Failure, ParseFailed, parse, parse_one


@pytest.mark.parametrize("sql,kind", [
    ("SELECT * FROM users WHERE email = ", Failure.INCOMPLETE),           # cut at the end
    ("SELECT * FROM users WHERE id IN (1, 2", Failure.INCOMPLETE),
    ("SELECT * FROM users WHERE email = 'abc", Failure.INCOMPLETE),       # cut inside a string
    ("SELECT * FROM users WHERE name = 'ééé' AND email = E'ab", Failure.INCOMPLETE),
    ('SELECT "email FROM users', Failure.INCOMPLETE),                     # inside a quoted identifier
    ("SELECT 1 /* pgtune", Failure.INCOMPLETE),
    ("SELECT $fn$ body", Failure.INCOMPLETE),
    ("SELECT B'0101", Failure.INCOMPLETE),
    ("SELECT * FRM users", Failure.SYNTAX),
    ("SELECT 'a' 'b'", Failure.SYNTAX),                                   # a closed string where none may stand
    ("SELECT 1e", Failure.SYNTAX),
    ("hello world", Failure.SYNTAX),
])
def test_a_parse_failure_says_whether_the_text_was_cut(sql: str, kind: Failure) -> None:
    with pytest.raises(ParseFailed) as exc:
        parse(sql)
    assert exc.value.kind == kind
    assert exc.value.reason.startswith("unparsable: ")           # the words for a person are unchanged


def test_several_statements_are_not_one() -> None:
    with pytest.raises(ParseFailed) as exc:
        parse_one("SELECT 1; SELECT 2")
    assert exc.value.kind == Failure.NOT_ONE


@pytest.mark.parametrize("sql", ["VACUUM users", "CREATE TABLE t (a int)", "BEGIN"])
def test_a_utility_statement_is_said_so_where_it_is_bound(sql: str) -> None:
    from pgtune.analyze.bind import bind
    from pgtune.capture import Catalog

    with pytest.raises(ParseFailed) as exc:
        bind(sql, Catalog())
    assert exc.value.kind == Failure.UTILITY
