"""How representative values are chosen for `$n` (docs/values.md), on a catalog built by hand."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from pgtune.analyze import Options, Scenario, ValueSource, bind, weighted_cost
from pgtune.analyze.values import scenarios, valued
from pgtune.capture import Catalog, ColumnStats, Table, read_catalog
from pgtune.explain import explain_scenarios, prepare_text
from pgtune.snapshot import QualConstant, QualShare

from .helpers import suggest

CATALOG = Catalog(
    tables={("public", "jobs"): Table("public", "jobs", ("id", "status", "runAt", "amount"), reltuples=100_000)},
    column_stats={
        ("public", "jobs", "status"): ColumnStats(4, 0.0, ("done", "failed", "pending", "running"),
                                                  (0.97, 0.01, 0.01, 0.01)),
        ("public", "jobs", "amount"): ColumnStats(-0.5, 0.0, (), (), tuple(str(i * 10) for i in range(101))),
        ("public", "jobs", "runAt"): ColumnStats(-1, 0.0, (), (), ("2026-01-01 00:00:00+00", "2026-01-11 00:00:00+00")),
    },
)


def test_ranges_windows_and_limits_come_from_the_statistics() -> None:
    query = 'SELECT id FROM jobs WHERE amount > $1 AND "runAt" >= now() - $2::interval LIMIT $3'
    [main] = scenarios(bind(query, CATALOG), CATALOG, 3)
    assert main.values == {"$1": "990", "$2": "8640 seconds", "$3": "20"}     # top 1%, 1% of ten days, 20
    assert main.source == "stats" and main.weight == 1


def test_a_limit_is_the_page_a_call_returns_and_a_cap_in_a_subquery_is_large() -> None:
    """pg_stat_statements' rows / calls is the page the statement's own LIMIT returns (Prisma's findFirst: 1);
    a LIMIT inside a subquery caps a count (Kysely's select count(*) from (… limit $n))."""
    paged = bind("SELECT id FROM jobs WHERE status = $1 LIMIT $2 OFFSET $3", CATALOG)
    [main] = scenarios(paged, CATALOG, 3, rows_per_call=0.8)
    assert main.values["$2"] == "1" and main.values["$3"] == "0"
    capped = bind("SELECT count(*) FROM (SELECT id FROM jobs WHERE status = $1 LIMIT $2) AS capped", CATALOG)
    [main] = scenarios(capped, CATALOG, 2, rows_per_call=1.0)
    assert main.values["$2"] == "1000"


def test_qualstats_constants_weighted_and_the_heaviest_kept() -> None:
    shape = bind("SELECT id FROM jobs WHERE status = $1", CATALOG)
    seen = [QualConstant(("public", "jobs"), "status", "=", f"'{v}'::text", n, filtered)
            for v, n, filtered in [("pending", 900, 10), ("running", 60, 10), ("failed", 30, 10),
                                   ("done", 10, 95_000)]]          # rare, but it reads the whole table
    found = scenarios(shape, CATALOG, 1, seen)
    values = [s.values.get("$1") for s in found]
    assert values == ["pending", "done"], values      # the typical execution's first; the heavy one kept
    assert all(s.source == "qualstats" for s in found)
    assert found[0].weight == 0.99 and abs(sum(s.weight for s in found) - 1) < 1e-9


def test_a_statement_whose_only_parameter_has_no_rule_keeps_the_generic_plan() -> None:
    shape = bind("SELECT id FROM jobs WHERE md5(status) = $1", CATALOG)
    assert scenarios(shape, CATALOG, 1) == []


def test_in_lists_of_parameters_get_equality_values() -> None:
    shape = bind("SELECT id FROM jobs WHERE status IN ($1, $2) AND amount <= $3", CATALOG)
    [main] = scenarios(shape, CATALOG, 3)
    # Two distinct values, as a call sends them (u8): not one value twice; of a status, its common values in
    # frequency order (g10: a list of statuses names the common ones, Prisma's IN (accepted, pending)).
    assert (main.values["$1"], main.values["$2"]) == ("done", "failed") and main.values["$3"] == "10"


ORM = Catalog(
    tables={("public", "Document"): Table("public", "Document", ("id", "userId", "status", "title", "createdAt"),
                                          reltuples=100_000)},
    column_stats={
        ("public", "Document", "status"): ColumnStats(4, 0.0, ("COMPLETED", "DRAFT", "PENDING", "REJECTED"),
                                                      (0.74, 0.15, 0.10, 0.01)),
        ("public", "Document", "userId"): ColumnStats(-0.2, 0.0, (), (), tuple(str(i) for i in range(101))),
        ("public", "Document", "title"): ColumnStats(-1, 0.0, (), (), tuple(f"Contract {i}" for i in range(101))),
        ("public", "Document", "id"): ColumnStats(-1, 0.0, (), (), tuple(str(i * 7) for i in range(101))),
    },
)


def _sources(query: str, nparams: int, **kw: object) -> dict[str, tuple[str | None, str]]:
    found = valued(bind(query, ORM), ORM, nparams, **kw)  # type: ignore[arg-type]
    return {p.param: (p.value, str(p.source)) for p in found.params}


def test_every_parameter_shape_an_orm_sends_gets_a_value_and_says_where_from() -> None:
    """Prisma's 1=1 ($4 = $5), LIMIT/OFFSET, an enum through a cast, not: (<>), notIn, ILIKE, = ANY, and
    Kysely's select-list parameter: each $n gets a value, none sends the statement to its generic plan."""
    prisma = ('SELECT "public"."Document"."id" FROM "public"."Document" WHERE ("public"."Document"."status" = '
              'CAST($1::text AS "public"."Status") AND $4=$5) ORDER BY "createdAt" DESC LIMIT $2 OFFSET $3')
    assert _sources(prisma, 5) == {"$1": ("PENDING", "stats"), "$2": ("20", "default"), "$3": ("0", "default"),
                                   "$4": ("1", "tautology"), "$5": ("1", "tautology")}
    nots = ('SELECT id FROM "Document" WHERE "userId" = $1 AND status <> CAST($2::text AS "Status") '
            'AND status NOT IN (CAST($3::text AS "Status"), CAST($4::text AS "Status")) AND title::text ILIKE $5')
    got = _sources(nots, 5)
    assert [got[f"${n}"][1] for n in range(1, 6)] == ["stats"] * 5
    assert got["$2"][0] in ORM.column_stats[("public", "Document", "status")].most_common_vals
    assert got["$5"][0] == "%Contract 50%"
    kysely = ('select $1 as "kind", "Document"."id" from "Document" where "Document"."userId" = $2 and exists '
              '(select $4 as "one" from "Document" as d where d.id = "Document".id and d.title like '
              "'%' || $3 || '%')")
    assert _sources(kysely, 4) == {"$1": (None, "outside"), "$2": ("50", "stats"), "$3": ("Contract 50", "stats"),
                                   "$4": (None, "outside")}
    arrays = _sources('SELECT id FROM "Document" WHERE id = ANY($1)', 1)
    assert arrays == {"$1": ('{"343","350","357"}', "stats")}


def test_an_empty_or_stays_false() -> None:
    """Prisma writes an empty OR as 1=0, an empty AND as 1=1; both are normalized to $a = $b."""
    got = _sources('SELECT id FROM "Document" WHERE ("userId" = $1 OR $2 = $3) AND $4 = $5', 5)
    assert got["$2"][0] != got["$3"][0] and got["$4"][0] == got["$5"][0]


def test_a_parameter_without_a_rule_is_left_generic_alone() -> None:
    found = valued(bind('SELECT id FROM "Document" WHERE "userId" = $1 AND md5(title) = $2', ORM), ORM, 2)
    assert found.generic_params == ["$2"]
    [main] = found.scenarios
    assert main.values == {"$1": "50"}      # $2 is not named: planned generic


def test_an_enum_behind_a_cast_takes_the_value_whose_share_the_qual_kept() -> None:
    """pg_qualstats keeps no constant for CAST($1::text AS "Status"); the rows it kept (1%) name 'REJECTED'."""
    query = 'SELECT id FROM "Document" WHERE status = CAST($1::text AS "Status")'
    share = QualShare(("public", "Document"), "status", "=", executions=1_000_000, filtered=990_000)
    assert _sources(query, 1, shares=[share]) == {"$1": ("REJECTED", "qualstats-share")}
    negated = QualShare(("public", "Document"), "status", "<>", executions=1_000_000, filtered=150_000)
    assert _sources(query.replace("status =", "status <>"), 1, shares=[negated]) == {
        "$1": ("DRAFT", "qualstats-share")}
    # Not on a column whose common values do not cover it: the share names no value there.
    on_id = QualShare(("public", "Document"), "userId", "=", executions=1000, filtered=990)
    assert _sources('SELECT id FROM "Document" WHERE "userId" = $1', 1, shares=[on_id])["$1"][1] == "stats"


def test_the_statement_cost_is_the_weighted_mean_of_its_plans_with_values() -> None:
    custom = [Scenario({"$1": "a"}, ValueSource.QUALSTATS, 0.6), Scenario({"$1": "b"}, ValueSource.QUALSTATS, 0.3)]
    generic = Scenario({}, ValueSource.GENERIC, 0.1)
    assert weighted_cost([10.0, 40.0, 100.0], [*custom, generic]) == pytest.approx((0.6 * 10 + 0.3 * 40) / 0.9)
    # The generic plan's estimate is not what a call costs: it counts only when no scenario has values.
    assert weighted_cost([10.0, 40.0, 15.0], [*custom, generic]) == pytest.approx(20.0)
    assert weighted_cost([None, None, 7.0], [*custom, generic]) == 7.0
    assert weighted_cost([], []) is None
    assert Scenario.of(custom[0].as_dict()) == custom[0]


def test_an_in_list_takes_its_elements_from_the_array_pg_qualstats_kept() -> None:
    """A custom plan folds `status IN ($1, $2)` into `status = ANY('{…}')`: pg_qualstats keeps one array.
    Each $n gets its element, = ANY($3) the array itself, a scalar never the array's text."""
    seen = [QualConstant(("public", "Document"), "status", "=", "'{REJECTED,\"PENDING\"}'::\"Status\"[]", 5),
            QualConstant(("public", "Document"), "userId", "=", "'{7,8,9}'::integer[]", 5)]
    query = 'SELECT id FROM "Document" WHERE status IN ($1, $2) AND "userId" = ANY($3) AND "userId" <> $4'
    got = _sources(query, 4, constants=seen)
    assert got["$1"] == ("REJECTED", "qualstats") and got["$2"] == ("PENDING", "qualstats")
    assert got["$3"] == ("{7,8,9}", "qualstats") and got["$4"][1] == "stats"



def test_postgresql_18s_squashed_in_lists_get_values() -> None:
    """PostgreSQL 18's pg_stat_statements squashes a list of constants: `IN ($3 /*, ... */)`, the cast gone."""
    query = ('SELECT id FROM "Document" WHERE "userId" = $1 AND status NOT IN ($2 /*, ... */) '
             'AND status IN ($3 /*, ... */) LIMIT $4')
    seen = [QualConstant(("public", "Document"), "status", "=", "'{REJECTED,PENDING}'::\"Status\"[]", 5)]
    got = _sources(query, 4, constants=seen)
    assert got["$2"][1] == "stats" and got["$3"] == ("REJECTED", "qualstats") and got["$4"] == ("20", "default")
    assert prepare_text(query)[1] == 4


def test_an_in_list_as_the_server_normalized_it_gets_values_and_plans(conn: Any) -> None:
    """PostgreSQL 15 keeps `IN ($1, $2)`, 18 squashes it to `IN ($1 /*, ... */)`: either plans with values."""
    conn.execute("CREATE TABLE squash (id int PRIMARY KEY, status text NOT NULL)")
    conn.execute("INSERT INTO squash SELECT i, (ARRAY['DONE','PENDING','REJECTED'])[1 + i % 3] "
                 "FROM generate_series(1, 3000) i")
    conn.execute("ANALYZE squash")
    conn.execute("SELECT pg_stat_statements_reset()")
    for _ in range(3):
        conn.execute("SELECT id FROM squash WHERE status IN ('PENDING', 'REJECTED') AND id > 10 LIMIT 5")
    advice = suggest(conn, options=Options(min_rows=0, use_hypopg=False))
    [row] = [s for s in advice.statements if "squash" in s.query]
    nparams = prepare_text(row.query)[1]
    assert nparams >= 3 and not row.generic_params, (row.query, row.params)
    assert all(row.values.get(f"${n}") is not None for n in range(1, nparams + 1)), (row.query, row.values)
    [plan] = explain_scenarios(conn, row.query, [row.values])
    assert plan.cost > 0


EVENTS = """
CREATE TABLE website_event (event_id uuid PRIMARY KEY, website_id uuid NOT NULL,
  created_at timestamptz(6) DEFAULT now(), event_type int NOT NULL DEFAULT 1, event_name varchar(50));
INSERT INTO website_event SELECT gen_random_uuid(),
  ('00000000-0000-0000-0000-0000000000' || lpad((i % 50)::text, 2, '0'))::uuid,
  now() - (i * 20 || ' seconds')::interval,
  CASE WHEN i % 7 = 0 THEN 2 ELSE 1 END, CASE WHEN i % 7 = 0 THEN 'signup' END
FROM generate_series(1, 100000) i;
ANALYZE website_event;
"""
EVENT_METRICS = ("select website_event.event_name x, count(*) y from website_event where website_event.website_id = "
                 "%s::uuid and website_event.created_at between %s and %s and website_event.event_type = 2 "
                 "group by 1 order by 2 desc limit 500")


@pytest.mark.no_qualstats
def test_both_ends_of_a_between_from_the_statistics_make_a_range_that_holds_rows(conn: Any) -> None:
    """u2's F5: `created_at BETWEEN $2 AND $3` valued from pg_stats was (99th percentile, 1st percentile): an empty
    range, a call costed as reading nothing, an index's 91x that verify measured as nil."""
    conn.execute(EVENTS)
    conn.execute("SELECT pg_stat_statements_reset()")
    now = conn.execute("SELECT now()").fetchone()[0]
    for i in range(30):
        conn.execute(EVENT_METRICS, (f"00000000-0000-0000-0000-0000000000{i % 50:02d}", now - timedelta(days=7), now))
    advice = suggest(conn, options=Options(min_rows=0))
    [row] = [s for s in advice.statements if "event_name" in s.query]
    low, high = row.values["$2"], row.values["$3"]
    assert low is not None and high is not None and low < high, row.values
    rows = conn.execute("SELECT count(*) FROM website_event WHERE created_at BETWEEN %s AND %s", (low, high)).fetchone()
    assert 100 <= rows[0] <= 10_000, (low, high, rows)       # about the top 1% of the column's rows
    assert all(s["values"]["$2"] < s["values"]["$3"] for s in row.scenarios), row.scenarios


def test_the_ends_of_one_range_are_ordered_whatever_their_sources() -> None:
    """Both from the statistics: the top 1% of the histogram; one observed: the bound 1% beyond it; two observed
    constants from different calls (hi below lo): swapped. `>= $1 AND < $2` is the same range as BETWEEN."""
    for query in ("SELECT id FROM jobs WHERE amount BETWEEN $1 AND $2", "SELECT id FROM jobs WHERE amount >= $1 "
                  "AND amount < $2"):
        [main] = scenarios(bind(query, CATALOG), CATALOG, 2)
        assert main.values == {"$1": "990", "$2": "1000"}, (query, main.values)
    lower_seen = [QualConstant(("public", "jobs"), "amount", ">=", "500", 10, 0)]
    [main] = scenarios(bind("SELECT id FROM jobs WHERE amount BETWEEN $1 AND $2", CATALOG), CATALOG, 2, lower_seen)
    assert main.values == {"$1": "500", "$2": "510"}
    crossed = [QualConstant(("public", "jobs"), "amount", ">=", "700", 10, 0),
               QualConstant(("public", "jobs"), "amount", "<=", "300", 10, 0)]
    [main] = scenarios(bind("SELECT id FROM jobs WHERE amount BETWEEN $1 AND $2", CATALOG), CATALOG, 2, crossed)
    assert main.values == {"$1": "300", "$2": "700"}


@pytest.mark.no_qualstats
def test_a_range_over_a_column_of_only_common_values_takes_the_common_value_at_its_end(conn: Any) -> None:
    """p13: Formbricks' scheduled surveys, `"publishOn" <= $2` on a column NULL in 98% of rows with three dates:
    pg_stats keeps them as common values and no histogram, so the $n had no value and the target went untimed."""
    conn.execute('CREATE TABLE survey (id int PRIMARY KEY, status text NOT NULL, "publishOn" timestamptz, '
                 "weight int)")
    conn.execute("INSERT INTO survey SELECT i, 'draft', CASE WHEN i % 50 = 0 THEN timestamptz '2026-12-05' + "
                 "(i % 3) * interval '10 days' END, CASE WHEN i % 50 = 0 THEN (ARRAY[9, 10, 100])[1 + i % 3] END "
                 "FROM generate_series(1, 20000) i")
    conn.execute("ANALYZE survey")
    catalog = read_catalog(conn)
    for query, expected in (('SELECT id FROM survey WHERE "publishOn" <= $1', "2026-12-05"),
                            ('SELECT id FROM survey WHERE "publishOn" > $1', "2026-12-25"),
                            ("SELECT id FROM survey WHERE weight >= $1", "100"),     # numbers as numbers
                            ("SELECT id FROM survey WHERE weight < $1", "9")):
        [main] = scenarios(bind(query, catalog), catalog, 1)
        assert (main.values["$1"] or "").startswith(expected), (query, main.values)
        column = query.split("WHERE ")[1].split(" ")[0]
        [(held,)] = conn.execute(f"SELECT count(*) FROM survey WHERE {column} = %s", [main.values["$1"]]).fetchall()
        assert held > 0, (query, main.values)        # a value the column holds, not one made up
