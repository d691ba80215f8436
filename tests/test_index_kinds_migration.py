"""Index kinds in a migration: the extension step, GIN and BRIN built CONCURRENTLY, squawk, rollback.

A trigram index needs pg_trgm. Its CREATE EXTENSION IF NOT EXISTS is a step
of its own, in a phase before the indexes; rollback drops the extension only
when this migration created it and nothing else uses it.
"""

from __future__ import annotations

import itertools
import subprocess
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from pgtune import ddl, plan
from pgtune.analyze import Advice, IndexSuggestion, Method, extensions
from pgtune.apply import Applier
from pgtune.ddl import IndexKey, IndexMethod
from pgtune.errors import ApplyFailed

from .test_migration import squawk_bin

_roles = itertools.count()

POSTS = """
CREATE TABLE "Post" (id bigint PRIMARY KEY, title text NOT NULL, tags text[] NOT NULL, meta jsonb NOT NULL,
                     "createdAt" timestamptz NOT NULL);
INSERT INTO "Post" SELECT g, 'post number ' || g, ARRAY['t' || g % 7], jsonb_build_object('plan', g % 3),
       now() - g * interval '1 minute' FROM generate_series(1, 2000) AS g;
ANALYZE "Post";
"""


def suggestion(name: str, column: str, method: IndexMethod, opclass: str | None = None,
               extension: str | None = None) -> IndexSuggestion:
    keys = (IndexKey(column, opclass=opclass),)
    return IndexSuggestion("public", "Post", name, [column], [False],
                           ddl.create_index("public", "Post", name, keys, method=method),
                           ddl.drop_index("public", name), ddl.analyze("public", "Post"), f"serves the {column} search",
                           method=method, opclasses=[opclass], extension=extension)


def trigram_advice(conn: psycopg.Connection[Any]) -> Advice:
    need = extensions.read(conn, [extensions.TRIGRAM])[extensions.TRIGRAM]
    opclass = f"{need.schema}.gin_trgm_ops"
    return Advice(method=Method.HYPOPG, extensions=[need], indexes=[
        suggestion("Post_title_trgm_idx", "title", IndexMethod.GIN, opclass, extensions.TRIGRAM),
        suggestion("Post_createdAt_brin_idx", "createdAt", IndexMethod.BRIN),
        suggestion("Post_tags_gin_idx", "tags", IndexMethod.GIN)])


def emitted(conn: psycopg.Connection[Any], folder: Path) -> plan.Migration:
    m = plan.build(trigram_advice(conn))
    plan.emit(m, folder)
    return m


def installed(conn: psycopg.Connection[Any], name: str = "pg_trgm") -> bool:
    return conn.execute("SELECT count(*) FROM pg_extension WHERE extname = %s", (name,)).fetchone() == (1,)


def test_the_extension_is_a_step_of_its_own_before_the_gin_and_brin_builds(
        conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    conn.execute(POSTS)
    m = emitted(conn, tmp_path / "m")
    assert m.phases[0].step == plan.PhaseStep.EXTENSIONS
    assert {p.step for p in m.phases[1:]} == {plan.PhaseStep.INDEXES}
    first = m.phases[0]
    assert [(s.kind, s.action, s.name) for s in first.up if s.kind == plan.ObjectKind.EXTENSION] == [
        (plan.ObjectKind.EXTENSION, plan.Action.CREATE, "pg_trgm")]
    up = (tmp_path / "m" / first.up_file).read_text()
    assert "CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;" in up
    assert "DROP EXTENSION IF EXISTS pg_trgm;" in (tmp_path / "m" / first.down_file).read_text()
    indexes = "".join((tmp_path / "m" / p.up_file).read_text() for p in m.phases[1:])
    assert ('CREATE INDEX CONCURRENTLY IF NOT EXISTS "Post_title_trgm_idx" ON public."Post" '
            "USING gin (title public.gin_trgm_ops);") in indexes
    assert 'USING brin ("createdAt");' in indexes and "USING gin (tags);" in indexes
    files = [str(p) for p in sorted((tmp_path / "m").glob("*.sql"))]
    out = subprocess.run([squawk_bin(), f"--pg-version={conn.info.server_version // 10000}", *files],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


def test_apply_creates_the_extension_and_rollback_drops_it_when_pgtune_made_it(
        conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    conn.execute(POSTS)
    assert not installed(conn)
    emitted(conn, tmp_path / "m")
    applier = Applier(conn, tmp_path / "m")
    applier.apply()
    assert installed(conn)
    made = {r[0] for r in conn.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'Post'")}
    assert {"Post_title_trgm_idx", "Post_createdAt_brin_idx", "Post_tags_gin_idx"} <= made
    assert all(p.missing == [] and p.invalid == [] for p in applier.status().phases)
    applier.rollback()
    assert not installed(conn)
    left = {r[0] for r in conn.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'Post'")}
    assert left == {"Post_pkey"}


def test_an_extension_that_was_there_is_never_dropped(conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    conn.execute(POSTS)
    conn.execute("CREATE EXTENSION pg_trgm")
    m = emitted(conn, tmp_path / "m")
    assert "CREATE EXTENSION IF NOT EXISTS pg_trgm;" in (tmp_path / "m" / m.phases[0].up_file).read_text()
    applier = Applier(conn, tmp_path / "m")
    report = applier.apply()
    assert any("installed already" in (s.note or "") for s in report.steps)
    applier.rollback()
    assert installed(conn)


def test_rollback_leaves_the_extension_something_else_uses(conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    conn.execute(POSTS)
    emitted(conn, tmp_path / "m")
    applier = Applier(conn, tmp_path / "m")
    applier.apply()
    conn.execute('CREATE INDEX "theirs" ON "Post" USING gin (title gin_trgm_ops)')      # not pgtune's
    report = applier.rollback()
    assert installed(conn)
    assert any('index "theirs"' in (s.note or "") or "theirs" in (s.note or "") for s in report.steps), report.steps
    assert conn.execute("SELECT count(*) FROM pg_indexes WHERE indexname = 'theirs'").fetchone() == (1,)


@pytest.fixture
def limited(db: str, conn: psycopg.Connection[Any]) -> Any:
    """A role that may create schemas and trusted extensions in the database, and nothing more."""
    role = f"pgtune_migrator_{next(_roles)}_{conn.info.backend_pid}"
    conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(role)))
    conn.execute(sql.SQL("GRANT CREATE ON DATABASE {} TO {}").format(sql.Identifier(conn.info.dbname),
                                                                     sql.Identifier(role)))
    conn.execute(sql.SQL("GRANT ALL ON SCHEMA public TO {}").format(sql.Identifier(role)))
    try:
        yield role
    finally:
        conn.execute(sql.SQL("DROP OWNED BY {} CASCADE").format(sql.Identifier(role)))
        conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


def test_a_role_that_may_not_create_the_extension_gets_one_clear_line(
        db: str, conn: psycopg.Connection[Any], limited: str, tmp_path: Path) -> None:
    # pageinspect is not trusted: only a superuser may create it, whatever the database grants.
    need = extensions.read(conn, ["pageinspect"])["pageinspect"]
    step = plan.PlannedExtension("pageinspect", None, ddl.create_extension("pageinspect"),
                                 ddl.drop_extension("pageinspect"), needed_by=["x"])
    m = plan.Migration("20260101T000000_ext", "20260101T000000", "15", [
        plan.Phase(1, "extensions", "test", step=plan.PhaseStep.EXTENSIONS, extensions=[step])])
    plan.emit(m, tmp_path / "m")
    with psycopg.connect(db, user=limited, autocommit=True) as mine:
        assert not extensions.read(mine, ["pageinspect"])["pageinspect"].creatable
        assert "may not create it" in extensions.read(mine, ["pageinspect"])["pageinspect"].note
        with pytest.raises(ApplyFailed) as failed:
            Applier(mine, tmp_path / "m").apply()
    assert need.creatable          # the superuser could
    text = str(failed.value)
    assert f"role {limited} may not create extension pageinspect" in text and "\n" not in text
    assert not installed(conn, "pageinspect")


@pytest.mark.parametrize("layout", [plan.Layout.PRISMA, plan.Layout.GOLANG_MIGRATE])
def test_the_extension_phase_has_a_step_in_the_migration_tools_layouts(
        conn: psycopg.Connection[Any], tmp_path: Path, layout: plan.Layout) -> None:
    conn.execute(POSTS)
    plan.write_layout(plan.build(trigram_advice(conn)), tmp_path / "m", layout)
    files = sorted((tmp_path / "m").rglob("*.sql"))
    text = "\n".join(f.read_text() for f in files)
    assert text.index("CREATE EXTENSION IF NOT EXISTS pg_trgm") < text.index('"Post_title_trgm_idx"')
    if layout == plan.Layout.GOLANG_MIGRATE:
        assert "DROP EXTENSION IF EXISTS pg_trgm" in text          # its down file: this migration installs it
    out = subprocess.run([squawk_bin(), f"--pg-version={conn.info.server_version // 10000}",
                          *[str(f) for f in files]], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
