"""DDL printing: quoting by pglast, deterministic names within NAMEDATALEN."""

from __future__ import annotations

import pytest

from pgtune import ddl
from pgtune.ddl import IndexKey


def test_names_are_deterministic_and_fit_63_bytes() -> None:
    keys = (IndexKey("a" * 40), IndexKey("b" * 40, True))
    first = ddl.index_name("t" * 30, keys)
    assert first == ddl.index_name("t" * 30, keys)
    assert len(first.encode()) <= 63
    other = ddl.index_name("t" * 30, (IndexKey("a" * 40), IndexKey("c" * 40, True)))
    assert other != first and len(other.encode()) <= 63


def test_multibyte_names_are_cut_on_character_boundaries() -> None:
    name = ddl.index_name("vidéos_" * 8, (IndexKey("créé_le"),))
    assert len(name.encode()) <= 63
    name.encode().decode("utf-8")


@pytest.mark.parametrize("table,column,expected", [
    ("order", "userId", 'ON public."order" ("userId")'),
    ("user", "select", 'ON public."user" ("select")'),
    ('a"b', "x; DROP TABLE y", 'ON public."a""b" ("x; DROP TABLE y")'),
    ("videos", "createdat", "ON public.videos (createdat)"),
])
def test_identifiers_are_quoted_only_where_needed(table: str, column: str, expected: str) -> None:
    stmt = ddl.create_index("public", table, "i", (IndexKey(column),))
    assert expected in stmt


def test_camelcase_is_not_folded() -> None:
    # The seed report's unquoted createdAt would fold to createdat; pgtune keeps the case.
    stmt = ddl.create_index("public", "credits", "i", (IndexKey("userId"), IndexKey("createdAt", True)))
    assert stmt.endswith('("userId", "createdAt" DESC)')


def test_partial_expression_and_include() -> None:
    stmt = ddl.create_index("public", "users", "i", (IndexKey("email", expression="lower(email)"),),
                            where=ddl.equals("role", "'admin'"), include=("id",))
    assert stmt == ("CREATE INDEX CONCURRENTLY IF NOT EXISTS i ON public.users ((lower(email))) "
                    "INCLUDE (id) WHERE role = 'admin'")


def test_predicate_value_is_a_printed_constant() -> None:
    assert ddl.equals("status", "'it''s'") == "status = 'it''s'"
    with pytest.raises(Exception):
        ddl.equals("status", "'x'; DROP TABLE y")


def test_rollback_and_analyze() -> None:
    assert ddl.drop_index("public", "order_userId_idx") == 'DROP INDEX CONCURRENTLY IF EXISTS public."order_userId_idx"'
    assert ddl.analyze("app", "order") == 'ANALYZE app."order"'


def test_re_aiming_a_definition_leaves_the_next_reading_of_it_alone() -> None:
    """sqltext caches parse trees: a partition's index made from the parent's definition must not change it."""
    parent = "CREATE INDEX events_kind_idx ON ONLY public.events USING btree (kind)"
    assert "events_2026_01" in ddl.index_on(parent, "archive", "events_2026_01", "events_2026_01_kind_idx")
    assert ddl.recreate_index(parent, partitioned=True) == ("CREATE INDEX IF NOT EXISTS events_kind_idx "
                                                           "ON ONLY public.events (kind)")
