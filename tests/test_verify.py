"""verify after deploy: the plans use the new indexes, or verify says which do not."""

from __future__ import annotations

import json
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner
from psycopg import sql

from pgtune import baseline, ddl, plan
from pgtune.apply import Applier
from pgtune.cli import cli
from pgtune.ddl import IndexKey
from pgtune.explain import explain
from pgtune.plan import Target
from pgtune.readonly import measure
from pgtune.verify import TargetResult, Verdict, diagnose, verify
from pgtune.verify import baseline_how as verify_baseline_how

from .helpers import run
from .test_migration import emit


def test_verify_passes_after_apply_and_fails_after_drop(db: str, conn: psycopg.Connection[Any],
                                                        tmp_path: Path) -> None:
    m = emit(conn, tmp_path / "mig")
    before = CliRunner().invoke(cli, ["verify", str(tmp_path / "mig"), "--dsn", db])
    assert before.exit_code == 1          # nothing applied yet: the promise is not kept
    Applier(conn, tmp_path / "mig").apply()
    ok = CliRunner().invoke(cli, ["verify", str(tmp_path / "mig"), "--dsn", db, "--format", "json"])
    assert ok.exit_code == 0, ok.stdout
    data = json.loads(ok.stdout)
    assert data["ok"] and all(t["used"] for t in data["targets"])
    assert all(t["ratio"] > 1 for t in data["targets"])
    target = m.targets[0]
    victim = target.expected_indexes[0]
    conn.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(victim)))
    bad = CliRunner().invoke(cli, ["verify", str(tmp_path / "mig"), "--dsn", db])
    assert bad.exit_code == 1
    failing = [line for line in bad.stdout.splitlines() if "FAIL" in line]
    assert failing and any(victim in line for line in failing)


def test_parameterized_statements_verify_with_generic_plans(conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    m = emit(conn, tmp_path / "mig")
    assert any("$1" in t.query for t in m.targets)
    Applier(conn, tmp_path / "mig").apply()
    result = verify(conn, tmp_path / "mig")
    assert result.ok
    assert all(t.cost is not None for t in result.targets)


def test_disabled_index_scans_are_a_regression(db: str, conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    emit(conn, tmp_path / "mig")
    Applier(conn, tmp_path / "mig").apply()
    for setting in ("enable_indexscan", "enable_bitmapscan", "enable_indexonlyscan"):
        conn.execute(sql.SQL("ALTER DATABASE {} SET {} = off").format(
            sql.Identifier(conn.info.dbname), sql.Identifier(setting)))
    result = CliRunner().invoke(cli, ["verify", str(tmp_path / "mig"), "--dsn", db])
    assert result.exit_code == 1
    assert "regression" in result.stdout or "expected index not used" in result.stdout


def _targets_migration(conn: psycopg.Connection[Any], tmp_path: Path, text: str, analyze: bool = False) -> Path:
    from .helpers import emitted, shop

    shop(conn)
    emitted(conn, tmp_path / "mig", text, measure=analyze)
    return tmp_path / "mig"


def test_delete_in_targets_is_never_executed_even_with_analyze(db: str, conn: psycopg.Connection[Any],
                                                                 tmp_path: Path) -> None:
    folder = _targets_migration(conn, tmp_path, 'DELETE FROM "order" WHERE "userId" = 17;\n'
                                                'SELECT id FROM "order" WHERE "userId" = 18;', analyze=True)
    count = conn.execute('SELECT count(*) FROM "order"').fetchone()
    Applier(conn, folder).apply()
    result = CliRunner().invoke(cli, ["verify", str(folder), "--dsn", db, "--analyze", "--format", "json"])
    assert result.exit_code == 0, result.stdout + result.stderr
    assert conn.execute('SELECT count(*) FROM "order"').fetchone() == count
    data = json.loads(result.stdout)
    [delete] = [t for t in data["targets"] if t["query"].startswith("DELETE")]
    assert delete["ms"] is None and delete["note"].startswith("not executed: writes (DELETE)")
    assert delete["measurement"] == "not-executed"      # decided where the reason arose, not read from the note
    [select] = [t for t in data["targets"] if t["query"].startswith("SELECT")]
    assert select["ms"] is not None and select["baseline_ms"] is not None and select["measurement"] == "measured"


def test_writes_hidden_in_selects_are_never_executed(conn: psycopg.Connection[Any]) -> None:
    from pgtune.readonly import why_not_read_only

    from .helpers import shop

    shop(conn)
    assert why_not_read_only(conn, 'SELECT * FROM "order" WHERE id = 1') is None
    assert why_not_read_only(conn, 'SELECT * FROM "order" WHERE id = 1 FOR UPDATE') == \
        "locks rows (FOR UPDATE/SHARE)"
    assert why_not_read_only(conn, "WITH d AS (DELETE FROM users RETURNING id) SELECT * FROM d") == \
        "writes (data-modifying WITH)"
    assert why_not_read_only(conn, "SELECT nextval('s'), id FROM users") == "calls a volatile function: nextval"
    assert why_not_read_only(conn, "SELECT * INTO t2 FROM users") == "creates a table (SELECT INTO)"
    assert why_not_read_only(conn, "UPDATE users SET email = email") == "writes (UPDATE)"


def test_baseline_records_parameter_types_and_plan(conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    m = emit(conn, tmp_path / "mig")
    from pgtune.plan import load

    targets = load(tmp_path / "mig").targets
    assert targets == m.targets
    param = next(t for t in targets if "$1" in t.query)
    assert param.param_types and param.param_types[0] == "bigint"
    assert param.baseline_plan and "Plan" in param.baseline_plan


def test_junit_report_and_adhoc_query(db: str, conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    m = emit(conn, tmp_path / "mig")
    Applier(conn, tmp_path / "mig").apply()
    report = tmp_path / "verify.xml"
    ok = CliRunner().invoke(cli, ["verify", str(tmp_path / "mig"), "--dsn", db, "--junit", str(report)])
    assert ok.exit_code == 0
    from xml.etree import ElementTree as ET

    suite = ET.parse(report).getroot()
    assert suite.tag == "testsuite" and suite.get("failures") == "0"
    assert int(suite.get("tests") or 0) == len(m.targets)
    name = m.targets[0].expected_indexes[0]
    query = m.targets[0].query.replace("$1", "1").replace("$2", "5")
    hit = CliRunner().invoke(cli, ["verify", "--dsn", db, "--query", query, "--expect-index", name])
    assert hit.exit_code == 0, hit.stdout
    miss = CliRunner().invoke(cli, ["verify", "--dsn", db, "--query", query, "--expect-index", "no_such_idx"])
    assert miss.exit_code == 1 and "expected index not used: no_such_idx" in miss.stdout
    both = CliRunner().invoke(cli, ["verify", str(tmp_path / "mig"), "--dsn", db, "--query", query])
    assert both.exit_code == 2


def test_statistics_older_than_the_new_index_are_reported(conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    m = emit(conn, tmp_path / "mig")
    Applier(conn, tmp_path / "mig").apply()
    assert verify(conn, tmp_path / "mig").stale_statistics == []     # apply ran ANALYZE
    # As if one index had been rebuilt after its table's last ANALYZE.
    ix = m.phases[0].indexes[0]
    conn.execute("UPDATE pgtune.history SET finished = now() + interval '1 hour' "
                 "WHERE statement = %s AND status = 'done'", (ix.ddl,))
    assert verify(conn, tmp_path / "mig").stale_statistics == [f"{ix.schema}.{ix.table}"]


def test_prediction_and_measurement_disagreement_is_flagged(conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    from pgtune.verify import Built, check_target

    from .helpers import shop

    shop(conn)
    query = 'SELECT id FROM "order" WHERE "userId" = 5'
    plain = explain_cost(conn, query)
    # Baseline says the planner predicted no change, but "measured" 1000x slower before.
    target = Target(None, query, 1, plain, [], baseline_ms=10_000.0)
    result = check_target(conn, target, Built({}), tolerance=0.1, analyze=True, timeout_ms=10_000)
    assert result.ms is not None
    assert result.disagreement.startswith("planner 1.0x, measured ")


def explain_cost(conn: psycopg.Connection[Any], query: str) -> float:
    from pgtune.explain import explain as _explain

    return _explain(conn, query).cost


def test_verify_shows_how_the_plan_changed_and_plans_with_the_baseline_types(db: str, conn: psycopg.Connection[Any],
                                                                             tmp_path: Path) -> None:
    from pgtune.explain import explain

    m = emit(conn, tmp_path / "mig")
    Applier(conn, tmp_path / "mig").apply()
    out = CliRunner().invoke(cli, ["verify", str(tmp_path / "mig"), "--dsn", db, "--format", "json"])
    data = json.loads(out.stdout)
    target = next(t for t in data["targets"] if '"userId"' in t["query"])
    assert any(s.startswith("Seq Scan") or "Bitmap" in s or "Index" in s for s in target["scans_before"])
    assert any(ix in s for s in target["scans_now"] for ix in target["expected"]), target
    assert m.targets[0].param_types                       # recorded at emit, used by verify
    typed = explain(conn, 'SELECT id FROM "order" WHERE "userId" = $1', param_types=["bigint"])
    hostile = explain(conn, 'SELECT id FROM "order" WHERE "userId" = $1', param_types=["int) AS SELECT 1; --"])
    assert typed.cost > 0 and hostile.cost > 0            # a bad type name is ignored, never pasted


# --- issue 23.8 / 24.3: verify judges a statement by its plan and cost -------------------------------------

FEED = 'SELECT id, title FROM videos WHERE status = $1 ORDER BY "createdAt" DESC LIMIT $2'
FEED_VALUES = {"$1": "PUBLISHED", "$2": "20"}
BY_TIME = ("videos_createdAt_idx", (IndexKey("createdAt"),))
BY_STATUS_TIME = ("videos_status_createdAt_desc_id_idx",
                  (IndexKey("status"), IndexKey("createdAt", descending=True), IndexKey("id")))


def videos(conn: psycopg.Connection[Any]) -> None:
    """The demo's feed table: 5% of 40,000 videos published."""
    conn.execute('CREATE TABLE videos (id bigint PRIMARY KEY, status text NOT NULL, "createdAt" timestamptz NOT NULL, '
                 "title text NOT NULL)")
    conn.execute("INSERT INTO videos SELECT g, CASE WHEN g % 20 = 0 THEN 'PUBLISHED' ELSE 'DRAFT' END, "
                 "now() - g * interval '1 minute', 'video ' || g FROM generate_series(1, 40000) AS g")
    conn.execute("VACUUM ANALYZE videos")


def handmade(conn: psycopg.Connection[Any], folder: Path, indexes: list[tuple[str, tuple[IndexKey, ...]]],
             target: Target, *, table: str = "videos", measure: bool = False) -> plan.Migration:
    """A migration planning ``indexes`` on ``table`` for one target, with its baseline taken now."""
    planned = [plan.PlannedIndex("public", table, name, ddl.create_index("public", table, name, keys),
                                 ddl.drop_index("public", name), ddl.analyze("public", table))
               for name, keys in indexes]
    [t] = baseline.capture(conn, [target], analyze=measure)
    m = plan.Migration(id="20261203T000000_verify", created="20261203T000000", server_version="15",
                       phases=[plan.Phase(1, "indexes", "test", planned)], targets=[t])
    plan.emit(m, folder)
    return m


def feed_target(expected: list[str], predicted: float | None = None) -> Target:
    return Target(queryid=4242, query=FEED, calls=60, baseline_cost=None, expected_indexes=expected,
                  values=dict(FEED_VALUES), predicted_cost=predicted)


def test_a_better_index_of_the_same_migration_passes(db: str, conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    """The demo's case: the index foreseen at emit is not the one used, a wider one of the migration is."""
    videos(conn)
    handmade(conn, tmp_path / "m", [BY_TIME, BY_STATUS_TIME], feed_target([BY_TIME[0]]))
    Applier(conn, tmp_path / "m").apply()
    result = verify(conn, tmp_path / "m")
    [t] = result.targets
    assert result.ok, t.problem
    assert t.used == [BY_STATUS_TIME[0]] and t.expected == [BY_TIME[0]]
    assert f"uses {BY_STATUS_TIME[0]} (foreseen at emit: {BY_TIME[0]})" in t.note
    assert result.unused_indexes == [BY_TIME[0]]
    assert t.queryid == 4242 and t.name.startswith("select videos by status, createdAt #")


def test_another_index_that_serves_as_well_passes_and_a_failure_says_why(db: str, conn: psycopg.Connection[Any],
                                                                        tmp_path: Path) -> None:
    videos(conn)
    name, keys = BY_STATUS_TIME
    conn.execute(ddl.create_index("public", "videos", name, keys, concurrently=False))
    predicted = explain(conn, FEED, values=FEED_VALUES).cost
    conn.execute(ddl.drop_index("public", name, concurrently=False))
    handmade(conn, tmp_path / "m", [BY_STATUS_TIME], feed_target([name], predicted))
    # Not applied: the plan is the baseline's, and verify says what it does instead.
    out = CliRunner().invoke(cli, ["verify", str(tmp_path / "m"), "--dsn", db])
    assert out.exit_code == 1
    reason = next(line for line in out.stdout.splitlines() if line.startswith("FAIL select videos"))
    assert "(queryid 4242)" in reason and f"expected index not used: {name}" in reason
    assert "its plan uses none of this migration's indexes (" in reason and "Seq Scan on videos" in reason
    assert "was predicted" in reason
    data = json.loads(CliRunner().invoke(cli, ["verify", str(tmp_path / "m"), "--dsn", db, "--format",
                                               "json"]).stdout)
    assert data["targets"][0]["verdict"] == "fail" and "Seq Scan on videos" in data["targets"][0]["problem"]
    # A DBA built an equivalent index by hand: the statement is served as well as predicted.
    conn.execute('CREATE INDEX videos_feed_by_hand ON videos (status, "createdAt" DESC, id, title)')
    result = verify(conn, tmp_path / "m")
    [t] = result.targets
    assert result.ok, t.problem
    assert t.used == [] and t.plan_indexes == ["videos_feed_by_hand"]
    assert "served as well as predicted by videos_feed_by_hand" in t.note


def test_partitions_indexes_count_for_the_partitioned_index(db: str, conn: psycopg.Connection[Any],
                                                            tmp_path: Path) -> None:
    """Issue 24.3: a plan on a partitioned table scans each partition's index, never the parent's."""
    from pgtune.analyze import Advice, IndexSuggestion, Method

    conn.execute("CREATE TABLE events (id bigint, account int NOT NULL, at date NOT NULL) PARTITION BY RANGE (at)")
    conn.execute("CREATE TABLE events_a PARTITION OF events FOR VALUES FROM ('2026-01-01') TO ('2026-02-01')")
    conn.execute("CREATE TABLE events_b PARTITION OF events FOR VALUES FROM ('2026-02-01') TO ('2026-03-01') "
                 "PARTITION BY HASH (id)")
    conn.execute("CREATE TABLE events_b0 PARTITION OF events_b FOR VALUES WITH (MODULUS 2, REMAINDER 0)")
    conn.execute("CREATE TABLE events_b1 PARTITION OF events_b FOR VALUES WITH (MODULUS 2, REMAINDER 1)")
    conn.execute("INSERT INTO events SELECT g, g % 3000, date '2026-01-01' + (g % 59) FROM generate_series(1, 60000) g")
    conn.execute("ANALYZE events")
    name, keys = "events_account_idx", (IndexKey("account"),)
    index = IndexSuggestion("public", "events", name, ["account"], [False], ddl.create_index("public", "events", name,
                            keys), ddl.drop_index("public", name), ddl.analyze("public", "events"), "test")
    tree = plan.partitions.read(conn, [("public", "events")])
    m = plan.build(Advice(Method.HYPOPG, indexes=[index]), partitions=tree)
    target = Target(queryid=7, query="SELECT count(*) FROM events WHERE account = $1 AND at >= $2", calls=5,
                    baseline_cost=None, expected_indexes=[name], values={"$1": "17", "$2": "2026-01-01"})
    plan.emit(replace(m, targets=baseline.capture(conn, [target])), tmp_path / "m")
    Applier(conn, tmp_path / "m").apply()          # a's recipe: ON ONLY, each partition's index, ATTACH
    result = verify(conn, tmp_path / "m")
    [t] = result.targets
    assert result.ok, t.problem
    assert t.used == [name]
    assert len(t.plan_indexes) == 3 and name not in t.plan_indexes      # events_a's, events_b0's, events_b1's
    assert result.unused_indexes == []
    # A partition created after apply gets its index from PostgreSQL, named by PostgreSQL: the catalog knows it.
    conn.execute("CREATE TABLE events_c PARTITION OF events FOR VALUES FROM ('2026-03-01') TO ('2026-04-01')")
    conn.execute("INSERT INTO events SELECT g, g % 3000, date '2026-03-01' + (g % 30) FROM generate_series(1, 30000) g")
    conn.execute("ANALYZE events")
    later = plan.load(tmp_path / "m")
    recent = replace(later.targets[0], values={"$1": "17", "$2": "2026-03-01"})     # pruned to events_c
    plan.emit(replace(later, id=later.id + "-c", targets=[recent]), tmp_path / "c")
    result = verify(conn, tmp_path / "c")
    [t] = result.targets
    assert result.ok and t.used == [name] and t.plan_indexes == ["events_c_account_idx"], t


# --- issue 23.7 / honest figures: measured baselines, nil gains, predicted vs measured ----------------------

def test_emit_times_targets_by_default_and_verify_says_how(db: str, conn: psycopg.Connection[Any],
                                                           tmp_path: Path) -> None:
    m = emit(conn, tmp_path / "mig")                     # no --measure asked
    assert any("$1" in t.query for t in m.targets)
    assert all(t.baseline_ms is not None and t.baseline_runs >= 1 for t in m.targets)
    Applier(conn, tmp_path / "mig").apply()
    out = CliRunner().invoke(cli, ["verify", str(tmp_path / "mig"), "--dsn", db, "--measure", "--format", "json"])
    data = json.loads(out.stdout)
    assert data["measured"] == len(data["targets"])      # parameterized ones too, with their values
    hypopg = conn.execute("SELECT count(*) FROM pg_extension WHERE extname = 'hypopg'").fetchone() == (1,)
    for t in data["targets"]:
        assert t["baseline_how"].startswith("at emit, best of"), t
        assert t["measured_how"].startswith("best of") and t["measured_ratio"] is not None
        if "$1" in t["query"]:      # which value it timed: a big tenant's and a small one's run different plans (p35)
            assert ", with $1 = '" in t["measured_how"] and ", with $1 = '" in t["baseline_how"], t
        assert (t["predicted_ratio"] is not None) == hypopg      # heuristic advice predicts no cost
    table = CliRunner().invoke(cli, ["verify", str(tmp_path / "mig"), "--dsn", db, "--measure"]).stdout
    assert f"baseline: timed at emit for {len(m.targets)} of {len(m.targets)} statements" in table


def test_without_measure_the_baseline_is_planner_cost_only(db: str, conn: psycopg.Connection[Any],
                                                           tmp_path: Path) -> None:
    from .helpers import shop

    shop(conn)
    query = 'SELECT id FROM "order" WHERE "userId" = $1'
    target = Target(queryid=1, query=query, calls=1, baseline_cost=None, values={"$1": "5"})
    [spent] = baseline.capture(conn, [target], analyze=True, budget_s=0)
    assert spent.baseline_ms is None and "time budget" in spent.baseline_note
    [partial] = baseline.capture(conn, [Target(queryid=2, query=query + " AND status = $2", calls=1,
                                                baseline_cost=None, values={"$1": "5"})], analyze=True)
    assert partial.baseline_ms is None and partial.baseline_note == "parameterized: no value for $2 to run it with"
    assert verify_baseline_how(partial) == "planner cost only: parameterized: no value for $2 to run it with"
    folder = tmp_path / "none"
    run(conn, 'SELECT id FROM "order" WHERE "userId" = 7')
    out = CliRunner().invoke(cli, ["suggest", "--dsn", db, "--emit", str(folder), "--no-measure", "--no-constraints"])
    assert out.exit_code == 0, out.output
    assert all(t.baseline_ms is None for t in plan.load(folder).targets)
    data = json.loads(CliRunner().invoke(cli, ["verify", str(folder), "--dsn", db, "--format", "json"]).stdout)
    assert all(t["baseline_how"] == "planner cost only: not timed at emit" for t in data["targets"])


def test_an_index_whose_time_gain_is_nil_is_not_plain_ok(db: str, conn: psycopg.Connection[Any],
                                                          tmp_path: Path) -> None:
    videos(conn)
    m = handmade(conn, tmp_path / "m", [BY_STATUS_TIME], feed_target([BY_STATUS_TIME[0]]))
    Applier(conn, tmp_path / "m").apply()
    # As if the statement had been as fast at emit as it is now: the index bought nothing. The fastest of
    # ten best-of-3 timings, not one: one best-of-3 of this 0.03 ms statement ranged 0.014-0.052 ms (300
    # samples at load 13 on this 2-core machine), so a baseline from one timing could sit 2x above what
    # verify then measures and read as a gain. verify's best-of-3 cannot beat 2/3 of the fastest of thirty.
    timings = [measure(conn, FEED, values=FEED_VALUES)[0] for _ in range(10)]
    fastest = min(x.ms for x in timings if x is not None)
    assert fastest < 1.0                # under TIME_FLOOR_MS: no slowdown verdict either, whatever the load
    t = replace(m.targets[0], baseline_ms=fastest * 2 / 3, baseline_runs=30, baseline_read_blocks=0)
    m = replace(m, targets=[t], id="20261203T000001_verify")
    plan.emit(m, tmp_path / "nil")
    result = verify(conn, tmp_path / "nil", analyze=True)
    [r] = result.targets
    assert r.verdict == Verdict.NIL_GAIN and r.ok and result.ok
    assert r.note.startswith("measured gain nil: ")
    assert result.nil_gain_indexes == [BY_STATUS_TIME[0]]
    out = CliRunner().invoke(cli, ["verify", str(tmp_path / "nil"), "--dsn", db, "--measure"])
    assert out.exit_code == 0
    assert any(line.startswith("nil ") for line in out.stdout.splitlines())
    assert f"note: index {BY_STATUS_TIME[0]} (" in out.stdout and "measured gain nil" in out.stdout


def _result(**kw: Any) -> TargetResult:
    base: dict[str, Any] = dict(queryid=1, name="select t #000000", query="SELECT 1", expected=["i"], used=["i"],
                                plan_indexes=["i"], baseline_cost=1000.0, predicted_cost=10.0, cost=10.0,
                                baseline_ms=10.0, ms=0.1, baseline_read_blocks=0, read_blocks=0)
    return TargetResult(**{**base, **kw})


def test_disagreements_name_their_cause() -> None:
    assert diagnose(_result(ms=0.15)) == ""                                     # 100x vs 67x: within 2x
    plan_change = diagnose(_result(cost=100.0, ms=1.0))                         # built: 10x, predicted 100x
    assert plan_change.startswith("predicted 100.0x, measured 10.0x: plan change: the built indexes cut the "
                                  "planner cost 10.0x")
    cold = diagnose(_result(baseline_read_blocks=900, ms=0.01))
    assert "cache state: the baseline run read 900 blocks from disk, this one 0" in cold
    warm = diagnose(_result(ms=0.01))
    assert "cache state: both runs found every page in shared buffers" in warm
    assert "cache state" not in diagnose(_result(ms=1.0))          # warm, but a warm cache would err the other way
    assert "cost model" in diagnose(_result(baseline_read_blocks=None, ms=0.01))
    planner_only = diagnose(_result(predicted_cost=None, ms=0.01))
    assert planner_only.startswith("planner 100.0x, measured 1,000.0x")
    # The time per planner cost unit before and now: the evidence a cost-model cause rests on (issue 28).
    assert diagnose(_result(baseline_read_blocks=None, ms=0.01)).endswith("(10.00 µs per cost unit before, 1.00 now)")
    assert diagnose(_result(ms=0.15, baseline_ms=None)) == ""


def test_a_miss_between_two_tiny_times_is_said_to_be_noise() -> None:
    """p11: on an Umami-shaped database, team_user by user_id predicted 0.020 ms and measured 0.009 (the next
    verify: within 2x) was put down to the cost model; under NOISE_MS it is said to be timing noise."""
    tiny = diagnose(_result(baseline_ms=0.8, predicted_ms=0.020, ms=0.009))
    assert tiny.startswith("predicted time 40.0x, measured 88.9x: timing noise: predicted and measured both under")
    assert "cost model" not in tiny
    slow = diagnose(_result(baseline_ms=37.0, predicted_ms=0.47, ms=0.10))      # event_data: 0.47 vs 0.10 ms
    assert "cost model: the time now is not the one the index scan timed at emit predicts" in slow


def test_names_are_short_stable_and_tell_statements_apart() -> None:
    from pgtune.sqltext import statement_label

    a = statement_label(FEED)
    assert a == statement_label(FEED.replace(" ORDER", "\n   ORDER"))   # whitespace is not the statement
    assert len(a) <= 60
    others = {statement_label(FEED.replace("LIMIT $2", f"LIMIT {n}")) for n in range(20)}
    assert len(others) == 20                                                 # twenty look-alikes, twenty names
    assert statement_label("not sql (").startswith("statement #")


def test_casts_to_enums_and_plain_domains_are_measured_user_code_is_not(conn: psycopg.Connection[Any]) -> None:
    """Prisma compares every enum through CAST($1::text AS "Enum"): enum_in is PostgreSQL's own code."""
    from pgtune.readonly import why_not_read_only

    conn.execute('CREATE TYPE "Status" AS ENUM (\'PENDING\', \'DONE\')')
    conn.execute('CREATE TABLE job (id int, status "Status")')
    conn.execute("CREATE DOMAIN positive AS int CHECK (VALUE > 0)")
    conn.execute('CREATE DOMAIN open_status AS "Status" CHECK (VALUE <> \'DONE\')')
    conn.execute("CREATE FUNCTION short(text) RETURNS bool LANGUAGE sql IMMUTABLE AS 'SELECT length($1) < 9'")
    conn.execute("CREATE DOMAIN code AS text CHECK (short(VALUE))")
    conn.execute("CREATE FUNCTION same(int, int) RETURNS bool LANGUAGE sql IMMUTABLE AS 'SELECT $1 = $2'")
    conn.execute("CREATE OPERATOR === (LEFTARG = int, RIGHTARG = int, FUNCTION = same)")
    conn.execute("CREATE DOMAIN checked AS int CHECK (VALUE === VALUE)")
    conn.execute("CREATE DOMAIN nested AS positive")
    conn.execute("CREATE TYPE pair AS (a int, b int)")
    for safe in ['SELECT id FROM job WHERE status = CAST($1::text AS "public"."Status")',
                 "SELECT 1::positive", "SELECT 'PENDING'::open_status", 'SELECT ARRAY[\'DONE\']::"Status"[]']:
        assert why_not_read_only(conn, safe) is None, safe
    for unsafe, name in [("SELECT 'x'::code", "public.code"), ("SELECT 1::checked", "public.checked"),
                         ("SELECT 1::nested", "public.nested"), ("SELECT ROW(1, 2)::pair", "public.pair")]:
        assert f"casts to a user-defined type: {name}" in (why_not_read_only(conn, unsafe) or ""), unsafe
    timing, why = measure(conn, 'SELECT id FROM job WHERE status = CAST($1::text AS "public"."Status")',
                          values={"$1": "PENDING"})
    assert why is None and timing is not None and timing.runs >= 1


def test_targets_are_planned_and_timed_over_their_value_scenarios(conn: psycopg.Connection[Any],
                                                                  tmp_path: Path) -> None:
    """verify weighs the scenarios suggest costed (analyze.scenarios.weighted_cost) and times each one."""
    from pgtune.analyze import Scenario, ValueSource, weighted_cost
    from pgtune.baseline import plan_target, time_target

    videos(conn)
    scenarios = [Scenario({"$1": "PUBLISHED", "$2": "20"}, ValueSource.QUALSTATS, 0.6),
                 Scenario({"$1": "DRAFT", "$2": "20"}, ValueSource.QUALSTATS, 0.3),
                 Scenario({"$1": "ARCHIVED"}, ValueSource.QUALSTATS, 0.05),      # $2 has no value: not timed
                 Scenario({}, ValueSource.GENERIC, 0.05)]
    t = replace(feed_target([BY_STATUS_TIME[0]]), scenarios=[s.as_dict() for s in scenarios])
    planned = plan_target(conn, t)
    each = [explain(conn, FEED, values=s.values).cost for s in scenarios]
    assert planned.cost == weighted_cost(each, scenarios)
    assert planned.main.cost == each[0] and not planned.runs_generic
    timed, why = time_target(conn, t)
    assert why is None and timed is not None
    assert (timed.timed, timed.custom) == (2, 3) and abs(timed.share - 0.9 / 0.95) < 1e-9
    assert timed.describe().endswith(", 2 of 3 value scenarios (95% of their weight)")
    [captured] = baseline.capture(conn, [t], analyze=True)
    assert captured.baseline_cost == planned.cost
    assert verify_baseline_how(captured).startswith("at emit, best of ") and "2 of 3 value scenarios" in \
        verify_baseline_how(captured)
    # A statement whose generic plan is no dearer runs the generic plan: a gap is then put down to values.
    generic = _result(generic_plan=True, ms=0.01)
    assert "values: the server runs this statement's generic plan" in diagnose(generic)


def test_a_target_that_does_not_plan_at_emit_is_kept_with_its_reason_and_nothing_on_stderr(
        conn: psycopg.Connection[Any], caplog: pytest.LogCaptureFixture) -> None:
    """f2 saw 'error ignored terminating <psycopg.Pipeline …>: pipeline aborted' three times on health --emit."""
    good = Target(queryid=1, query="SELECT $1::int + 1", calls=1, baseline_cost=None, values={"$1": "1"})
    bad = Target(queryid=2, query="SELECT * FROM gone WHERE id = $1", calls=1, baseline_cost=None, values={"$1": "1"})
    kept = baseline.capture(conn, [bad, good], analyze=True)
    assert [t.queryid for t in kept] == [2, 1]
    assert kept[0].baseline_note == 'cannot plan at emit: relation "gone" does not exist'    # no PREPARE text
    assert kept[1].baseline_cost is not None and kept[1].baseline_ms is not None
    assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
    for _ in range(30):         # it came and went with how fast the server's error arrived
        with pytest.raises(psycopg.errors.UndefinedTable):
            explain(conn, "SELECT * FROM gone WHERE id = $1", values={"$1": "1"})
        baseline.capture(conn, [bad], analyze=True)
    assert [r.getMessage() for r in caplog.records if r.name.startswith("psycopg")] == []   # printed on stderr
    assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
    result = check_target_now(conn, kept[0])
    assert not result.ok and result.problem == 'cannot plan: relation "gone" does not exist'


def check_target_now(conn: psycopg.Connection[Any], t: Target) -> TargetResult:
    from pgtune.verify import Built, check_target

    return check_target(conn, t, Built({}), tolerance=0.1, analyze=False, timeout_ms=10_000)


def test_a_scenario_the_server_refuses_does_not_take_the_others_with_it(conn: psycopg.Connection[Any]) -> None:
    """f1: an IN-list element given the whole array ('{A,B}') is invalid input for the enum: only that scenario."""
    from pgtune.analyze import Scenario, ValueSource
    from pgtune.baseline import plan_target, time_target

    conn.execute('CREATE TYPE "Status" AS ENUM (\'PENDING\', \'DONE\')')
    conn.execute('CREATE TABLE job (id int PRIMARY KEY, status "Status" NOT NULL)')
    conn.execute("""INSERT INTO job SELECT g, CASE WHEN g % 50 = 0 THEN 'PENDING' ELSE 'DONE' END::"Status"
                    FROM generate_series(1, 5000) g""")
    query = 'SELECT id FROM job WHERE status = CAST($1::text AS "public"."Status")'
    scenarios = [Scenario({"$1": "PENDING"}, ValueSource.QUALSTATS, 0.5),
                 Scenario({"$1": "{PENDING,DONE}"}, ValueSource.QUALSTATS, 0.4),
                 Scenario({}, ValueSource.GENERIC, 0.1)]
    t = Target(queryid=3, query=query, calls=1, baseline_cost=None, values={"$1": "PENDING"},
               scenarios=[s.as_dict() for s in scenarios])
    planned = plan_target(conn, t)
    assert planned.cost > 0 and planned.main.cost == explain(conn, query, values={"$1": "PENDING"}).cost
    timed, why = time_target(conn, t)
    assert why is None and timed is not None and (timed.timed, timed.custom) == (1, 2)
    alone = replace(t, scenarios=[scenarios[1].as_dict()], values={"$1": "{PENDING,DONE}"})
    with pytest.raises(psycopg.errors.InvalidTextRepresentation):
        plan_target(conn, alone)


def test_measurement_kinds_are_decided_where_they_arise(conn: psycopg.Connection[Any]) -> None:
    """issue 25: a timeout is not-measured, a write not-executed, no --measure not-asked (no message is read back)."""
    from pgtune.baseline import Measurement
    from pgtune.verify import Built, check_target

    slow = Target(queryid=1, query="SELECT count(*) FROM generate_series(1, 200000000) AS g", calls=1,
                  baseline_cost=None)
    timed_out = check_target(conn, slow, Built({}), tolerance=0.1, analyze=True, timeout_ms=300)
    assert timed_out.measurement == Measurement.NOT_MEASURED and timed_out.ms is None
    assert timed_out.note == "not measured: slower than statement_timeout (300 ms)"
    write = Target(queryid=2, query="SELECT nextval('s')", calls=1, baseline_cost=None)
    conn.execute("CREATE SEQUENCE s")
    refused = check_target(conn, write, Built({}), tolerance=0.1, analyze=True, timeout_ms=10_000)
    assert refused.measurement == Measurement.NOT_EXECUTED and refused.note.startswith("not executed: ")
    asked = check_target(conn, write, Built({}), tolerance=0.1, analyze=False, timeout_ms=10_000)
    assert asked.measurement == Measurement.NOT_ASKED and asked.note == ""
    quick = check_target(conn, replace(slow, query="SELECT 1"), Built({}), tolerance=0.1, analyze=True,
                         timeout_ms=10_000)
    assert quick.measurement == Measurement.MEASURED and quick.ms is not None


@pytest.mark.needs_hypopg
def test_a_warm_run_is_compared_with_the_cut_predicted_for_a_warm_cache(conn: psycopg.Connection[Any],
                                                                        tmp_path: Path) -> None:
    """issue 28: suggest prices an index's page reads as disk reads; a time cut measured warm is compared
    with the cut re-priced for a warm cache (random_page_cost = seq_page_cost), predicted at emit."""
    from pgtune import api
    from pgtune.baseline_warm import hypothetical_ddl

    from .helpers import emitted

    videos(conn)
    emitted(conn, tmp_path / "m", "SELECT id, title FROM videos WHERE status = 'PUBLISHED' "
                                  "ORDER BY \"createdAt\" DESC LIMIT 20;", measure=True)
    m = plan.load(tmp_path / "m")
    [t] = m.targets
    assert t.predicted_cost is not None and t.baseline_cost is not None
    assert t.warm_baseline_cost is not None and t.warm_predicted_cost is not None
    # The seq scan before costs the same either way; the index's reads cost less warm: a bigger predicted cut.
    assert t.warm_baseline_cost / t.warm_predicted_cost > t.baseline_cost / t.predicted_cost
    [ix] = [ix for p in m.phases for ix in p.indexes]
    plain = hypothetical_ddl(ix)
    assert plain is not None and plain.startswith(f'CREATE INDEX "{ix.name}" ON ') and "CONCURRENTLY" not in plain
    api.apply(conn, tmp_path / "m")
    checked = api.verify(conn, tmp_path / "m", measure=True)
    [r] = checked.targets
    assert r.warm and r.measured_ratio is not None
    # A time predicted at emit (baseline_pace: videos' primary key scanned, timed): compared first.
    [predicted_scan] = t.predicted_scans            # HypoPG's name for the index: <oid>btree_videos_…
    assert predicted_scan.startswith("Index Scan using <") and predicted_scan.endswith(" on videos")
    assert t.predicted_ms is not None and r.predicted_ms == t.predicted_ms
    # At the machine's pace now (verify_pace): the emit-time prediction unless the reference scan moved beyond 1.25x.
    assert r.predicted_ms_now == t.predicted_ms or r.pace_ms_now is not None
    assert r.compared_ratio == r.predicted_time_ratio == r.baseline_ms / r.predicted_ms_now  # type: ignore[operator]
    assert r.as_dict()["compared_ratio"] == r.as_dict()["predicted_time_ratio"] == r.predicted_time_ratio
    costs_only = replace(r, predicted_ms=None)
    assert costs_only.compared_ratio == r.warm_predicted_ratio != r.predicted_ratio
    cold = replace(costs_only, read_blocks=12)      # a run that read from disk: the usual prediction
    assert cold.compared_ratio == r.predicted_ratio
    assert replace(r, read_blocks=12).compared_ratio == r.predicted_ratio   # the predicted time is a warm one


def test_a_warm_price_is_of_the_scans_the_server_runs(conn: psycopg.Connection[Any]) -> None:
    """issue 28: priced for a warm cache the planner would read ``ev`` by an Index Scan where the server runs a
    Bitmap Heap Scan; the warm cost is then taken with that scan kept (enable_indexscan off), not dropped."""
    from pgtune.baseline import plan_target
    from pgtune.baseline_warm import _both

    conn.execute("CREATE TABLE ev AS SELECT g AS id, (g * 7919) % 20000 AS uid, g % 1000 AS amount "
                 "FROM generate_series(1, 200000) g")
    conn.execute("CREATE INDEX ev_uid ON ev (uid)")
    conn.execute("VACUUM ANALYZE ev")
    for _ in range(20):     # autovacuum's snapshot can keep the first VACUUMs from marking pages all-visible
        row = conn.execute("SELECT relallvisible >= relpages FROM pg_class WHERE relname = 'ev'").fetchone()
        if row and row[0]:
            break
        time.sleep(0.5)
        conn.execute("VACUUM ev")
    query = "SELECT id, amount FROM ev WHERE uid = 42"
    t = Target(queryid=1, query=query, calls=1, baseline_cost=None)
    warm = {"random_page_cost": "1"}
    assert "Bitmap Heap Scan" in plan_target(conn, t).main.plan["Plan"]["Node Type"]
    assert plan_target(conn, replace(t, settings=warm)).main.plan["Plan"]["Node Type"] == "Index Scan"
    priced = _both(conn, t, warm)
    assert priced is not None
    cost, found, _ = priced
    assert found == ("Bitmap Heap Scan on ev", "Bitmap Index Scan using ev_uid")
    same = plan_target(conn, replace(t, settings={**warm, "enable_indexscan": "off", "enable_indexonlyscan": "off",
                                                  "enable_seqscan": "off"}))
    assert same.main.plan["Plan"]["Node Type"] == "Bitmap Heap Scan"
    assert cost == same.cost < plan_target(conn, t).cost
    # enable_indexscan = off would penalize an Index Only Scan too: a plan that uses one keeps it on.
    covered = replace(t, query="SELECT count(*) FROM ev WHERE uid = 42")
    assert plan_target(conn, covered).main.plan["Plan"]["Plans"][0]["Node Type"] == "Index Only Scan"
    assert (_both(conn, covered, warm) or (0.0,))[0] == plan_target(conn, replace(covered, settings=warm)).cost


@pytest.mark.needs_hypopg
def test_an_expression_index_is_predicted_with_the_expressions_statistics(conn: psycopg.Connection[Any],
                                                                          tmp_path: Path) -> None:
    """issue 28: HypoPG's index on lower(email) has no statistics, so the planner expects 0.5% of the rows
    for a login and predicts a few-fold cut where the built, analyzed index gives hundreds; the prediction
    is planned with the expression's statistics (CREATE STATISTICS + ANALYZE in a rolled-back trial)."""
    from pgtune import api

    from .helpers import emitted

    conn.execute("CREATE TABLE members AS SELECT g AS id, 'User' || g || '@Example.com' AS email, 'n' || g AS name "
                 "FROM generate_series(1, 100000) g")
    conn.execute("ANALYZE members")
    emitted(conn, tmp_path / "m", "SELECT id, name FROM members WHERE lower(email) = 'user42@example.com';",
            measure=True)
    m = plan.load(tmp_path / "m")
    [t] = m.targets
    [ix] = [ix for p in m.phases for ix in p.indexes]
    assert "lower(email)" in ix.ddl
    assert t.predicted_cost is not None and t.baseline_cost is not None
    # Nothing of the trial is left: no statistics object, the connection out of any transaction.
    row = conn.execute("SELECT count(*) FROM pg_statistic_ext WHERE stxname LIKE 'pgtune_trial%'").fetchone()
    assert row is not None and row[0] == 0
    assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
    api.apply(conn, tmp_path / "m")
    conn.execute("ANALYZE members")
    built = explain(conn, t.query).cost
    # Without the statistics the prediction was ~100x the built cost (a bitmap scan of 500 rows).
    assert built / 1.5 <= t.predicted_cost <= built * 1.5 and t.predicted_with_statistics
    [r] = api.verify(conn, tmp_path / "m", measure=True).targets
    assert r.ok and r.predicted_ratio is not None and r.ratio is not None and r.ratio / r.predicted_ratio < 1.5


def test_an_explain_inside_a_transaction_keeps_it(conn: psycopg.Connection[Any]) -> None:
    """An EXPLAIN inside the caller's transaction runs in a read-only savepoint, rolled back: the caller's
    work stays (a plain BEGIN ... ROLLBACK would end the caller's transaction)."""
    with conn.transaction(force_rollback=True):
        conn.execute("CREATE TABLE inside (id int)")
        assert explain(conn, "SELECT * FROM inside WHERE id = $1", values={"$1": "1"}).cost > 0
        with pytest.raises(psycopg.errors.UndefinedTable):
            explain(conn, "SELECT * FROM nowhere")
        assert conn.info.transaction_status == psycopg.pq.TransactionStatus.INTRANS
        row = conn.execute("SELECT count(*) FROM inside").fetchone()
        assert row is not None and row[0] == 0
    assert conn.execute("SELECT to_regclass('inside')").fetchone() == (None,)


def test_each_cause_of_a_disagreement_reaches_the_table_and_the_json(db: str, conn: psycopg.Connection[Any],
                                                                     tmp_path: Path) -> None:
    """Issue 28: when predicted and measured gains disagree by more than 2x, verify's table and JSON say which
    of plan change, cache state and values the evidence shows. Each migration below records one cause at emit
    (a prediction the built index does not keep; a baseline run that read from disk; a value scenario its
    time cannot cover), the rest as measured; verify times the statement for real each time."""
    videos(conn)
    m = handmade(conn, tmp_path / "m", [BY_STATUS_TIME], feed_target([BY_STATUS_TIME[0]]), measure=True)
    Applier(conn, tmp_path / "m").apply()
    [t] = m.targets
    assert t.baseline_cost is not None and t.baseline_ms is not None
    now = explain(conn, FEED, values=FEED_VALUES).cost
    slow = t.baseline_ms * 1e4         # a baseline far slower than the planner's cut explains: a disagreement
    variants = {
        "plan change: the built indexes cut the planner cost": replace(t, predicted_cost=t.baseline_cost),
        "cache state: the baseline run read 900 blocks from disk, this one 0": replace(
            t, predicted_cost=now, baseline_ms=slow, baseline_read_blocks=900),
        "values: the time covers 1 of the 2 value scenarios the cost weighs (50% of their weight)": replace(
            t, baseline_ms=slow, baseline_read_blocks=0,
            scenarios=[{"values": dict(FEED_VALUES), "source": "qualstats", "weight": 0.5},
                       {"values": {"$1": "DRAFT"}, "source": "qualstats", "weight": 0.5}]),
    }
    values = list(variants)[2]       # predicted as the built index plans it over both scenarios: no plan change
    # Its baseline as emit would keep it for those scenarios (an edit after emit is not compared: v36).
    variants[values] = replace(variants[values], predicted_cost=baseline.plan_target(conn, variants[values]).cost,
                               baseline_values=baseline.values_digest(variants[values]))
    # A predicted time (baseline_pace) far from the time now: the baseline's disk reads are in both cuts, so the
    # cause is the prediction's, not the cache's.
    variants["cost model: the time now is not the one the index scan timed at emit predicts (100.000 ms "
             "predicted now, "] = replace(t, predicted_cost=now, predicted_ms=100.0, baseline_read_blocks=900)
    for n, (cause, target) in enumerate(variants.items()):
        folder = tmp_path / f"cause{n}"
        plan.emit(replace(m, targets=[target], id=f"20261203T00000{n}_verify"), folder)
        table = CliRunner().invoke(cli, ["verify", str(folder), "--dsn", db, "--measure"])
        data = json.loads(CliRunner().invoke(cli, ["verify", str(folder), "--dsn", db, "--measure",
                                                   "--format", "json"]).stdout)
        [found] = data["targets"]
        assert found["ms"] is not None and cause in found["disagreement"], (cause, found)
        assert data["agree"] == 0 and data["compared"] == 1
        line = next(x for x in table.stdout.splitlines() if x.startswith(f"  {found['name']}: "))
        assert cause in line, (cause, table.stdout)
        assert n == 0 or "plan change" not in found["disagreement"], found      # only the cause it has
        assert n != 3 or (found["disagreement"].startswith("predicted time ")
                          and "cache state" not in found["disagreement"]), found


def test_a_time_is_predicted_from_an_index_scan_timed_at_emit(conn: psycopg.Connection[Any]) -> None:
    """baseline_pace: the line through an index scan of 1 row and of 1,000 rows (their warm-priced costs and best
    times) turns a target's warm predicted cost into milliseconds; a table with no b-tree index gets none."""
    from pgtune.baseline_pace import REFERENCE_ROWS, Pace, paces, through_indexes

    line = Pace(one_ms=0.02, one_cost=0.5, many_ms=0.52, many_cost=100.5)
    assert line.ms(0.1) == 0.02 and abs(line.ms(50.5) - 0.27) < 1e-12 and abs(line.ms(200.5) - 1.02) < 1e-12
    videos(conn)
    conn.execute("CREATE TABLE heap_only AS SELECT g AS id FROM generate_series(1, 5000) g")
    found = paces(conn, [("public", "videos"), ("public", "heap_only")], {"random_page_cost": "1"})
    assert set(found) == {("public", "videos")}
    pace = found[("public", "videos")]
    assert 0 < pace.one_cost < pace.many_cost and pace.one_ms > 0 and pace.many_ms > 0
    assert REFERENCE_ROWS == 1000
    # Only a plan that reads every table through an index runs at an index scan's pace: a join that also scans
    # a table whole gets no predicted time (it is compared with its cost cut).
    assert through_indexes(["Bitmap Heap Scan on t", "Bitmap Index Scan using t_a_idx", "Index Scan using u_pkey on u"])
    assert not through_indexes(["Index Scan using t_a_idx on t", "Seq Scan on u"]) and not through_indexes([])


def test_a_cost_risen_with_the_row_estimates_is_not_a_regression(conn: psycopg.Connection[Any],
                                                                 tmp_path: Path) -> None:
    """Data grown (or statistics re-sampled) after emit raises the cost; an added index cannot."""
    emit(conn, tmp_path / "mig")
    Applier(conn, tmp_path / "mig").apply()
    assert verify(conn, tmp_path / "mig").ok
    # Ten times the users, all created in the last two days: the recent-users target reads many more rows.
    conn.execute("INSERT INTO users (id, email, \"createdAt\") SELECT m + g, 'grown' || g || '@x.io', "
                 "now() - interval '1 hour' FROM (SELECT max(id) AS m, 10 * count(*) AS n FROM users) s, "
                 "generate_series(1, n) g")
    conn.execute("ANALYZE users")
    result = verify(conn, tmp_path / "mig")
    recent = next(t for t in result.targets if "users" in t.query)
    assert recent.cost is not None and recent.baseline_cost is not None
    assert recent.cost > recent.baseline_cost * 1.1           # the cost did rise past the tolerance
    assert recent.ok, recent.problem
    assert recent.estimates_moved and recent.estimates_moved[0].startswith("users: ")
    assert "row estimates moved since emit" in recent.note
    # The same statistics with dearer pages: still a regression (nothing moved to explain it).
    conn.execute("SET random_page_cost = 400")
    conn.execute("SET seq_page_cost = 400")
    dearer = next(t for t in verify(conn, tmp_path / "mig").targets if '"order"' in t.query)
    assert not dearer.estimates_moved
    assert not dearer.ok and dearer.problem.startswith("regression: cost ")
    # A fifth more orders, re-analyzed: the estimates move a little, and do not excuse a cost several times the
    # baseline (r8's M1).
    conn.execute('INSERT INTO "order" SELECT id + 1000000, "userId", status, total, "createdAt" FROM "order" '
                 "WHERE id % 5 = 0")
    conn.execute('ANALYZE "order"')
    grown = next(t for t in verify(conn, tmp_path / "mig").targets if '"order"' in t.query)
    assert grown.estimates_moved and grown.cost is not None and grown.baseline_cost is not None
    assert grown.cost > 2 * grown.baseline_cost, (grown.cost, grown.baseline_cost)
    assert not grown.ok and grown.problem.startswith("regression: cost ") and "explains" in grown.problem


def test_emit_says_which_targets_cannot_be_timed_for_want_of_values(db: str, conn: psycopg.Connection[Any],
                                                                    tmp_path: Path) -> None:
    """u6: told only after deploy, by verify --measure, that the $n targets with no value seen are not timed."""
    from .helpers import shop

    shop(conn)
    queries = tmp_path / "q.sql"
    # LIMIT $3 and $2 * 2: no column's sample gives them a value.
    queries.write_text('SELECT id, total FROM "order" WHERE "userId" = $1 AND total > $2 * 2 '
                       'ORDER BY "createdAt" LIMIT $3;\n')
    out = CliRunner().invoke(cli, ["suggest", "--dsn", db, "--queries", str(queries), "--emit", str(tmp_path / "m"),
                                   "--no-constraints"])
    assert out.exit_code == 0, out.output
    m = plan.load(tmp_path / "m")
    untimed = [t for t in m.targets if baseline.lacks_values(t)]
    assert untimed, [(t.baseline_note, t.baseline_how, t.values, t.scenarios) for t in m.targets]
    assert f"note: {len(untimed)} of {len(m.targets)} targets have a $n parameter pgtune saw no value for" \
        in out.stderr, out.stderr
    # After deploy, verify --measure shows no time cut for a target it did not time (u11: the cost cut, 37.2x,
    # was printed under "time cut predicted" for a statement that ran slower by hand).
    assert CliRunner().invoke(cli, ["apply", str(tmp_path / "m"), "--dsn", db]).exit_code == 0
    out = CliRunner().invoke(cli, ["verify", str(tmp_path / "m"), "--dsn", db, "--measure"])
    assert out.exit_code == 0, out.output
    result = json.loads(CliRunner().invoke(cli, ["verify", str(tmp_path / "m"), "--dsn", db, "--measure",
                                                 "--format", "json"]).stdout)
    shown = [t for t in result["targets"] if t["ms"] is None]       # with HypoPG, a predicted cost cut as well
    assert shown, result["targets"]
    lines = out.stdout.splitlines()
    header = next(line for line in lines if "time cut predicted" in line)
    for t in shown:
        row = next(line for line in lines if t["name"] in line)
        cell = row[header.index("time cut predicted"):header.index("time cut measured")].strip()
        assert cell in ("", "-"), (cell, out.stdout)


def test_a_slowdown_is_timed_again_before_it_fails(conn: psycopg.Connection[Any], tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """u8: at load 7.5 a first timing straight after apply read 25-30% slower and failed the deploy; the next
    run was 4x faster. A slowdown is believed only when a second timing shows it too."""
    import pgtune.verify as verify_module

    from .helpers import shop

    shop(conn)
    query = 'SELECT id FROM "order" WHERE "userId" = $1'
    [t] = baseline.capture(conn, [Target(queryid=1, query=query, calls=1, baseline_cost=None,
                                         values={"$1": "5"})], analyze=True)
    assert t.baseline_ms is not None
    baseline_ms = t.baseline_ms
    from pgtune import verify_pace

    real = verify_pace.time_target
    calls: list[float] = []

    def busy_once(*args: Any, **kw: Any) -> Any:
        timed, why = real(*args, **kw)
        calls.append(timed.ms)
        # The first timing as a loaded machine gives it: 3x and 2 ms slower than it ran; the second as the
        # statement runs once the machine is quiet again, no slower than at emit (a CI run read 6.3 and 5.9 ms
        # against 4.0 at emit: the subject here is the second look, not the test machine's steadiness).
        if len(calls) == 1:
            return replace(timed, ms=3 * timed.ms + 2.0), why
        return replace(timed, ms=min(timed.ms, baseline_ms)), why

    monkeypatch.setattr(verify_pace, "time_target", busy_once)     # verify times a target through verify_pace
    result = TargetResult.of(t)
    verify_module.time_now(conn, result, t, trust_functions=False, timeout_ms=10_000, time_tolerance=0.25)
    assert len(calls) == 2 and result.ok, result.problem
    assert result.ms == min(calls[1], baseline_ms)       # the second timing kept, not the first


def test_verify_of_a_rolled_back_migration_says_it_is_rolled_back(db: str, conn: psycopg.Connection[Any],
                                                                  tmp_path: Path) -> None:
    """Session 18: verify on a rolled-back migration listed every target as failing, not why."""
    m = emit(conn, tmp_path / "mig")
    names = sorted(ix.name for p in m.phases for ix in p.indexes)
    first = CliRunner().invoke(cli, ["verify", str(tmp_path / "mig"), "--dsn", db])
    assert first.exit_code == 1 and "has not been applied" in first.stdout
    Applier(conn, tmp_path / "mig").apply()
    ok = CliRunner().invoke(cli, ["verify", str(tmp_path / "mig"), "--dsn", db, "--format", "json"])
    assert ok.exit_code == 0 and json.loads(ok.stdout)["phases_not_in_place"] == []
    Applier(conn, tmp_path / "mig").rollback()
    table = CliRunner().invoke(cli, ["verify", str(tmp_path / "mig"), "--dsn", db])
    assert table.exit_code == 0     # rolled back whole: nothing to verify, no failure (v39)
    notes = [line for line in table.stdout.splitlines() if line.startswith("note: phase")]
    assert notes and all("is rolled back" in line for line in notes)
    assert all(name in table.stdout for name in names)
    args = ["verify", str(tmp_path / "mig"), "--dsn", db, "--format", "json"]
    data = json.loads(CliRunner().invoke(cli, args).stdout)
    gone = data["phases_not_in_place"]
    assert {p["state"] for p in gone} == {"rolled_back"} and sorted(n for p in gone for n in p["missing"]) == names
