"""Indexes on partitioned tables, migration side (issue 24 point 3): the non-blocking recipe of the PostgreSQL
docs, one step per partition, resumable after a crash anywhere, a down script that removes exactly what was
built, and status/rollback/health that understand partitioned indexes."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner

from pgtune import ddl, plan
from pgtune.analyze import Advice, IndexSuggestion, Method
from pgtune.apply import Applier
from pgtune.cli import cli
from pgtune.cluster import find_bindir
from pgtune.errors import ApplyFailed
from pgtune.health import Finding, HealthReport, Severity, build_migration
from pgtune.plan import Action, ObjectKind

from .test_migration import squawk_bin

# A range-partitioned table by month with a default partition (one month in another schema), and a
# list-partitioned one whose e-mail partition is hash sub-partitioned.
SCHEMA = """
CREATE SCHEMA archive;
CREATE TABLE events (id bigint NOT NULL, "accountId" int NOT NULL, "documentId" int, kind text NOT NULL,
                     "createdAt" date NOT NULL) PARTITION BY RANGE ("createdAt");
CREATE TABLE events_default PARTITION OF events DEFAULT;
CREATE TABLE archive.events_2026_01 PARTITION OF events FOR VALUES FROM ('2026-01-01') TO ('2026-02-01');
CREATE TABLE events_2026_02 PARTITION OF events FOR VALUES FROM ('2026-02-01') TO ('2026-03-01');
CREATE TABLE events_2026_03 PARTITION OF events FOR VALUES FROM ('2026-03-01') TO ('2026-04-01');
INSERT INTO events SELECT g, g % 500, g % 3000, CASE WHEN g % 9 = 0 THEN 'sign' ELSE 'open' END,
       date '2025-12-15' + (g % 100) FROM generate_series(1, 30000) g;
CREATE TABLE notifications (id bigint NOT NULL, "userId" int NOT NULL, channel text NOT NULL, "readAt" date)
    PARTITION BY LIST (channel);
CREATE TABLE notifications_email PARTITION OF notifications FOR VALUES IN ('email') PARTITION BY HASH (id);
CREATE TABLE notifications_email_0 PARTITION OF notifications_email FOR VALUES WITH (MODULUS 2, REMAINDER 0);
CREATE TABLE notifications_email_1 PARTITION OF notifications_email FOR VALUES WITH (MODULUS 2, REMAINDER 1);
CREATE TABLE notifications_sms PARTITION OF notifications FOR VALUES IN ('sms');
INSERT INTO notifications SELECT g, g % 700, CASE WHEN g % 3 = 0 THEN 'sms' ELSE 'email' END, NULL
FROM generate_series(1, 20000) g;
ANALYZE;
"""

LEAVES = {"events": ["events_default", "events_2026_01", "events_2026_02", "events_2026_03"],
          "notifications": ["notifications_email_0", "notifications_email_1", "notifications_sms"]}


def suggestion(table: str, column: str, schema: str = "public") -> IndexSuggestion:
    keys = (ddl.IndexKey(column),)
    name = ddl.index_name(table, keys)
    return IndexSuggestion(schema, table, name, [column], [False], ddl.create_index(schema, table, name, keys),
                           ddl.drop_index(schema, name), ddl.analyze(schema, table), f"serves lookups by {column}",
                           cost_before=100.0, cost_after=10.0)


def migration(conn: psycopg.Connection[Any], folder: Path, *pairs: tuple[str, str], schema: str = "public",
              **kw: Any) -> plan.Migration:
    """A migration for indexes on (table, column), as suggest --emit writes it (the partition trees read at emit)."""
    found = [suggestion(t, c, schema) for t, c in pairs]
    parts = plan.partitions.read(conn, [(s.schema, s.table) for s in found])
    m = plan.build(Advice(Method.HYPOPG, indexes=found), partitions=parts, **kw)
    plan.emit(m, folder)
    return plan.load(folder)


def dump(db: str) -> str:
    out = subprocess.run([str(find_bindir() / "pg_dump"), "--schema-only", "--exclude-schema=pgtune", "-d", db],
                         capture_output=True, text=True, check=True).stdout
    return "\n".join(line for line in out.splitlines() if not line.startswith(("\\restrict", "\\unrestrict")))


def attached(conn: psycopg.Connection[Any], index: str) -> dict[str, tuple[str, bool]]:
    """Leaf table -> (its index attached under ``index``, valid), sub-partitions followed down."""
    rows = conn.execute("SELECT x.indrelid::regclass::text, t.relid::regclass::text, x.indisvalid "
                        "FROM pg_partition_tree(%s::regclass) t JOIN pg_index x ON x.indexrelid = t.relid "
                        "WHERE t.isleaf", (index,)).fetchall()
    return {r[0].split(".")[-1]: (r[1], r[2]) for r in rows}


def valid(conn: psycopg.Connection[Any], index: str) -> bool:
    row = conn.execute("SELECT indisvalid FROM pg_index WHERE indexrelid = %s::regclass", (index,)).fetchone()
    return bool(row and row[0])


@pytest.fixture
def parts(conn: psycopg.Connection[Any]) -> psycopg.Connection[Any]:
    conn.execute(SCHEMA)
    return conn


def test_the_recipe_one_step_per_partition(parts: psycopg.Connection[Any], tmp_path: Path) -> None:
    m = migration(parts, tmp_path / "mig", ("events", "documentId"), ("notifications", "userId"))
    up = m.phases[0].up
    [events, notifications] = m.phases[0].indexes
    assert events.partitioned and [p.table for p in events.partitions] == [
        "events_2026_01", "events_2026_02", "events_2026_03", "events_default"]
    assert events.partitions[0].schema == "archive"
    assert [(p.table, p.partitioned, p.parent) for p in notifications.partitions] == [
        ("notifications_email", True, notifications.name),
        ("notifications_email_0", False, "notifications_email_userId_idx"),
        ("notifications_email_1", False, "notifications_email_userId_idx"),
        ("notifications_sms", False, notifications.name)]
    kinds = [(s.kind, s.name) for s in up if s.kind not in (ObjectKind.SETTING, ObjectKind.TABLE)]
    assert kinds[:3] == [(ObjectKind.INDEX_ON_ONLY, "events_documentId_idx"),
                         (ObjectKind.INDEX, "events_2026_01_documentId_idx"),
                         (ObjectKind.ATTACH, "events_2026_01_documentId_idx")]
    # The sub-partitioned partition: its own ON ONLY index, its partitions built and attached, then its attach.
    sub = [k for k in kinds if "notifications" in k[1]]
    assert sub == [(ObjectKind.INDEX_ON_ONLY, "notifications_userId_idx"),
                   (ObjectKind.INDEX_ON_ONLY, "notifications_email_userId_idx"),
                   (ObjectKind.INDEX, "notifications_email_0_userId_idx"),
                   (ObjectKind.ATTACH, "notifications_email_0_userId_idx"),
                   (ObjectKind.INDEX, "notifications_email_1_userId_idx"),
                   (ObjectKind.ATTACH, "notifications_email_1_userId_idx"),
                   (ObjectKind.ATTACH, "notifications_email_userId_idx"),
                   (ObjectKind.INDEX, "notifications_sms_userId_idx"),
                   (ObjectKind.ATTACH, "notifications_sms_userId_idx")]
    only = next(s for s in up if s.kind == ObjectKind.INDEX_ON_ONLY)
    assert only.sql == ('CREATE INDEX IF NOT EXISTS "events_documentId_idx" ON ONLY public.events ("documentId")',)
    assert {str(p) for p in only.partitions} == {"archive.events_2026_01", "public.events_2026_02",
                                                 "public.events_2026_03", "public.events_default"}
    leaf = next(s for s in up if s.name == "events_2026_01_documentId_idx" and s.kind == ObjectKind.INDEX)
    assert leaf.sql == ('CREATE INDEX CONCURRENTLY IF NOT EXISTS "events_2026_01_documentId_idx" '
                        'ON archive.events_2026_01 ("documentId")',)
    assert str(leaf.parent) == 'public."events_documentId_idx"'
    down = [(s.kind, s.action, s.name) for s in m.phases[0].down if s.kind != ObjectKind.SETTING]
    assert down[0] == (ObjectKind.PARTITIONED_INDEX, Action.DROP, "notifications_userId_idx")
    text = (tmp_path / "mig" / "01_up.sql").read_text()
    assert "-- squawk-ignore require-concurrent-index-creation" in text
    files = sorted(str(p) for p in (tmp_path / "mig").glob("*.sql"))
    lint = subprocess.run([squawk_bin(), f"--pg-version={parts.info.server_version // 10000}", *files],
                          capture_output=True, text=True)
    assert lint.returncode == 0, lint.stdout + lint.stderr


def test_apply_status_rollback_round_trip(db: str, parts: psycopg.Connection[Any], tmp_path: Path) -> None:
    folder = tmp_path / "mig"
    migration(parts, folder, ("events", "documentId"), ("notifications", "userId"))
    original = dump(db)
    assert CliRunner().invoke(cli, ["apply", str(folder), "--dsn", db]).exit_code == 0
    for index, leaves in (("\"events_documentId_idx\"", LEAVES["events"]),
                          ("\"notifications_userId_idx\"", LEAVES["notifications"])):
        assert valid(parts, index)
        got = attached(parts, index)
        assert sorted(got) == sorted(leaves) and all(ok for _, ok in got.values())
    applied = dump(db)
    st = Applier(parts, folder).status()
    assert st.ok, st
    sizes = {s.name: s.real_bytes for s in st.phases[0].sizes}
    leaf_sum = parts.execute("SELECT sum(pg_relation_size(relid)) FROM pg_partition_tree("
                             "'\"events_documentId_idx\"'::regclass) WHERE isleaf").fetchone()
    assert leaf_sum is not None and sizes["events_documentId_idx"] == int(leaf_sum[0]) > 0
    again = Applier(parts, folder).apply()
    assert not again.changed
    assert CliRunner().invoke(cli, ["rollback", str(folder), "--dsn", db]).exit_code == 0
    assert dump(db) == original
    assert CliRunner().invoke(cli, ["apply", str(folder), "--dsn", db]).exit_code == 0
    assert dump(db) == applied


def test_scripts_run_with_plain_psql(db: str, parts: psycopg.Connection[Any], tmp_path: Path) -> None:
    m = migration(parts, tmp_path / "mig", ("events", "documentId"), ("notifications", "userId"))
    psql = str(find_bindir() / "psql")
    original = dump(db)
    for name in (m.phases[0].up_file, m.phases[0].up_file, m.phases[0].down_file, m.phases[0].down_file):
        out = subprocess.run([psql, "-X", "-v", "ON_ERROR_STOP=1", "-d", db, "-f", str(tmp_path / "mig" / name)],
                             capture_output=True, text=True)
        assert out.returncode == 0, out.stderr            # each twice: a re-run after success is harmless
        if name.endswith("up.sql"):
            assert valid(parts, '"events_documentId_idx"') and valid(parts, '"notifications_userId_idx"')
    assert dump(db) == original


class Crash(Exception):
    pass


def crash_at(db: str, folder: Path, n: int, *, invalid: bool = False) -> None:
    """Apply until step ``n`` of phase 1, then die as a killed client does (its backend gone, history 'running').

    ``invalid``: step ``n`` is a leaf's build, left INVALID as an interrupted CREATE INDEX CONCURRENTLY leaves it.
    """
    with psycopg.connect(db, autocommit=True) as c:
        applier = Applier(c, folder)
        ran = [0]
        original = applier._execute

        def execute(step: plan.Step) -> None:
            ran[0] += 1
            if ran[0] == n:
                if invalid:
                    original(step)
                    c.execute("UPDATE pg_index SET indisvalid = false WHERE indexrelid = %s::regclass",
                              (str(plan.Name(step.schema, step.name)),))
                c.execute("SELECT pg_terminate_backend(pg_backend_pid())")
            original(step)

        applier._execute = execute  # type: ignore[method-assign]
        with pytest.raises(Exception):
            applier.apply()


def test_a_crash_at_any_step_resumes_and_rollback_removes_exactly_what_was_built(
        db: str, parts: psycopg.Connection[Any], tmp_path: Path) -> None:
    folder = tmp_path / "mig"
    m = migration(parts, folder, ("notifications", "userId"))
    original = dump(db)
    up = m.phases[0].up
    builds = [i + 1 for i, s in enumerate(up) if s.kind == ObjectKind.INDEX]
    for n in range(1, len(up) + 1):
        for invalid in ([False, True] if n in builds else [False]):
            crash_at(db, folder, n, invalid=invalid)
            if n % 2:        # half the time: roll back what the crash left; it must be exactly what was there
                Applier(parts, folder).rollback([1])
                assert dump(db) == original, (n, invalid)
            Applier(parts, folder).apply()
            assert valid(parts, '"notifications_userId_idx"'), (n, invalid)
            assert sorted(attached(parts, '"notifications_userId_idx"')) == sorted(LEAVES["notifications"])
            assert parts.execute("SELECT count(*) FROM pg_index WHERE NOT indisvalid").fetchone() == (0,)
            Applier(parts, folder).rollback()
            assert dump(db) == original, (n, invalid)


def test_a_partition_added_since_emit_stops_apply_before_anything_runs(db: str, parts: psycopg.Connection[Any],
                                                                       tmp_path: Path) -> None:
    folder = tmp_path / "mig"
    migration(parts, folder, ("events", "documentId"))
    parts.execute("CREATE TABLE events_2026_04 PARTITION OF events FOR VALUES FROM ('2026-04-01') TO ('2026-05-01')")
    with pytest.raises(ApplyFailed, match=r"public.events has partitions added since emit \(public.events_2026_04\)"):
        Applier(parts, folder).apply()
    out = CliRunner().invoke(cli, ["apply", str(folder), "--dsn", db])
    assert out.exit_code == 1 and len(out.stderr.strip().splitlines()) == 1 and "re-emit" in out.stderr
    assert parts.execute("SELECT to_regclass('\"events_documentId_idx\"')").fetchone() == (None,)   # nothing ran
    parts.execute("DROP TABLE events_2026_04")
    parts.execute("DROP TABLE events_2026_03")
    with pytest.raises(ApplyFailed, match=r"partition public.events_2026_03 of public.events is gone since emit"):
        Applier(parts, folder).apply()


def test_a_partition_created_after_apply_gets_the_index(db: str, parts: psycopg.Connection[Any],
                                                        tmp_path: Path) -> None:
    folder = tmp_path / "mig"
    migration(parts, folder, ("events", "documentId"))
    Applier(parts, folder).apply()
    parts.execute("CREATE TABLE events_2026_04 PARTITION OF events FOR VALUES FROM ('2026-04-01') TO ('2026-05-01')")
    got = attached(parts, '"events_documentId_idx"')
    assert "events_2026_04" in got and got["events_2026_04"][1]       # PostgreSQL built and attached it
    assert valid(parts, '"events_documentId_idx"')
    assert Applier(parts, folder).status().ok
    Applier(parts, folder).rollback()
    assert parts.execute("SELECT count(*) FROM pg_indexes WHERE tablename = 'events_2026_04'").fetchone() == (0,)


def _report(*findings: Finding) -> HealthReport:
    return HealthReport(findings=list(findings), checks=sorted({f.check for f in findings}))


def test_health_drops_a_partitioned_index_and_rollback_restores_it_exactly(
        db: str, parts: psycopg.Connection[Any], tmp_path: Path) -> None:
    parts.execute('CREATE INDEX "notifications_readAt_idx" ON notifications ("readAt")')
    parts.execute('COMMENT ON INDEX "notifications_readAt_idx" IS \'for the inbox\'')
    original = dump(db)
    finding = Finding("unused-index", Severity.WARNING, "public", "notifications", "notifications_readAt_idx",
                      "index notifications_readAt_idx is never used", {},
                      ['DROP INDEX IF EXISTS public."notifications_readAt_idx"'])   # a drop without a fix is left out
    m = build_migration(parts, _report(finding)).migration
    plan.emit(m, tmp_path / "h")
    [drop] = plan.load(tmp_path / "h").phases[0].up[3:]
    assert (drop.kind, drop.action) == (ObjectKind.PARTITIONED_INDEX, Action.DROP)
    assert drop.sql == ('DROP INDEX IF EXISTS public."notifications_readAt_idx"',)
    files = sorted(str(p) for p in (tmp_path / "h").glob("*.sql"))
    lint = subprocess.run([squawk_bin(), *files], capture_output=True, text=True)
    assert lint.returncode == 0, lint.stdout
    report = Applier(parts, tmp_path / "h").apply()
    assert [s.status for s in report.steps if "DROP INDEX" in s.statement] == ["done"]   # never "already gone"
    assert parts.execute("SELECT count(*) FROM pg_class WHERE relname LIKE '%%readAt%%'").fetchone() == (0,)
    assert Applier(parts, tmp_path / "h").status().ok
    Applier(parts, tmp_path / "h").rollback()
    assert dump(db) == original
    assert valid(parts, '"notifications_readAt_idx"')


def test_health_builds_a_foreign_key_index_on_a_partitioned_table(parts: psycopg.Connection[Any],
                                                                  tmp_path: Path) -> None:
    keys = (ddl.IndexKey("accountId"),)
    finding = Finding("foreign-key-without-index", Severity.WARNING, "public", "events", None, "no index",
                      {"index": "events_accountId_idx", "columns": ["accountId"]},
                      [ddl.create_index("public", "events", "events_accountId_idx", keys)])
    m = build_migration(parts, _report(finding)).migration
    plan.emit(m, tmp_path / "h")
    Applier(parts, tmp_path / "h").apply()
    assert valid(parts, '"events_accountId_idx"')
    assert sorted(attached(parts, '"events_accountId_idx"')) == sorted(LEAVES["events"])
    Applier(parts, tmp_path / "h").rollback()
    assert parts.execute("SELECT count(*) FROM pg_class WHERE relname LIKE '%%accountId%%'").fetchone() == (0,)


def test_health_completes_a_partitioned_index_left_invalid(db: str, parts: psycopg.Connection[Any],
                                                           tmp_path: Path) -> None:
    parts.execute("CREATE INDEX events_kind_idx ON ONLY events (kind)")
    parts.execute("COMMENT ON INDEX events_kind_idx IS 'left half done by a manual migration'")
    parts.execute("CREATE INDEX events_2026_02_kind_idx ON events_2026_02 (kind)")
    parts.execute("ALTER INDEX events_kind_idx ATTACH PARTITION events_2026_02_kind_idx")
    parts.execute("CREATE INDEX march_kind ON events_2026_03 (kind)")    # built by hand, its attach never run
    assert not valid(parts, "events_kind_idx")
    original = dump(db)
    finding = Finding("invalid-index", Severity.ERROR, "public", "events", "events_kind_idx", "INVALID", {}, [])
    m = build_migration(parts, _report(finding)).migration
    plan.emit(m, tmp_path / "h")
    [phase] = plan.load(tmp_path / "h").phases
    assert [e.fix for e in phase.existing] == [plan.IndexFix.COMPLETE]
    assert sorted(p.table for p in phase.existing[0].partitions) == ["events_2026_01", "events_2026_03",
                                                                     "events_default"]
    assert [p.name for p in phase.existing[0].partitions if p.table == "events_2026_03"] == ["march_kind"]
    report = Applier(parts, tmp_path / "h").apply()
    assert [s.status for s in report.steps if "march_kind" in s.statement] == ["skipped", "done"]   # attached only
    assert valid(parts, "events_kind_idx")
    got = attached(parts, "events_kind_idx")
    assert got["events_2026_02"][0] == "events_2026_02_kind_idx"          # kept as it was
    assert got["events_2026_03"][0] == "march_kind"                       # its twin attached, none built
    assert Applier(parts, tmp_path / "h").status().ok
    files = sorted(str(p) for p in (tmp_path / "h").glob("*.sql"))
    lint = subprocess.run([squawk_bin(), *files], capture_output=True, text=True)
    assert lint.returncode == 0, lint.stdout

    # No partition's index can be detached: rollback drops the parent and makes it again as it was.
    Applier(parts, tmp_path / "h").rollback()
    assert dump(db) == original
    assert not valid(parts, "events_kind_idx")
    assert sorted(attached(parts, "events_kind_idx")) == ["events_2026_02"]
    Applier(parts, tmp_path / "h").apply()                                # and it can be completed again
    assert valid(parts, "events_kind_idx")


def test_rollback_of_a_completion_that_attached_nothing_touches_nothing(db: str, parts: psycopg.Connection[Any],
                                                                       tmp_path: Path) -> None:
    parts.execute("CREATE INDEX events_kind_idx ON ONLY events (kind)")
    original = dump(db)
    finding = Finding("invalid-index", Severity.ERROR, "public", "events", "events_kind_idx", "INVALID", {}, [])
    plan.emit(build_migration(parts, _report(finding)).migration, tmp_path / "h")
    oid = parts.execute("SELECT 'events_kind_idx'::regclass::oid").fetchone()
    report = Applier(parts, tmp_path / "h").rollback([1])                 # asked for, though never applied
    assert {s.status for s in report.steps if not s.statement.startswith("SET ")} == {"skipped"}
    assert parts.execute("SELECT 'events_kind_idx'::regclass::oid").fetchone() == oid
    assert dump(db) == original
