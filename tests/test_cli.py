"""The command line as a user meets it: help, exit codes, one-line errors."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from pgtune.cli import cli

COMMANDS = ["check", "suggest", "apply", "rollback", "status", "verify", "demo"]


def invoke(*args: str, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


def test_help_lists_every_command_with_a_description() -> None:
    out = invoke("--help").output
    for name in COMMANDS:
        line = next(l for l in out.splitlines() if l.strip().startswith(name + " "))
        assert len(line.split(None, 1)[1]) > 10, line


@pytest.mark.parametrize("name", COMMANDS)
def test_each_command_help_has_an_example(name: str) -> None:
    result = invoke(name, "--help")
    assert result.exit_code == 0
    assert "Example:" in result.output
    assert "pgtune " + name in result.output


SECRET = "s3cr3t-Pa55"


@pytest.mark.parametrize("dsn", [
    f"postgresql://alice:{SECRET}@127.0.0.1:1/app",                  # nothing listens on port 1
    f"host=/nonexistent/socket/dir user=alice password={SECRET} dbname=app",
    f"postgresql://alice:{SECRET}@[not-a-host",                        # unparsable URL
    f"host=127.0.0.1 port=1 password='{SECRET}' bogus_option=1",       # unknown option
])
@pytest.mark.parametrize("command", [["check"], ["suggest"]])
def test_bad_dsn_is_one_line_exit_2_without_password(dsn: str, command: list[str]) -> None:
    result = CliRunner().invoke(cli, [*command, "--dsn", dsn])
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("pgtune: cannot connect"), result.stderr
    assert SECRET not in result.output + result.stderr


def test_password_from_environment_never_echoed() -> None:
    env = {"DATABASE_URL": "postgresql://bob@127.0.0.1:1/app", "PGPASSWORD": SECRET}
    result = CliRunner().invoke(cli, ["check"], env=env)
    assert result.exit_code == 2
    assert SECRET not in result.output + result.stderr


def test_database_url_is_used_when_no_dsn(db: str) -> None:
    result = CliRunner().invoke(cli, ["check", "--format", "json"], env={"DATABASE_URL": db})
    assert result.exit_code == 0, result.stderr
    assert '"pgss_installed": true' in result.stdout


def test_libpq_environment_is_used_when_nothing_else(db: str) -> None:
    from psycopg.conninfo import conninfo_to_dict

    params = conninfo_to_dict(db)
    env = {"DATABASE_URL": "", "PGHOST": str(params["host"]), "PGPORT": str(params["port"]),
           "PGUSER": str(params["user"]), "PGDATABASE": str(params["dbname"])}
    result = CliRunner().invoke(cli, ["check"], env=env)
    assert result.exit_code == 0, result.stderr
    assert params["dbname"] in result.stdout


def test_usage_error_exits_2(tmp_path) -> None:  # type: ignore[no-untyped-def]
    result = CliRunner().invoke(cli, ["apply", str(tmp_path), "--phase", "1", "--through", "2"])
    assert result.exit_code == 2


def test_python_dash_m_and_console_script() -> None:
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "pgtune", "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "suggest" in out.stdout
    version = subprocess.run([sys.executable, "-m", "pgtune", "--version"], capture_output=True, text=True)
    assert version.stdout.startswith("pgtune, version ")


def test_catalog_sql_ships_in_the_wheel(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The sql/ folder must reach an installed pgtune, not only a checkout."""
    import subprocess
    import sys
    import zipfile
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    out = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(root)],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    [wheel] = tmp_path.glob("pgtune-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for sql_file in (root / "sql").glob("*.sql"):
        assert f"pgtune/sql/{sql_file.name}" in names
    assert "pgtune/demo/schema.sql" in names and "pgtune/demo/data.sql" in names


def test_service_file_is_honoured(db: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from psycopg.conninfo import conninfo_to_dict

    params = conninfo_to_dict(db)
    services = tmp_path / "pg_service.conf"
    services.write_text("[pgtune_test]\n" + "".join(f"{k}={params[k]}\n" for k in ("host", "port", "user", "dbname")))
    result = CliRunner().invoke(cli, ["check", "--dsn", "service=pgtune_test"],
                                env={"PGSERVICEFILE": str(services), "DATABASE_URL": ""})
    assert result.exit_code == 0, result.stderr
    assert params["dbname"] in result.stdout


def test_missing_stats_privilege_names_the_grant(db: str) -> None:
    import psycopg
    from psycopg import sql
    from psycopg.conninfo import make_conninfo

    with psycopg.connect(db, autocommit=True) as admin:
        admin.execute("DROP ROLE IF EXISTS pgtune_limited")
        admin.execute("CREATE ROLE pgtune_limited LOGIN")
        admin.execute(sql.SQL("GRANT CONNECT ON DATABASE {} TO pgtune_limited").format(
            sql.Identifier(admin.info.dbname)))
    try:
        result = CliRunner().invoke(cli, ["check", "--dsn", make_conninfo(db, user="pgtune_limited")])
        assert result.exit_code == 1, result.stderr
        assert "GRANT pg_read_all_stats TO pgtune_limited;" in result.stdout
    finally:
        with psycopg.connect(db, autocommit=True) as admin:
            admin.execute(sql.SQL("REVOKE CONNECT ON DATABASE {} FROM pgtune_limited").format(
                sql.Identifier(admin.info.dbname)))
            admin.execute("DROP ROLE pgtune_limited")


def test_server_dying_mid_command_is_one_line_exit_2(db: str) -> None:
    import threading
    import time

    import psycopg

    def killer() -> None:
        with psycopg.connect(db, autocommit=True) as k:
            for _ in range(200):
                rows = k.execute("SELECT pid FROM pg_stat_activity WHERE application_name = 'pgtune' "
                                 "AND state = 'active' AND query LIKE '%%ANALYZE%%generate_series%%'").fetchall()
                if rows:
                    k.execute("SELECT pg_terminate_backend(%s)", (rows[0][0],))
                    return
                time.sleep(0.02)

    t = threading.Thread(target=killer)
    t.start()
    # A read-only statement that runs for seconds under --analyze, so the kill lands mid-way.
    result = CliRunner().invoke(cli, ["verify", "--dsn", db, "--analyze", "--query",
                                      "SELECT count(*) FROM generate_series(1, 100000000)"])
    t.join()
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "connection to the server lost" in lines[0] and "re-run" in lines[0], result.stderr


def test_a_prisma_database_url_works_as_the_application_role(db: str, conn) -> None:  # type: ignore[no-untyped-def]
    """u2's F4: Prisma Client's URL (?schema=app&connection_limit=5…), as the app's own role, extensions in public.

    libpq refused Prisma's parameters ("invalid URI query parameter"); with them
    removed, the role's search_path (its schema only) hid pg_stat_statements
    (a raw 42P01), and health stopped on a pgtune schema the role may not use.
    """
    from urllib.parse import quote

    from psycopg.conninfo import conninfo_to_dict

    params = conninfo_to_dict(db)
    role = f"app_{params['dbname']}"
    conn.execute(f"DROP ROLE IF EXISTS {role}")
    conn.execute(f"CREATE ROLE {role} LOGIN")
    conn.execute(f'CREATE SCHEMA "App Data" AUTHORIZATION {role}')
    conn.execute('CREATE TABLE "App Data"."Link" (id int PRIMARY KEY, slug text NOT NULL)')
    conn.execute('INSERT INTO "App Data"."Link" SELECT g, \'s\' || g FROM generate_series(1, 20000) g')
    conn.execute('ANALYZE "App Data"."Link"')
    conn.execute(f'GRANT SELECT ON "App Data"."Link" TO {role}')
    conn.execute("CREATE SCHEMA IF NOT EXISTS pgtune")          # an earlier apply by the DBA: not the role's
    conn.execute(f"REVOKE ALL ON SCHEMA pgtune FROM {role}")
    base = f"postgresql://{role}@{quote(str(params['host']), safe='')}:{params['port']}/{params['dbname']}"
    url = base + "?schema=App%20Data&connection_limit=5&pool_timeout=10&application_name=app"
    env = {"DATABASE_URL": url}
    check = CliRunner().invoke(cli, ["check"], env=env)
    assert check.exit_code in (0, 1) and "cannot connect" not in check.stderr, check.stderr
    assert "42P01" not in check.output + check.stderr
    out = CliRunner().invoke(cli, ["suggest", "--format", "json", "--min-rows", "0", "--queries", "-"], env=env,
                             input="SELECT id FROM \"Link\" WHERE slug = 's77';")
    assert out.exit_code == 0, out.stderr
    assert '"table": "Link"' in out.stdout and '"schema": "App Data"' in out.stdout, out.stdout
    health = CliRunner().invoke(cli, ["health"], env=env)
    assert health.exit_code in (0, 1) and "permission denied" not in health.output + health.stderr, health.stderr
    pooled = CliRunner().invoke(cli, ["check"], env={"DATABASE_URL": base + "?pgbouncer=true&schema=x"})
    assert pooled.exit_code == 2 and len(pooled.stderr.strip().splitlines()) == 1
    assert "pgbouncer=true" in pooled.stderr and "directUrl" in pooled.stderr


def test_a_misspelled_prisma_schema_parameter_is_named(db: str, conn) -> None:  # type: ignore[no-untyped-def]
    """u3: ?shema=app read as a connection failure of an "unparsable DSN"; ?schema= naming no schema said nothing."""
    from urllib.parse import quote

    from psycopg.conninfo import conninfo_to_dict

    params = conninfo_to_dict(db)
    base = f"postgresql://{params['user']}@{quote(str(params['host']), safe='')}:{params['port']}/{params['dbname']}"
    typo = CliRunner().invoke(cli, ["check"], env={"DATABASE_URL": base + "?shema=app&connection_limit=5"})
    assert typo.exit_code == 2 and typo.stderr.strip().splitlines() == [
        "pgtune: the URL's parameter 'shema' is not one libpq or Prisma reads: did you mean schema=?"], typo.stderr
    conn.execute("CREATE SCHEMA app")
    missing = CliRunner().invoke(cli, ["check"], env={"DATABASE_URL": base + "?schema=ap"})
    warned = [x for x in missing.stderr.splitlines() if "warning" in x]
    assert warned == [f"pgtune: warning: the URL's ?schema=ap names no schema of database {params['dbname']}: "
                      "unqualified table names resolve in the other schemas of the search_path"], missing.stderr
    right = CliRunner().invoke(cli, ["check"], env={"DATABASE_URL": base + "?schema=app"})
    assert "warning" not in right.stderr, right.stderr


def test_apply_s_progress_monitor_connects_without_prismas_url_parameters(
        db: str, tmp_path: object, monkeypatch: pytest.MonkeyPatch) -> None:
    """u9: on a terminal apply opens a second connection for build progress with the raw DATABASE_URL; Prisma's
    ?schema= and connection_limit, which libpq refuses, made it fail, so progress never showed."""
    from urllib.parse import quote

    import psycopg

    from pgtune import api
    from pgtune.cli import shell

    seen: list[str | None] = []

    def apply(conn: object, directory: object, **kw: object) -> object:
        monitor = kw.get("monitor_dsn")
        seen.append(monitor if isinstance(monitor, str) else None)
        raise SystemExit(0)

    monkeypatch.setattr(shell, "stderr_is_tty", lambda: True)
    monkeypatch.setattr(api, "apply", apply)
    url = psycopg.conninfo.conninfo_to_dict(db)
    where = "&".join(f"{k}={quote(str(url[k]), safe='')}" for k in ("host", "port", "user") if url.get(k))
    prisma = f"postgresql:///{url['dbname']}?{where}&schema=public&connection_limit=5"
    out = CliRunner().invoke(cli, ["apply", str(tmp_path), "--dsn", prisma])
    assert seen, out.output
    [monitor] = seen
    assert monitor is not None and "schema" not in monitor and "connection_limit" not in monitor
    assert monitor.startswith(f"postgresql:///{url['dbname']}?")     # the empty authority (a socket) kept
    psycopg.connect(monitor).close()          # libpq takes it
