"""The signing application (benchmarks/signing_app.py, tests/fixtures/signing_app/): a small copy, on a real server.

Issue 23's benchmark measures pgtune on this application at about 4M rows;
these tests keep its model honest at scale 0.01: the DDL is what Prisma's
engine reads from schema.prisma, and the workload reaches pg_stat_statements
normalized, in the forms Prisma and Kysely send (enum casts, ``1=1``, a
parameter in the select list, ``OFFSET $n``), with pg_qualstats recording it.
"""

from __future__ import annotations

import argparse
import importlib
import json
import re
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pglast
import psycopg
import pytest
from click.testing import CliRunner

from pgtune.capture import reset_counters
from pgtune.cli import cli

from .test_layouts import prisma_deploy
from .test_prisma import engine

sys.path.insert(0, str(Path(__file__).parent.parent / "benchmarks"))   # the benchmark modules import each other
signing_app = importlib.import_module("signing_app")
prisma_app = importlib.import_module("prisma_app")

ANCHOR = datetime(2025, 6, 1, 12, 0, 0)


def _app_statements(conn: psycopg.Connection[Any]) -> list[tuple[str, int]]:
    return [(q, c) for q, c in conn.execute(
        "SELECT query, calls FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database "
        "WHERE datname = current_database()) AND query !~* '^(begin|rollback|select /\\* pgtune)' "
        "AND query ~ '\"(public\"\\.\"|Envelope\")'")]


def test_the_ddl_is_what_prismas_engine_reads_from_the_models(conn: psycopg.Connection[Any]) -> None:
    """Every model is a table and every index Prisma's engine lists exists with its columns and uniqueness."""
    dmmf = engine(signing_app.FIXTURES / "schema.prisma")
    assert "error" not in dmmf, dmmf
    conn.execute((signing_app.FIXTURES / "schema.sql").read_text())
    tables = {r[0] for r in conn.execute("SELECT relname FROM pg_class WHERE relkind = 'r' "
                                         "AND relnamespace = 'public'::regnamespace")}
    assert tables - {"_prisma_migrations"} == {m["name"] for m in dmmf["models"]}
    built = {(r[0], tuple(r[1]), r[2]) for r in conn.execute(
        "SELECT t.relname, array_agg(a.attname ORDER BY k.n), x.indisunique FROM pg_index x "
        "JOIN pg_class t ON t.oid = x.indrelid CROSS JOIN LATERAL unnest(x.indkey) WITH ORDINALITY AS k(attnum, n) "
        "JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum "
        "WHERE t.relnamespace = 'public'::regnamespace AND t.relname <> '_prisma_migrations' "
        "GROUP BY x.indexrelid, t.relname, x.indisunique")}
    declared = {(ix["model"], tuple(f["name"] for f in ix["fields"]), ix["type"] in ("id", "unique"))
                for ix in dmmf["indexes"]}
    assert declared == built
    # The field-level @unique on an @id gives a second unique index beside the primary key, as Prisma Migrate does.
    assert conn.execute("SELECT count(*) FROM pg_indexes WHERE tablename = 'TeamEmail'").fetchone() == (3,)


def test_the_small_copy_loads_with_its_skew_and_rare_values(conn: psycopg.Connection[Any]) -> None:
    started = time.monotonic()
    signing_app.build(conn, 0.01, ANCHOR)
    assert time.monotonic() - started < 20
    rows = conn.execute("SELECT sum(reltuples) FROM pg_class WHERE relkind = 'r' "
                        "AND relnamespace = 'public'::regnamespace").fetchone()
    assert rows is not None and 20_000 < rows[0] < 80_000
    share = conn.execute("""SELECT avg(("signingStatus" = 'REJECTED')::int), avg(("signingStatus" = 'SIGNED')::int)
                            FROM "Recipient" """).fetchone()
    assert share is not None and 0 < share[0] < 0.02 and share[1] > 0.5       # rare REJECTED, common SIGNED
    top = conn.execute("""SELECT max(n)::float / sum(n) FROM (SELECT count(*) AS n FROM "Envelope"
                          GROUP BY "teamId") AS t""").fetchone()
    assert top is not None and top[0] > 0.03                                   # one tenant holds a large share
    empty = conn.execute("""SELECT (SELECT count(*) FROM "_prisma_migrations"), (SELECT count(*) FROM "AvatarImage"),
                                   (SELECT count("avatarImageId") FROM "User")""").fetchone()
    assert empty == (0, 0, 0)
    assert conn.execute("""SELECT count(*) FROM "Field" WHERE "width" = -1""").fetchone() != (0,)


def test_the_workload_lands_normalized_as_prisma_and_kysely_send_it(conn: psycopg.Connection[Any]) -> None:
    started = time.monotonic()
    signing_app.build(conn, 0.01, ANCHOR)
    pools = signing_app.pools(conn, ANCHOR)
    reset_counters(conn)
    recorder = signing_app.run_workload(conn, pools, calls=0.3)
    assert time.monotonic() - started < 30
    shapes = signing_app.shapes()
    assert 40 <= len(shapes) <= 60
    assert len(recorder.calls) >= len(shapes) - 2          # a sweep may find nothing due at this scale
    seen = _app_statements(conn)
    texts = [q for q, _ in seen]
    assert len(seen) >= len(recorder.calls)
    assert sum(c for _, c in seen) >= sum(len(v) for v in recorder.calls.values())
    # Normalized: no value the workload sent survives as a literal.
    assert not any(re.search(r"'[^']*'", q) for q in texts), [q for q in texts if re.search(r"'[^']*'", q)][:1]
    assert any('= CAST($1::text AS "public"."BackgroundJobStatus")' in q for q in texts)    # Prisma's enum cast
    assert any(re.search(r"AND \$\d+=\$\d+\) RETURNING", q) for q in texts)                  # Prisma's 1=1
    assert any(re.search(r'select \$\d+ as "one"', q) for q in texts)                          # Kysely's sql.lit(1)
    assert any(re.search(r'"type" = \$\d+ and', q) for q in texts)                             # Kysely's enum literal
    assert any(re.search(r"LIMIT \$\d+ OFFSET \$\d+$", q) for q in texts)
    assert any("ILIKE $" in q for q in texts)
    # NOT IN (CAST($3::text AS enum), CAST($4…)): PostgreSQL 18 squashes the list, casts included.
    squashed = conn.info.server_version >= 180000
    assert any(("NOT IN ($" if squashed else "NOT IN (CAST($") in q for q in texts)
    assert any("<= (SELECT" in q for q in texts)                                               # cursor subselect
    rare = [c for q, c in seen if '"signingStatus" = CAST($1::text' in q and '"id" > $2' in q]
    assert len(rare) == 1 and rare[0] >= 10                  # the REJECTED sweep, one queryid whatever the ids


@pytest.mark.needs_qualstats
def test_pg_qualstats_records_the_workload(conn: psycopg.Connection[Any]) -> None:
    signing_app.build(conn, 0.01, ANCHOR)
    pools = signing_app.pools(conn, ANCHOR)
    reset_counters(conn)
    signing_app.run_workload(conn, pools, calls=0.1)
    row = conn.execute("SELECT count(*), count(DISTINCT queryid) FROM pg_qualstats()").fetchone()
    assert row is not None and row[0] > 50 and row[1] > 20


@pytest.mark.needs_hypopg
def test_the_benchmark_measures_the_three_sets_on_the_small_copy(conn: psycopg.Connection[Any], db: str) -> None:
    """benchmarks/prisma_app.py's steps at scale 0.01: every sampled shape is mapped to its queryid, planned with
    its values under each set, and timed; a set's unchanged reads keep none's time; the targets are judged."""
    signing_app.build(conn, 0.01, ANCHOR)
    pools = signing_app.pools(conn, ANCHOR)
    keep = prisma_app.app_indexes(conn)
    reset_counters(conn)
    recorder = signing_app.run_workload(conn, pools, calls=0.1)
    suggestion, claim = prisma_app.advise(conn)
    calls = prisma_app.app_measure.sample(recorder, 2)
    ids = prisma_app.app_measure.queryids(conn, calls)
    assert set(ids.values()) == set(recorder.calls)
    sets = [prisma_app.IndexSet("none", []), prisma_app.IndexSet("expert", list(prisma_app.EXPERT)),
            prisma_app.pgtune_set(conn, suggestion)]
    for index_set in sets:
        with prisma_app.built(conn, index_set, keep):
            prisma_app.timed(conn, db, index_set, sets[0], calls, ids, passes=1)
    for index_set in sets[1:]:
        prisma_app.fill(index_set, sets[0])
    none, expert, _ = sets
    assert prisma_app.app_indexes(conn) == keep                       # every set dropped after its measure
    assert len(expert.built) == len(prisma_app.EXPERT) and expert.mb > 0
    assert set(none.ms) == set(recorder.calls) and none.total_cost > 0
    writes = {n for n in recorder.calls if recorder.shapes[n].writes}
    assert writes <= set(expert.replayed) < set(recorder.calls)         # unchanged reads keep none's time
    kept_time = next(n for n in recorder.calls if n not in expert.replayed)
    assert expert.ms[kept_time] == none.ms[kept_time]
    checks = prisma_app.targets(claim, *sets)
    assert len(checks) == 3 and all(isinstance(c["met"], bool) for c in checks)
    assert claim.parameterized and claim.before is not None
    args = argparse.Namespace(scale=0.01, calls=0.1, per_shape=2)
    result = prisma_app.report(args, recorder, claim, sets, ids, 1.0)
    assert result["claims_within_1_5x"]["judged"] > 0 and result["per_shape"]
    # Every shape has its queryid, and a shape pgtune did not cost says why (it was docs_team_count's bare "-").
    statuses = {r["shape"]: r["queryids"] for r in result["per_shape"]}
    assert all(statuses.values()), [n for n, q in statuses.items() if not q]
    assert all(s == "costed" or s.startswith(("skipped: ", "not read: "))
               for q in statuses.values() for s in q.values())
    assert all(r["claimed"] for r in result["per_shape"] if "costed" in r["queryids"].values())
    inserts = statuses["audit_log_insert"]
    assert list(inserts.values()) == ["skipped: no filter, join or sort on a user table"], inserts


def test_ints_go_untyped_so_one_shape_is_one_queryid(conn: psycopg.Connection[Any]) -> None:
    """Prisma prepares without types and the server infers them; psycopg would type 5 as int2 and 100000 as
    int4, and pg_stat_statements would split the shape in two."""
    conn.execute((signing_app.FIXTURES / "schema.sql").read_text())
    recorder = signing_app.Recorder(conn, signing_app.shapes())
    signing_app.adapt(conn)
    reset_counters(conn)
    for after in (5, 100_000, 3_000_000_000 // 2):
        recorder.run("rejections_after", ("REJECTED", after, 50, 0))
    rows = [c for q, c in _app_statements(conn) if '"id" > $2' in q]
    assert rows == [3]


@pytest.mark.needs_hypopg
def test_the_prisma_layout_on_the_signing_app_fits_a_repository(conn: psycopg.Connection[Any], db: str,
                                                                 tmp_path: Path) -> None:
    """Issue 23.5 on the benchmark's own application (its schema.prisma, its workload, CHECK constraints asked
    for as well: the issue's 125 folders were mostly NOT VALID / VALIDATE pairs): at most one folder per phase
    plus one per concurrent build, every name unique, nothing on _prisma_migrations, each folder run as
    `prisma migrate deploy` runs it, every index valid after, the schema with pgtune's lines accepted by
    Prisma's engine."""
    signing_app.build(conn, 0.01, ANCHOR)
    pools = signing_app.pools(conn, ANCHOR)
    reset_counters(conn)
    signing_app.run_workload(conn, pools, calls=0.2)
    schema = tmp_path / "prisma" / "schema.prisma"
    schema.parent.mkdir()
    schema.write_bytes((signing_app.FIXTURES / "schema.prisma").read_bytes())
    migrations = tmp_path / "prisma" / "migrations"
    out = CliRunner().invoke(cli, ["suggest", "--dsn", db, "--min-rows", "100", "--constraints", "--emit",
                                   str(migrations), "--layout", "prisma", "--prisma-schema", str(schema), "--write",
                                   "--format", "json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    built = {ix["name"] for ix in data["indexes"]}
    assert len(built) >= 3 and data["constraints"], (data["indexes"], data.get("constraints"))
    folders = sorted(migrations.iterdir())
    phases = {f.name.split("_pgtune_p")[1].split("_")[0] for f in folders}
    texts = {f.name: (f / "migration.sql").read_text() for f in folders}
    concurrent = [n for n, t in texts.items() if "CONCURRENTLY" in t.split("-- squawk-ignore require-lock-timeout")[-1]]
    assert len(folders) <= len(phases) + len(concurrent), sorted(texts)
    assert len(concurrent) <= len(built)
    assert len({f.name.split("_", 1)[1] for f in folders}) == len(folders)        # every name differs
    assert sum("said once, here" in t for t in texts.values()) == 1
    assert not [st for t in texts.values() for st in pglast.split(t) if "_prisma_migrations" in st]
    assert prisma_deploy(conn, migrations) == [f.name for f in folders]
    valid = {r[0] for r in conn.execute("SELECT c.relname FROM pg_index x JOIN pg_class c ON c.oid = x.indexrelid "
                                        "WHERE x.indisvalid")}
    assert built <= valid
    dmmf = engine(schema)
    assert "error" not in dmmf, dmmf
    declared = {i.get("dbName") for i in dmmf["indexes"]}
    lines = {p["name"] for p in data["prisma"]["proposals"] if p["kind"] == "index" and p["written"]}
    assert lines and lines <= declared, data["prisma"]["proposals"]
