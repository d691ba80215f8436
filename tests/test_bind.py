"""Parsing and column binding with pglast: each case is a statement shape."""

from __future__ import annotations

import pytest

from pgtune.analyze.bind import (
    EQ,
    FUNC,
    GROUP,
    JOIN,
    NULL,
    ORDER,
    OUTPUT,
    RANGE,
    STAR,
    ParseFailed,
    bind,
    normalize_expression,
)
from pgtune.capture import Catalog, Table
from pgtune.sqltext import expression, parse_one, printed

CATALOG = Catalog(
    tables={
        ("public", "users"): Table("public", "users", ("id", "email", "createdAt", "role")),
        ("public", "videos"): Table("public", "videos", ("id", "userId", "status", "createdAt", "viewsCount")),
        ("public", "order"): Table("public", "order", ("id", "userId", "status", "createdAt")),
        ("public", "comments"): Table("public", "comments", ("id", "videoId", "userId", "body", "createdAt")),
        ("app", "events"): Table("app", "events", ("id", "kind", "at")),
        ("public", "events"): Table("public", "events", ("id", "name")),
    },
    search_path=("public",),
)


def uses(sql: str, catalog: Catalog = CATALOG) -> set[tuple[str, str, str]]:
    return {(u.table[1], u.column, u.role) for u in bind(sql, catalog).uses}


CASES = [
    # (id, sql, expected subset of (table, column, role))
    ("equality", "SELECT * FROM users WHERE email = 'a'", {("users", "email", EQ)}),
    ("param", "SELECT * FROM users WHERE email = $1", {("users", "email", EQ)}),
    ("reversed-operands", "SELECT * FROM users WHERE $1 = email", {("users", "email", EQ)}),
    ("in-list", "SELECT * FROM videos WHERE status IN ('a', 'b')", {("videos", "status", EQ)}),
    ("any-array", "SELECT * FROM videos WHERE id = ANY($1)", {("videos", "id", EQ)}),
    ("range-gt", "SELECT * FROM videos WHERE \"createdAt\" > now()", {("videos", "createdAt", RANGE)}),
    ("range-reversed", "SELECT * FROM videos WHERE $1 < \"viewsCount\"", {("videos", "viewsCount", RANGE)}),
    ("between", "SELECT * FROM videos WHERE \"createdAt\" BETWEEN $1 AND $2", {("videos", "createdAt", RANGE)}),
    ("like-prefix", "SELECT * FROM users WHERE email LIKE 'abc%'", {("users", "email", RANGE)}),
    ("is-null", "SELECT * FROM users WHERE role IS NULL", {("users", "role", NULL)}),
    ("is-not-null", "SELECT * FROM users WHERE role IS NOT NULL", {("users", "role", NULL)}),
    ("order-desc", "SELECT * FROM videos ORDER BY \"createdAt\" DESC", {("videos", "createdAt", ORDER)}),
    ("group-by", "SELECT status, count(*) FROM videos GROUP BY status", {("videos", "status", GROUP)}),
    ("function", "SELECT * FROM users WHERE lower(email) = $1", {("users", "email", FUNC)}),
    ("alias", "SELECT v.id FROM videos v WHERE v.\"userId\" = 1", {("videos", "userId", EQ)}),
    ("alias-as", "SELECT x.id FROM videos AS x WHERE x.status = 'a'", {("videos", "status", EQ)}),
    ("explicit-join", "SELECT * FROM videos v JOIN users u ON u.id = v.\"userId\" WHERE u.email = $1",
     {("users", "id", JOIN), ("videos", "userId", JOIN), ("users", "email", EQ)}),
    ("implicit-join", "SELECT * FROM videos v, users u WHERE u.id = v.\"userId\"",
     {("users", "id", JOIN), ("videos", "userId", JOIN)}),
    ("left-join", "SELECT * FROM users u LEFT JOIN comments c ON c.\"userId\" = u.id",
     {("comments", "userId", JOIN)}),
    ("join-using", "SELECT * FROM videos JOIN comments USING (id)",
     {("videos", "id", JOIN), ("comments", "id", JOIN)}),
    ("unqualified-unique-column", "SELECT * FROM videos v JOIN users u ON u.id = v.\"userId\" WHERE email = $1",
     {("users", "email", EQ)}),
    ("schema-qualified", "SELECT * FROM app.events WHERE kind = $1", {("events", "kind", EQ)}),
    ("schema-qualified-column", "SELECT * FROM app.events WHERE app.events.at > $1", {("events", "at", RANGE)}),
    ("quoted-table-keyword", "SELECT * FROM \"order\" WHERE \"userId\" = $1", {("order", "userId", EQ)}),
    ("subquery-in-from", "SELECT * FROM (SELECT * FROM videos WHERE status = $1) s WHERE s.id > 3",
     {("videos", "status", EQ)}),
    ("cte", "WITH recent AS (SELECT * FROM videos WHERE \"createdAt\" > $1) SELECT * FROM recent",
     {("videos", "createdAt", RANGE)}),
    ("in-subquery", "SELECT * FROM users WHERE id IN (SELECT \"userId\" FROM videos WHERE status = $1)",
     {("users", "id", JOIN), ("videos", "status", EQ)}),
    ("exists-correlated", "SELECT * FROM users u WHERE EXISTS (SELECT 1 FROM comments c WHERE c.\"userId\" = u.id)",
     {("comments", "userId", JOIN), ("users", "id", JOIN)}),
    ("union-branches", "SELECT id FROM users WHERE email = $1 UNION SELECT id FROM videos WHERE status = $2",
     {("users", "email", EQ), ("videos", "status", EQ)}),
    ("update", "UPDATE videos SET \"viewsCount\" = 0 WHERE \"userId\" = $1", {("videos", "userId", EQ)}),
    ("delete", "DELETE FROM comments WHERE \"createdAt\" < $1", {("comments", "createdAt", RANGE)}),
    ("delete-using", "DELETE FROM comments c USING videos v WHERE v.id = c.\"videoId\" AND v.status = $1",
     {("comments", "videoId", JOIN), ("videos", "status", EQ)}),
    ("insert-select", "INSERT INTO users (id) SELECT \"userId\" FROM videos WHERE status = $1",
     {("videos", "status", EQ)}),
    ("or-branches", "SELECT * FROM users WHERE email = $1 OR role = $2",
     {("users", "email", EQ), ("users", "role", EQ)}),
    ("cast-on-column", "SELECT * FROM videos WHERE \"createdAt\"::date = $1", {("videos", "createdAt", FUNC)}),
    ("typed-param-interval", "SELECT * FROM videos WHERE \"createdAt\" >= now() - interval $1",
     {("videos", "createdAt", RANGE)}),
    ("cast-param", "SELECT * FROM videos WHERE id = $1::bigint", {("videos", "id", EQ)}),
    ("having", "SELECT \"userId\" FROM videos GROUP BY \"userId\" HAVING \"userId\" > $1",
     {("videos", "userId", RANGE), ("videos", "userId", GROUP)}),
    ("scalar-subquery-in-target", "SELECT (SELECT count(*) FROM comments c WHERE c.\"videoId\" = v.id) FROM videos v",
     {("comments", "videoId", JOIN)}),
    ("lateral", "SELECT * FROM users u, LATERAL (SELECT * FROM videos v WHERE v.\"userId\" = u.id LIMIT 3) x",
     {("videos", "userId", JOIN)}),
    ("explain-wrapper", "EXPLAIN SELECT * FROM users WHERE email = $1", {("users", "email", EQ)}),
]


@pytest.mark.parametrize("sql,expected", [(c[1], c[2]) for c in CASES], ids=[c[0] for c in CASES])
def test_shapes(sql: str, expected: set[tuple[str, str, str]]) -> None:
    found = uses(sql)
    assert expected <= found, f"missing {expected - found}; found {found}"
    if FUNC in {e[2] for e in expected}:
        # An expression over a column is not a plain-column predicate.
        assert not {u for u in found if u[2] in (EQ, RANGE)}


def test_order_by_direction_and_nulls() -> None:
    shape = bind('SELECT * FROM videos ORDER BY "createdAt" DESC NULLS LAST, id', CATALOG)
    order = [u for u in shape.uses if u.role == ORDER]
    assert [(u.column, u.descending, u.nulls_first) for u in order] == [("createdAt", True, False), ("id", False, None)]


def test_limit_is_recorded() -> None:
    assert bind("SELECT * FROM users ORDER BY id LIMIT 5", CATALOG).limited_blocks


def test_ambiguous_unqualified_column_stays_unbound() -> None:
    shape = bind("SELECT * FROM videos v JOIN comments c ON c.\"videoId\" = v.id WHERE \"userId\" = $1", CATALOG)
    assert not [u for u in shape.uses if u.column == "userId" and u.role == EQ]
    assert "userId" in shape.unbound


def test_search_path_picks_first_schema() -> None:
    shape = bind("SELECT * FROM events WHERE name = $1", CATALOG)
    assert shape.tables == {("public", "events")}


def test_cte_name_shadows_table() -> None:
    shape = bind("WITH users AS (SELECT 1 AS email) SELECT * FROM users WHERE email = 1", CATALOG)
    assert ("public", "users") not in shape.tables


def test_self_join_keeps_aliases_apart() -> None:
    shape = bind("SELECT * FROM users a JOIN users b ON a.id = b.id WHERE a.email = $1 AND b.role = $2", CATALOG)
    assert {(u.alias, u.column) for u in shape.uses if u.role == EQ} == {("a", "email"), ("b", "role")}


def test_function_expression_is_printed() -> None:
    shape = bind("SELECT * FROM users WHERE lower(email) = $1", CATALOG)
    assert [u.expression for u in shape.uses if u.role == FUNC] == ["lower(email)"]


@pytest.mark.parametrize("sql,reason", [
    ("SELECT * FROM users WHERE email = ", "unparsable"),
    ("SELECT * FROM users WHERE email = 'abc", "unparsable"),      # truncated by track_activity_query_size
    ("hello world", "unparsable"),
    ("CREATE TABLE t (a int)", "utility statement"),
    ("VACUUM users", "utility statement"),
    ("SELECT 1; SELECT 2", "expected one statement"),
])
def test_unanalyzable_statements_say_why(sql: str, reason: str) -> None:
    with pytest.raises(ParseFailed) as exc:
        bind(sql, CATALOG)
    assert reason in exc.value.reason


def test_hostile_identifiers_bind() -> None:
    cat = Catalog(tables={("public", 'a"b'): Table("public", 'a"b', ("x; DROP TABLE y", "id"))})
    shape = bind('SELECT * FROM "a""b" WHERE "x; DROP TABLE y" = $1', cat)
    assert [(u.table, u.column) for u in shape.uses if u.role == EQ] == [(("public", 'a"b'), "x; DROP TABLE y")]


def test_output_columns_and_star() -> None:
    shape = bind("SELECT v.id, v.title, u.* FROM videos v JOIN users u ON u.id = v.\"userId\"", CATALOG)
    assert {(u.table[1], u.column) for u in shape.uses if u.role == OUTPUT} == {("videos", "id")}
    assert {(u.table[1], u.column) for u in shape.uses if u.role == STAR} == {("users", "*")}


def test_equality_constant_is_kept_for_partial_indexes() -> None:
    shape = bind("SELECT id FROM videos WHERE status = 'PROCESSING' AND \"userId\" = $1", CATALOG)
    assert {(u.column, u.value) for u in shape.uses if u.role == EQ} == {("status", "'PROCESSING'"), ("userId", None)}


def test_expression_loses_its_alias() -> None:
    shape = bind("SELECT 1 FROM users u WHERE lower(u.email) = $1", CATALOG)
    assert [u.expression for u in shape.uses if u.role == FUNC] == ["lower(email)"]
    # ... on a copy: the parse cache's tree of the printed expression keeps its alias for every later reader
    assert printed(expression("lower(u.email)")) == "lower(u.email)"
    assert printed(parse_one("SELECT lower(u.email)")) == "SELECT lower(u.email)"


@pytest.mark.parametrize("catalog_text,ours", [
    ("(status = 'pending'::text)", "status = 'pending'"),
    ("((kind)::text = 'x'::character varying)", "kind::text = 'x'"),
    ("(status = 'PENDING'::\"VideoStatus\")", "status = 'PENDING'"),
    ("lower(email)", "lower(email)"),
])
def test_catalog_expressions_normalize_like_ours(catalog_text: str, ours: str) -> None:
    assert normalize_expression(catalog_text) == normalize_expression(ours)


# -- columns reached through views, CTEs and the select list --------------------------------------

VIEW_CATALOG = Catalog(
    tables={("public", "posts"): Table("public", "posts", ("id", "authorId", "title", "createdAt")),
            ("public", "post_stats"): Table("public", "post_stats", ("postId", "views"))},   # a matview
    views={("public", "posts_view"): 'SELECT p.id AS view_id, p."authorId", p.title FROM posts p',
           ("public", "posts_view2"): "SELECT view_id AS vid FROM posts_view"},
    search_path=("public",),
)


@pytest.mark.parametrize("sql, expected", [
    ("SELECT * FROM posts_view WHERE view_id = 1", {("posts", "id", EQ)}),
    ('SELECT title FROM posts_view WHERE "authorId" = $1', {("posts", "authorId", EQ)}),
    ("SELECT * FROM posts_view2 WHERE vid = 7", {("posts", "id", EQ)}),                 # a view of a view
    ("SELECT * FROM post_stats WHERE \"postId\" = 3", {("post_stats", "postId", EQ)}),  # index on the matview
    ("WITH cte AS (SELECT * FROM posts) SELECT * FROM cte WHERE id = 1", {("posts", "id", EQ)}),
    ("WITH cte AS NOT MATERIALIZED (SELECT * FROM posts) SELECT * FROM cte WHERE id = 1", {("posts", "id", EQ)}),
    ('WITH c AS (SELECT id AS pid, "createdAt" AS at FROM posts) SELECT * FROM c WHERE pid = $1 ORDER BY at DESC',
     {("posts", "id", EQ), ("posts", "createdAt", ORDER)}),
    ("SELECT * FROM (SELECT id AS k FROM posts) s WHERE k = 5", {("posts", "id", EQ)}),
    ('SELECT id, "createdAt" FROM posts WHERE "authorId" = $1 ORDER BY 2 DESC', {("posts", "createdAt", ORDER)}),
    ('SELECT id, "createdAt" AS at FROM posts WHERE "authorId" = $1 ORDER BY at DESC', {("posts", "createdAt", ORDER)}),
], ids=["view", "view-renamed-col", "view-of-view", "matview", "cte", "cte-not-materialized", "cte-renamed",
        "subquery-renamed", "order-by-position", "order-by-alias"])
def test_binding_through_views_ctes_and_output_names(sql: str, expected: set[tuple[str, str, str]]) -> None:
    assert expected <= uses(sql, VIEW_CATALOG)


def test_materialized_cte_keeps_outer_filters_out_of_it() -> None:
    """MATERIALIZED computes the CTE first: an outer filter cannot use an index inside it."""
    found = uses("WITH cte AS MATERIALIZED (SELECT * FROM posts) SELECT * FROM cte WHERE id = 1", VIEW_CATALOG)
    assert ("posts", "id", EQ) not in found


def test_order_by_position_is_descending_on_the_right_column() -> None:
    shape = bind('SELECT id, "createdAt" FROM posts ORDER BY 2 DESC LIMIT 5', VIEW_CATALOG)
    [order] = [u for u in shape.uses if u.role == ORDER]
    assert (order.column, order.descending) == ("createdAt", True)


# -- filters a partial index's predicate can be made of ------------------------------------------


def test_conjuncts_are_filters_on_one_table_without_parameters() -> None:
    shape = bind('SELECT v.id FROM users u JOIN videos v ON v."userId" = u.id AND v."viewsCount" > v.id '
                 "WHERE v.status IN ('READY', 'LIVE') AND v.\"createdAt\" < u.\"createdAt\" AND u.role = 'admin' "
                 "AND v.\"createdAt\" > $1 AND (v.status = 'X' OR u.role = 'y') AND u.email IS NOT NULL", CATALOG)
    got = {(c.table[1], c.alias, c.test.value, c.sql, c.values, c.negated) for c in shape.conjuncts}
    assert got == {
        ("videos", "v", "compare", '"viewsCount" > id', (), False),             # inner join's ON counts
        ("videos", "v", "values", "status IN ('READY', 'LIVE')", ("'READY'", "'LIVE'"), False),
        ("users", "u", "values", "role = 'admin'", ("'admin'",), False),
        ("users", "u", "null", "email IS NOT NULL", (), True),
    }   # not: two tables' columns, a parameter, an OR


def test_outer_join_conditions_and_subqueries_stay_in_their_place() -> None:
    shape = bind("SELECT 1 FROM users u LEFT JOIN videos v ON v.\"userId\" = u.id AND v.status = 'READY' "
                 "WHERE EXISTS (SELECT 1 FROM comments c WHERE c.\"videoId\" = v.id AND c.\"userId\" = c.id)",
                 CATALOG)
    # The LEFT JOIN's condition filters nothing out of users; the subquery's filter is its own block's.
    assert [(c.table[1], c.sql, c.block) for c in shape.conjuncts] == [("comments", '"userId" = id', 2)]


def test_a_filter_every_or_branch_has_is_a_conjunct() -> None:
    shape = bind("SELECT 1 FROM videos v WHERE (v.status = 'READY' AND v.\"viewsCount\" > 10) "
                 "OR (v.\"viewsCount\" < 2 AND v.status = 'READY') OR (v.status = 'READY' AND v.\"userId\" = $1)",
                 CATALOG)
    assert [(c.sql, c.values) for c in shape.conjuncts] == [("status = 'READY'", ("'READY'",))]
    shape = bind("SELECT 1 FROM videos WHERE \"userId\" = $1 AND (status = 'READY' OR status = 'LIVE')", CATALOG)
    assert [(c.sql, c.values) for c in shape.conjuncts] == [('"userId" = $1', ("$1",))]


# -- a set operation's columns (t17: TPC-DS Q5 joined date_dim on a UNION ALL's date_sk, and no index on the
# -- branches' tables was ever credited: the union's columns had no base column)

SALES_CATALOG = Catalog(
    tables={("public", "sales"): Table("public", "sales", ("store", "sold_date", "amount")),
            ("public", "returns"): Table("public", "returns", ("store", "returned_date", "amount")),
            ("public", "dates"): Table("public", "dates", ("d_sk", "d_date"))},
    search_path=("public",),
)
BRANCHES = ("SELECT store AS store_sk, sold_date AS date_sk, amount FROM sales UNION ALL "
            "SELECT store, returned_date, amount FROM returns")


@pytest.mark.parametrize("sql", [
    f"SELECT sum(amount) FROM ({BRANCHES}) sr, dates WHERE sr.date_sk = d_sk AND d_date BETWEEN $1 AND $2",
    f"WITH sr AS ({BRANCHES}) SELECT sum(amount) FROM sr JOIN dates ON sr.date_sk = dates.d_sk",
    f"SELECT sum(a) FROM ({BRANCHES}) sr(s, date_sk, a) JOIN dates ON date_sk = d_sk",
    f"SELECT sum(amount) FROM ({BRANCHES} UNION ALL SELECT store, sold_date, amount FROM sales) sr "
    "JOIN dates ON sr.date_sk = dates.d_sk",
], ids=["subquery", "cte", "alias-list", "three-branches"])
def test_a_join_on_a_union_column_reaches_every_branchs_column(sql: str) -> None:
    found = uses(sql, SALES_CATALOG)
    assert {("sales", "sold_date", JOIN), ("returns", "returned_date", JOIN), ("dates", "d_sk", JOIN)} <= found, found


def test_a_union_column_computed_in_one_branch_reaches_the_others() -> None:
    found = uses("SELECT * FROM (SELECT sold_date AS d FROM sales UNION ALL SELECT returned_date + 1 FROM returns) u "
                 "WHERE u.d = $1", SALES_CATALOG)
    assert ("sales", "sold_date", EQ) in found and not any(t == "returns" and r == EQ for t, _, r in found), found


def test_a_union_with_a_star_branch_binds_no_column_through_it() -> None:
    """``*`` hides the positions: no branch's column is guessed (as before)."""
    found = uses("SELECT * FROM (SELECT * FROM sales UNION ALL SELECT store, returned_date, amount FROM returns) u "
                 "WHERE u.sold_date = $1", SALES_CATALOG)
    assert not any(r == EQ for _, _, r in found), found


@pytest.mark.parametrize("sql", [
    "WITH c AS (SELECT * FROM posts) SELECT * FROM c a JOIN c b ON b.title = a.title WHERE a.id = 1",
    "WITH RECURSIVE c AS (SELECT * FROM posts) SELECT * FROM c WHERE id = 1",
], ids=["read-twice", "recursive"])
def test_a_cte_the_server_computes_first_keeps_outer_filters_out_of_it(sql: str) -> None:
    """PostgreSQL folds a CTE into the query only when it is read once (or NOT MATERIALIZED), not recursive and a
    plain SELECT: otherwise ``id = 1`` filters the CTE's result, and no index on posts serves it."""
    assert ("posts", "id", EQ) not in uses(sql, VIEW_CATALOG)


def test_a_cte_read_twice_but_not_materialized_is_folded() -> None:
    sql = ("WITH c AS NOT MATERIALIZED (SELECT * FROM posts) SELECT * FROM c a JOIN c b ON b.title = a.title "
           "WHERE a.id = 1")
    assert ("posts", "id", EQ) in uses(sql, VIEW_CATALOG)
