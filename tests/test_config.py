"""pgtune config on the shared test server: read-only (no ALTER SYSTEM here), the profile calculator,
the memory budget, the statements it writes, and the CLI. The symptom tests, which change server
settings, run on a cluster of their own: tests/test_config_symptoms.py."""

from __future__ import annotations

import json
import os
import shlex
from pathlib import Path
from typing import Any

import pglast
import psycopg
import pytest
from click.testing import CliRunner

from pgtune import api
from pgtune.cli import cli
from pgtune.config import ConfigOptions, Profile, Scope, Storage, budget, hardware, platform, statements
from pgtune.config.migration import BudgetRefused
from pgtune.config.model import Family, Proposal, Symptom
from pgtune.config.units import GB, MB, parse_size, size


def test_sizes_read_and_written_as_postgresql_does() -> None:
    assert [size(n) for n in (64 * MB, 3 * GB, 1536 * 1024, 1000)] == ["64MB", "3GB", "1536kB", "1kB"]
    assert parse_size("16GB") == 16 * GB and parse_size("512mb") == 512 * MB and parse_size("1.5G") == 3 * GB // 2
    with pytest.raises(Exception, match="invalid"):
        parse_size("lots")


def test_the_memory_budget_refuses_a_set_that_could_run_the_server_out_of_memory() -> None:
    unsafe = {"shared_buffers": 4 * GB, "max_connections": 200, "work_mem": 64 * MB, "hash_mem_multiplier": 2.0,
              "autovacuum_max_workers": 3, "autovacuum_work_mem": -1, "maintenance_work_mem": 1 * GB,
              "wal_buffers": -1}
    refused = budget.check(unsafe, 16 * GB)
    assert not refused.ok and refused.total_bytes == 4 * GB + 200 * 64 * MB * 2 + 3 * GB + 16 * MB
    assert "could run the server out of memory, refused" in refused.message and "200 connections" in refused.message
    assert budget.check({**unsafe, "work_mem": 16 * MB}, 16 * GB).ok
    assert budget.check(unsafe, None).ok            # unknown memory: said, not refused
    cap = budget.work_mem_cap(unsafe, 16 * GB)
    assert cap is not None and budget.check({**unsafe, "work_mem": cap}, 16 * GB).ok


def test_config_refuses_to_emit_an_unsafe_set_and_writes_nothing(conn: psycopg.Connection[Any],
                                                                 tmp_path: Path) -> None:
    """The server's own shared_buffers does not fit in the memory given: the set is refused, exit 1."""
    report = api.config(conn, ConfigOptions(memory=64 * MB))
    assert report.budget is not None and not report.budget.ok and "refused" in report.budget.message
    with pytest.raises(BudgetRefused, match="refused"):
        api.config(conn, ConfigOptions(memory=64 * MB), emit=api.EmitOptions(directory=tmp_path / "m"))
    assert not (tmp_path / "m").exists()
    result = CliRunner().invoke(cli, ["config", "--dsn", conn.info.dsn, "--memory", "64MB"])
    assert result.exit_code == 1 and "refused" in result.output


def test_config_reads_the_evidence_and_proposes_with_it(conn: psycopg.Connection[Any], db: str) -> None:
    conn.execute("CREATE TABLE big AS SELECT g AS id, md5(g::text) AS t FROM generate_series(1, 200000) g")
    with psycopg.connect(db, autocommit=True) as app:     # the application's session, not pgtune's
        app.execute("SELECT count(*) FROM (SELECT t FROM big ORDER BY t OFFSET 1) s").fetchone()
    report = api.config(conn, ConfigOptions(memory=16 * GB, cpus=16, storage=Storage.SSD))
    role = conn.execute("SELECT current_user").fetchone()
    spill = next(p for p in report.proposals if p.setting == "work_mem")
    assert (spill.scope, spill.role, spill.symptom) == (Scope.ROLE, role[0] if role else "", Symptom.TEMP_SPILL)
    assert spill.evidence["temp_bytes"] > 1 * MB and "ORDER BY t" in spill.evidence["statements"][0]["query"]
    by = {p.setting: p for p in report.proposals}
    assert by["random_page_cost"].value == "1.1" and by["effective_io_concurrency"].value == "200"
    assert by["max_parallel_workers_per_gather"].value == "4" and by["max_worker_processes"].scope == Scope.RESTART
    assert report.hardware["source"]["memory_bytes"] == "flag" and report.budget is not None and report.budget.ok
    ranks = [p.scope.rank for p in report.proposals]
    assert ranks == sorted(ranks)        # role and table first, then reload, then restart


def test_config_cli_table_and_json(conn: psycopg.Connection[Any]) -> None:
    runner = CliRunner()
    out = runner.invoke(cli, ["config", "--dsn", conn.info.dsn, "--memory", "8GB", "--cpus", "4",
                              "--storage", "ssd"])
    assert out.exit_code == 0, out.output
    assert "memory budget:" in out.output and "random_page_cost" in out.output
    js = runner.invoke(cli, ["config", "--dsn", conn.info.dsn, "--memory", "8GB", "--format", "json"])
    data = json.loads(js.output)
    assert data["budget"]["ok"] and data["hardware"]["memory_bytes"] == 8 * GB
    assert all(p["scope"] in ("role", "table", "reload", "restart") for p in data["proposals"])


def test_profile_follows_the_documented_formulas() -> None:
    cfg = api.config_profile(Profile.WEB, 8 * GB, cpus=8, storage=Storage.SSD)
    got = {s.name: s.value for s in cfg.settings}
    assert got["shared_buffers"] == "2GB" and got["effective_cache_size"] == "6GB"
    assert got["maintenance_work_mem"] == "512MB" and got["max_connections"] == "200"
    assert got["work_mem"] == size(max(4 * MB, (6 * GB) // ((200 + 8) * 3) // 1024 * 1024))
    assert (got["min_wal_size"], got["max_wal_size"], got["random_page_cost"]) == ("1GB", "4GB", "1.1")
    assert got["max_parallel_workers_per_gather"] == "4" and got["jit"] == "off"
    assert cfg.budget is not None and cfg.budget.ok
    dw = {s.name: s.value for s in api.config_profile(Profile.DW, 64 * GB, cpus=16, storage=Storage.HDD).settings}
    assert dw["max_parallel_workers_per_gather"] == "8" and dw["random_page_cost"] == "4"
    assert dw["default_statistics_target"] == "500" and "jit" not in dw
    for stmt in pglast.split(cfg.alter_system()):       # every line is SQL that parses
        pglast.parse_sql(stmt)


def test_profile_cli_prints_conf_or_alter_system_and_refuses_what_does_not_fit() -> None:
    runner = CliRunner()
    conf = runner.invoke(cli, ["config", "--profile", "oltp", "--memory", "32GB", "--cpus", "8"])
    assert conf.exit_code == 0 and "shared_buffers = '8GB'" in conf.output and "# memory budget:" in conf.output
    alter = runner.invoke(cli, ["config", "--profile", "oltp", "--memory", "32GB", "--as", "alter-system"])
    assert "ALTER SYSTEM SET shared_buffers = '8GB';" in alter.output
    assert "in force after the next restart: max_connections, shared_buffers" in alter.output
    small = runner.invoke(cli, ["config", "--profile", "web", "--memory", "1GB"])
    assert small.exit_code == 1 and "refused" in small.output
    assert runner.invoke(cli, ["config", "--profile", "web", "--memory", "1GB", "--connections", "50"]).exit_code == 0
    assert runner.invoke(cli, ["config", "--profile", "web"]).exit_code == 2      # --memory is needed


def test_statements_quote_what_they_name() -> None:
    assert statements.alter_role('rep"x', "app db", "work_mem", "64MB") == \
        "ALTER ROLE \"rep\"\"x\" IN DATABASE \"app db\" SET work_mem TO '64MB'"
    assert statements.alter_table("public", "Order\nLines", "fillfactor", None) == \
        'ALTER TABLE public."Order\nLines" RESET (fillfactor)'
    assert statements.alter_system("work_mem", "6'4MB") == "ALTER SYSTEM SET work_mem TO '6''4MB'"
    assert statements.alter_system("shared_preload_libraries", "pg_stat_statements, pg_qualstats") == \
        "ALTER SYSTEM SET shared_preload_libraries TO 'pg_stat_statements', 'pg_qualstats'"


def test_a_managed_platform_is_told_from_what_it_shows_and_gets_its_own_commands(
        conn: psycopg.Connection[Any]) -> None:
    assert platform.detect(conn).platform == platform.Platform.SELF_MANAGED
    P = platform.Platform
    assert platform.classify(["rds.extensions", "rds.force_ssl"], ["rds_superuser"]) == P.RDS
    assert platform.classify(["apg_plan_mgmt.capture_plan_baselines", "rds.extensions"], []) == P.AURORA
    assert platform.classify(["cloudsql.iam_authentication"], ["cloudsqlsuperuser"]) == P.CLOUD_SQL
    assert platform.classify(["azure.extensions"], ["azure_pg_admin"]) == P.AZURE
    assert platform.classify(["neon.timeline_id"], []) == P.NEON
    assert platform.classify([], ["supabase_admin"]) == P.SUPABASE
    p = Proposal("work_mem", Family.MEMORY, Scope.RELOAD, "64MB", "4MB", "default", "user", False, "", "")
    r = Proposal("shared_buffers", Family.MEMORY, Scope.RESTART, "2GB", "128MB", "default", "postmaster", False,
                 "", "")
    lines = platform.changes(platform.Platform.RDS, [p, r], {"work_mem": "kB", "shared_buffers": "8kB"})
    assert "ParameterName=work_mem,ParameterValue=65536,ApplyMethod=immediate" in lines[0]
    assert "ParameterName=shared_buffers,ParameterValue=2GB,ApplyMethod=pending-reboot" in lines[1]
    assert any("gcloud sql instances patch" in x for x in platform.changes(platform.Platform.CLOUD_SQL, [p], {}))
    assert any("az postgres flexible-server parameter set" in x
               for x in platform.changes(platform.Platform.AZURE, [p], {}))
    assert platform.changes(platform.Platform.SELF_MANAGED, [p], {}) == []


def test_platform_commands_quote_what_they_carry_for_the_shell() -> None:
    """A value read from the server (a library list, say) reaches the shell as one word, never as a command."""
    hostile = "pg_stat_statements, x'; touch /tmp/pgtune-owned; echo '\n$(id)"
    p = Proposal("shared_preload_libraries", Family.MEMORY, Scope.RESTART, hostile, "", "default", "postmaster",
                 False, "", "")
    for kind in (platform.Platform.RDS, platform.Platform.CLOUD_SQL, platform.Platform.AZURE,
                 platform.Platform.SUPABASE):
        for line in platform.changes(kind, [p], {}):
            if line.startswith("#") or "shared_preload_libraries" not in line:
                assert "\n" not in line
                continue
            words = shlex.split(line)
            assert any(hostile in w for w in words), (kind, line)
            assert not any(w.startswith("touch") or w == ";" for w in words), (kind, line)
    (neon,) = [x for x in platform.changes(platform.Platform.NEON, [p], {}) if "shared_preload" in x]
    assert "\n" not in neon and neon.startswith("#")


def test_hardware_comes_from_the_servers_host_and_the_flags_win(conn: psycopg.Connection[Any]) -> None:
    row = conn.execute("SELECT pg_backend_pid(), current_setting('data_directory'), "
                       "current_setting('server_version_num')::int / 10000").fetchone()
    assert row is not None
    found = hardware.detect(row[0], row[1], row[2])
    if os.environ.get("PGTUNE_TEST_DSN"):
        pytest.skip("the test server may not run on this host")
    assert found.memory_bytes and found.memory_bytes > 0 and found.cpus and found.cpus >= 1
    assert found.source["memory_bytes"] in ("host /proc/meminfo", "cgroup v2 memory.max",
                                            "cgroup v1 memory.limit_in_bytes")
    merged = hardware.merge(found, memory=4 * GB, storage=Storage.SAN)
    assert (merged.memory_bytes, merged.storage, merged.cpus) == (4 * GB, Storage.SAN, found.cpus)
    assert merged.source["memory_bytes"] == "flag"
    assert hardware.detect(row[0], "/nonexistent", row[2]).memory_bytes is None    # not the server's host


def test_a_cgroup_limit_is_the_servers_memory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A container's limit, not the host's memory (timescaledb-tune issue 58)."""
    proc = tmp_path / "proc" / "42"
    proc.mkdir(parents=True)
    (proc / "cgroup").write_text("0::/docker/abc\n")
    cg = tmp_path / "cgroup" / "docker" / "abc"
    cg.mkdir(parents=True)
    (cg / "memory.max").write_text("2147483648\n")
    (cg / "cpu.max").write_text("150000 100000\n")
    (tmp_path / "cgroup" / "docker" / "memory.max").write_text("max\n")
    real = hardware._read
    monkeypatch.setattr(hardware, "CGROUP_ROOT", tmp_path / "cgroup")
    monkeypatch.setattr(hardware, "_read", lambda p: real(tmp_path / "proc" / "42" / "cgroup")
                        if str(p) == "/proc/42/cgroup" else real(p))
    assert hardware.cgroup_memory(42) == (2 * GB, "cgroup v2 memory.max")
    assert hardware.cgroup_cpus(42) == 1.5


def test_what_pgtune_needs_is_proposed_for_preloading(conn: psycopg.Connection[Any]) -> None:
    from dataclasses import replace

    from pgtune.config import extensions
    from pgtune.config.context import Context
    from pgtune.config.evidence import capture

    snap = capture(conn)
    bare = replace(snap.settings["shared_preload_libraries"], setting="auto_explain", shown="auto_explain")
    ctx = Context(replace(snap, settings={**snap.settings, "shared_preload_libraries": bare},
                          available=frozenset({"pg_stat_statements", "pg_qualstats"})), hardware.Hardware())
    extensions.propose(ctx)
    (p,) = ctx.proposals
    assert (p.setting, p.scope, p.value) == ("shared_preload_libraries", Scope.RESTART,
                                             "auto_explain, pg_stat_statements, pg_qualstats")
    assert statements.alter_system(p.setting, p.value) == \
        "ALTER SYSTEM SET shared_preload_libraries TO 'auto_explain', 'pg_stat_statements', 'pg_qualstats'"


def test_a_role_that_still_spills_at_its_own_work_mem_gets_twice_that(conn: psycopg.Connection[Any]) -> None:
    """verify says the spill persists (narrow tuples need more than twice their file): the next run doubles."""
    from dataclasses import replace

    from pgtune.config import memory
    from pgtune.config.context import Context
    from pgtune.config.evidence import StatementStats, capture

    snap = capture(conn)
    # A loader's INSERT … SELECT run 10 times in the window (its job, not a one-off load: workmem.ONE_OFF_CALLS).
    spill = StatementStats(1, "INSERT INTO t SELECT g FROM generate_series($1, $2) g", "loader", 10, 50.0,
                           10 * (7 * MB // 8192), None, None)
    first = Context(replace(snap, statements=[spill]), hardware.Hardware(memory_bytes=16 * GB))
    memory.propose(first)
    assert [(p.role, p.value, p.current) for p in first.proposals if p.setting == "work_mem"] == \
        [("loader", "16MB", None)]
    again = Context(replace(snap, statements=[spill],
                            role_settings={("loader", snap.database): {"work_mem": "16MB"}}),
                    hardware.Hardware(memory_bytes=16 * GB))
    memory.propose(again)
    assert [(p.role, p.value, p.current) for p in again.proposals if p.setting == "work_mem"] == \
        [("loader", "32MB", "16MB")]
