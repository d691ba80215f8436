"""pgtune with Prisma: proposals as schema.prisma lines, checked against Prisma's own schema engine.

The schema is modelled on the video platform of the seed report (models with
@@map/@map, camelCase fields, enums). Prisma's engine (WebAssembly, run under
Node, installed by `make install`) validates what pgtune writes and lists its
indexes (DMMF) by pgtune's names.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pglast
import psycopg
import pytest
from click.testing import CliRunner

from pgtune.cli import cli
from pgtune.prisma import schema as prisma_schema
from pgtune.prisma.advice import Fit, index_proposal

from .helpers import run, steady_state
from .test_layouts import prisma_deploy

HERE = Path(__file__).parent
FIXTURE = HERE / "fixtures" / "video.prisma"
NODE_MODULES = HERE.parent / ".cache" / "node" / "node_modules"

# What Prisma Client sends (quoted, schema-qualified, parameterized).
FEED = ('SELECT "public"."videos"."id", "public"."videos"."title" FROM "public"."videos" '
        'WHERE "public"."videos"."user_id" = %s ORDER BY "public"."videos"."created_at" DESC LIMIT 20')
COMMENTS = ('SELECT "public"."comments"."id", "public"."comments"."body" FROM "public"."comments" '
            'WHERE "public"."comments"."video_id" = %s ORDER BY "public"."comments"."created_at" ASC LIMIT 50')
FAILED = ('SELECT "public"."videos"."id" FROM "public"."videos" WHERE "public"."videos"."status" = \'FAILED\' '
          'ORDER BY "public"."videos"."created_at" DESC LIMIT 10')


def engine(path: Path) -> dict[str, Any]:
    """Prisma's schema engine on ``path``: {"models", "indexes"} (its DMMF), or {"error"}."""
    node = shutil.which("node")
    if node is None or not (NODE_MODULES / "@prisma" / "prisma-schema-wasm").exists():
        if os.environ.get("CI"):
            raise AssertionError("Prisma's schema engine is not installed (make install runs npm)")
        pytest.skip("Prisma's schema engine is not installed (make install runs npm)")
    out = subprocess.run([node, str(HERE / "prisma_engine.js"), str(path)], capture_output=True, text=True,
                         env={**os.environ, "NODE_PATH": str(NODE_MODULES)}, check=True)
    result: dict[str, Any] = json.loads(out.stdout)
    return result


def video_db(conn: psycopg.Connection[Any]) -> None:
    conn.execute((HERE / "fixtures" / "video.sql").read_text())
    steady_state(conn)
    users = [r[0] for r in conn.execute("SELECT user_id FROM videos GROUP BY user_id LIMIT 10")]
    videos = [r[0] for r in conn.execute("SELECT id FROM videos LIMIT 10")]
    run(conn, FEED, [(u,) for u in users], times=20)
    run(conn, COMMENTS, [(v,) for v in videos], times=20)
    run(conn, FAILED, times=10)


def test_the_parser_reads_what_prismas_engine_reads() -> None:
    schema = prisma_schema.load(FIXTURE)
    dmmf = engine(FIXTURE)
    assert "error" not in dmmf, dmmf
    assert [m.name for m in schema.models] == [m["name"] for m in dmmf["models"]]
    for model, theirs in zip(schema.models, dmmf["models"], strict=True):
        assert model.table == (theirs["dbName"] or theirs["name"])
        assert model.schema == theirs["schema"]
        assert [f.name for f in model.fields] == [f["name"] for f in theirs["fields"]]
        for f, tf in zip(model.fields, theirs["fields"], strict=True):
            assert f.is_relation == (tf["kind"] == "object"), f
            assert f.column == (tf["dbName"] or tf["name"]), f
    assert schema.enums == {"UserRole", "VideoStatus"}
    declared = {i["dbName"] for i in dmmf["indexes"] if i.get("dbName")}
    assert declared <= set().union(*(m.index_names for m in schema.models))


def test_lines_for_what_prisma_can_and_cannot_say() -> None:
    schema = prisma_schema.load(FIXTURE)
    line = index_proposal(schema, "public", "videos", "videos_user_id_created_at_idx", ["user_id", "created_at"],
                          [False, True])
    assert (line.fit, line.model) == (Fit.LINE, "Video")
    assert line.line == '@@index([userId, createdAt(sort: Desc)], map: "videos_user_id_created_at_idx")'
    camel = index_proposal(schema, "public", "videos", "videos_bunnyVideoId_idx", ["bunnyVideoId"])
    assert camel.line == '@@index([bunnyVideoId], map: "videos_bunnyVideoId_idx")'
    partial = index_proposal(schema, "public", "videos", "videos_created_at_status_FAILED_idx", ["created_at"],
                             where="status = 'FAILED'::\"VideoStatus\"")
    assert partial.fit == Fit.PREVIEW and 'previewFeatures = ["partialIndexes"]' in partial.note
    assert partial.line == ('@@index([createdAt], map: "videos_created_at_status_FAILED_idx", '
                            'where: raw("status = \'FAILED\'::\\"VideoStatus\\""))')
    expression = index_proposal(schema, "public", "users", "users_lower_email_idx", ["email"],
                                expressions=["lower(email)"])
    assert expression.fit == Fit.SQL_ONLY and "--create-only" in expression.note and expression.line is None
    include = index_proposal(schema, "public", "videos", "videos_user_id_incl_title_idx", ["user_id"],
                             include=["title"])
    assert include.fit == Fit.SQL_ONLY and "no INCLUDE" in include.note
    assert include.line == ('@@index([userId], map: "videos_user_id_incl_title_idx") '
                            "// without INCLUDE (title): Prisma cannot express INCLUDE")
    existing = index_proposal(schema, "public", "videos", "videos_views_count_idx", ["views_count"], [True])
    assert existing.fit == Fit.IN_SCHEMA
    assert index_proposal(schema, "public", "nosuch", "x", ["a"]).fit == Fit.NO_MODEL


def test_an_include_line_says_what_it_lacks_and_prismas_engine_reads_it(tmp_path: Path) -> None:
    """Prisma has no INCLUDE: the line pgtune shows carries the caveat as a comment, and still parses as the index."""
    schema = prisma_schema.load(FIXTURE)
    include = index_proposal(schema, "public", "videos", "videos_user_id_incl_title_idx", ["user_id"],
                             include=["title"])
    assert include.fit == Fit.SQL_ONLY and include.line is not None and include.model == "Video"
    assert "Prisma cannot express INCLUDE" in include.line and "title" in include.line
    path = tmp_path / "schema.prisma"
    path.write_bytes(FIXTURE.read_bytes())
    prisma_schema.save(prisma_schema.insert(prisma_schema.load(path), {"Video": [include.line]}))
    dmmf = engine(path)
    assert "error" not in dmmf, dmmf
    [index] = [i for i in dmmf["indexes"] if i.get("dbName") == "videos_user_id_incl_title_idx"]
    assert [f["name"] for f in index["fields"]] == ["userId"]


def test_suggest_writes_lines_prismas_engine_accepts(conn: psycopg.Connection[Any], tmp_path: Path,
                                                     db: str) -> None:
    video_db(conn)
    path = tmp_path / "schema.prisma"
    original = FIXTURE.read_bytes().replace(b"\n", b"\r\n")     # a Windows checkout: CRLF kept as is
    path.write_bytes(original)
    out = CliRunner().invoke(cli, ["suggest", "--dsn", db, "--prisma-schema", str(path), "--write",
                                   "--format", "json", "--no-constraints"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    written = [p for p in data["prisma"]["proposals"] if p["written"]]
    # Costed (HypoPG) with the values the workload ran with: a video has two comments (fetched, then sorted:
    # videoId alone serves), and the few FAILED videos cost too little to earn an index. Without HypoPG
    # (PostgreSQL 18 here) the heuristic keeps the ORDER BY column.
    comments = ('@@index([videoId], map: "comments_video_id_idx")' if data["method"] == "hypopg"
                else '@@index([videoId, createdAt], map: "comments_video_id_created_at_idx")')
    assert {(p["model"], p["line"]) for p in written} >= {
        ("Video", '@@index([userId, createdAt(sort: Desc)], map: "videos_user_id_created_at_desc_idx")'),
        ("Comment", comments),
    }
    names = {ix["name"] for ix in data["indexes"]}
    assert {p["name"] for p in data["prisma"]["proposals"]} == names
    after = path.read_bytes()
    # Only whole lines were added, at the end of their models: take them out and the file is the original.
    added = [f"  {p['line']}\r\n".encode() for p in written]
    stripped = after
    for line in added:
        assert after.count(line) == 1
        stripped = stripped.replace(line, b"", 1)
    assert stripped == original
    dmmf = engine(path)
    assert "error" not in dmmf, dmmf
    declared = {(i["model"], i["dbName"]) for i in dmmf["indexes"] if i.get("dbName")}
    assert {(p["model"], p["name"]) for p in written} <= declared

    # A second run finds the lines in place: nothing more is written.
    again = CliRunner().invoke(cli, ["suggest", "--dsn", db, "--prisma-schema", str(path), "--write",
                                     "--format", "json", "--no-constraints"])
    assert again.exit_code == 0
    assert not any(p["written"] for p in json.loads(again.stdout)["prisma"]["proposals"])
    assert path.read_bytes() == after


def test_bad_schema_and_write_without_schema(db: str, tmp_path: Path) -> None:
    broken = tmp_path / "schema.prisma"
    broken.write_text("model Video {\n  id String @id\n")
    out = CliRunner().invoke(cli, ["suggest", "--dsn", db, "--prisma-schema", str(broken)])
    assert out.exit_code == 2 and "not closed" in out.stderr
    out = CliRunner().invoke(cli, ["suggest", "--dsn", db, "--write"])
    assert out.exit_code == 2 and "--write needs --prisma-schema" in out.output


def test_health_says_what_the_schema_must_change(conn: psycopg.Connection[Any], tmp_path: Path, db: str) -> None:
    """An unindexed foreign key gets its @@index line; an index the fixes drop must leave the schema too."""
    conn.execute((HERE / "fixtures" / "video.sql").read_text())
    # The application deletes videos: the key from comments needs its index (one nothing uses is info, no fix).
    conn.execute("DELETE FROM videos WHERE id = md5('v20000')::uuid")
    conn.execute("SELECT pg_stat_force_next_flush()")
    path = tmp_path / "schema.prisma"
    path.write_bytes(FIXTURE.read_bytes())
    out = CliRunner().invoke(cli, ["health", "--dsn", db, "--check", "foreign-key-without-index", "--check",
                                   "unused-index", "--min-stats-age", "0", "--prisma-schema", str(path), "--write",
                                   "--format", "json"])
    assert out.exit_code == 1, out.output
    proposals = {p["name"]: p for p in json.loads(out.stdout)["prisma"]["proposals"]}
    fk = proposals["comments_video_id_idx"]
    assert (fk["model"], fk["line"], fk["written"]) == ("Comment", '@@index([videoId], map: "comments_video_id_idx")',
                                                         True)
    trending = proposals["videos_views_count_idx"]
    assert (trending["fit"], trending["model"], trending["line"]) == ("remove", "Video",
                                                                      "@@index([viewsCount(sort: Desc)])")
    dmmf = engine(path)
    assert "error" not in dmmf, dmmf
    assert ("Comment", "comments_video_id_idx") in {(i["model"], i.get("dbName")) for i in dmmf["indexes"]}


MULTI = '''
datasource db {
  provider = "postgresql"
  schemas  = ["public", "audit"]
}

model Event {
  id      Int    @id
  actorId Int    @map("actor_id")
  @@map("events")
  @@schema("public")
}

model AuditEvent {
  id     Int    @id
  userId Int    @map("user_id")
  @@map("events")
  @@schema("audit")
}
'''


def test_the_same_table_name_in_two_schemas(tmp_path: Path) -> None:
    path = tmp_path / "schema.prisma"
    path.write_text(MULTI)
    dmmf = engine(path)
    assert "error" not in dmmf, dmmf
    schema = prisma_schema.load(path)
    assert [(m.name, m.schema) for m in schema.models] == [(m["name"], m["schema"]) for m in dmmf["models"]]
    audit = index_proposal(schema, "audit", "events", "events_user_id_idx", ["user_id"])
    assert (audit.model, audit.line) == ("AuditEvent", '@@index([userId], map: "events_user_id_idx")')
    public = index_proposal(schema, "public", "events", "events_actor_id_idx", ["actor_id"])
    assert public.model == "Event"
    prisma_schema.save(prisma_schema.insert(schema, {"AuditEvent": [audit.line or ""]}))
    after = engine(path)
    assert "error" not in after, after
    assert {"model": "AuditEvent", "dbName": "events_user_id_idx"}.items() <= next(
        i for i in after["indexes"] if i.get("dbName") == "events_user_id_idx").items()



def test_a_schema_folder(conn: psycopg.Connection[Any], tmp_path: Path, db: str) -> None:
    """Prisma's multi-file schema: the lines go to the file of their model; the other files are not touched."""
    video_db(conn)
    text = FIXTURE.read_text()
    folder = tmp_path / "schema"
    (folder / "models").mkdir(parents=True)
    cut = text.index("model User {")
    (folder / "schema.prisma").write_text(text[:cut])                  # generator, datasource, enums
    rest = text[cut:]
    split = rest.index("model Like {")
    (folder / "models" / "user_video.prisma").write_text(rest[:split])
    (folder / "models" / "social.prisma").write_text(rest[split:])
    before = {p: p.read_bytes() for p in folder.rglob("*.prisma")}
    assert "error" not in engine(folder)
    out = CliRunner().invoke(cli, ["suggest", "--dsn", db, "--prisma-schema", str(folder), "--write",
                                   "--format", "json", "--no-constraints"])
    assert out.exit_code == 0, out.output
    written = {(p["model"], p["line"]) for p in json.loads(out.stdout)["prisma"]["proposals"] if p["written"]}
    assert {m for m, _ in written} == {"Video", "Comment"}
    changed = {p for p in before if p.read_bytes() != before[p]}
    assert changed == {folder / "models" / "user_video.prisma", folder / "models" / "social.prisma"}
    assert (folder / "schema.prisma").read_bytes() == before[folder / "schema.prisma"]
    dmmf = engine(folder)
    assert "error" not in dmmf, dmmf
    declared = {(i["model"], i.get("dbName")) for i in dmmf["indexes"]}
    assert {(m, line.split('map: "')[1].split('"')[0]) for m, line in written} <= declared


SIGNING = HERE / "fixtures" / "signing.prisma"

# What the signing app sends, as Prisma Client writes it (enums compared through a cast, LIMIT/OFFSET as parameters).
SIGNING_WORKLOAD = [
    ('SELECT "public"."Document"."id", "public"."Document"."title" FROM "public"."Document" WHERE '
     '("public"."Document"."teamId" = %s AND '
     '"public"."Document"."status" = CAST(%s::text AS "public"."DocumentStatus") AND '
     '"public"."Document"."deletedAt" IS NULL) ORDER BY "public"."Document"."createdAt" DESC LIMIT %s OFFSET %s',
     [(t, "PENDING", 10, 0) for t in range(1, 40)]),
    ('SELECT "public"."DocumentAuditLog"."id", "public"."DocumentAuditLog"."type" FROM "public"."DocumentAuditLog" '
     'WHERE "public"."DocumentAuditLog"."documentId" = %s ORDER BY "public"."DocumentAuditLog"."createdAt" DESC '
     'LIMIT %s OFFSET %s', [(d, 20, 0) for d in range(1, 200, 7)]),
    ('SELECT "public"."UserSecurityAuditLog"."id" FROM "public"."UserSecurityAuditLog" WHERE '
     '"public"."UserSecurityAuditLog"."userId" = %s ORDER BY "public"."UserSecurityAuditLog"."createdAt" DESC '
     'LIMIT %s OFFSET %s', [(u, 10, 0) for u in range(1, 300, 11)]),
    ('SELECT "public"."Session"."id" FROM "public"."Session" WHERE "public"."Session"."userId" = %s',
     [(u,) for u in range(1, 300, 13)]),
    ('SELECT "public"."Recipient"."id" FROM "public"."Recipient" WHERE "public"."Recipient"."email" = %s',
     [(f"signer{g}@example.com",) for g in range(1, 400, 17)]),
]


def signing_db(conn: psycopg.Connection[Any]) -> None:
    conn.execute((HERE / "fixtures" / "signing.sql").read_text())
    steady_state(conn)
    for query, values in SIGNING_WORKLOAD:
        run(conn, query, values, times=30)


def with_index(text: str, model: str, field: str, name: str) -> str:
    """``text`` with ``@@index([field], map: name)`` added at the end of ``model``."""
    start = text.index(f"model {model} {{")
    close = text.index("\n}", start)
    return text[:close] + f'\n  @@index([{field}], map: {prisma_schema.quote(name)})' + text[close:]


@pytest.mark.parametrize("fixture", ["signing.prisma", "video.prisma"])
def test_every_key_is_named_as_prismas_engine_names_it(fixture: str, tmp_path: Path) -> None:
    """Field-level @id/@unique and @@id/@@unique/@@index, each under the database name Prisma gives it.

    Prisma's engine refuses a second index of a name already taken: an index added under each name
    pgtune reads must be refused, and one under a fresh name accepted.
    """
    text = (HERE / "fixtures" / fixture).read_text()
    schema = prisma_schema.parse(text)
    dmmf = engine(HERE / "fixtures" / fixture)
    for model in schema.models:
        declared = [i for i in dmmf["indexes"] if i["model"] == model.name]
        assert len(model.keys) == len(declared), (model.name, model.keys, declared)
    probe = schema.models[0]
    column = next(f.name for f in probe.fields if not f.is_relation and not f.is_list)
    path = tmp_path / "schema.prisma"
    path.write_text(with_index(text, probe.name, column, "pgtune_fresh_name_idx"))
    assert "error" not in engine(path)
    names = [k.name for m in schema.models for k in m.keys.values()]
    assert "TeamEmail_teamId_key" in names or fixture != "signing.prisma"      # `teamId Int @id @unique`
    for name in names:
        path.write_text(with_index(text, probe.name, column, name))
        assert f"constraint name `{name}` has to be unique" in engine(path).get("error", ""), name


def test_default_names_are_cut_as_prisma_cuts_them(tmp_path: Path) -> None:
    """Past 63 bytes Prisma cuts the part before the suffix, never the suffix."""
    table = "A" * 60
    text = ('datasource db {\n  provider = "postgresql"\n}\n'
            f'model {table} {{\n  id Int @id\n  someLongColumnName Int @unique\n  other Int\n'
            '  @@index([other, someLongColumnName])\n}\n')
    keys = prisma_schema.parse(text).models[0].keys
    assert set(keys) == {table[:58] + "_pkey", (table + "_someLongColumnName")[:59] + "_key",
                         (table + "_other_someLongColumnName")[:59] + "_idx"}
    path = tmp_path / "schema.prisma"
    for name in keys:
        path.write_text(with_index(text, table, "other", name))
        assert "has to be unique" in engine(path).get("error", ""), name


def test_health_names_the_attribute_to_remove(conn: psycopg.Connection[Any], db: str) -> None:
    """`teamId Int @id @unique`: the duplicate unique index goes with the @unique of that field, said so."""
    conn.execute((HERE / "fixtures" / "signing.sql").read_text())
    out = CliRunner().invoke(cli, ["health", "--dsn", db, "--check", "duplicate-index", "--check", "overlapping-index",
                                   "--min-stats-age", "0", "--prisma-schema", str(SIGNING), "--format", "json"])
    assert out.exit_code == 1, out.output
    proposals = {p["name"]: p for p in json.loads(out.stdout)["prisma"]["proposals"]}
    dup = proposals["TeamEmail_teamId_key"]
    assert (dup["fit"], dup["model"], dup["attribute"], dup["field"]) == ("remove", "TeamEmail", "@unique", "teamId")
    assert "remove `@unique` from field teamId (`teamId    Int      @id @unique`)" in dup["note"]
    lead = proposals["Recipient_documentId_idx"]
    assert (lead["attribute"], lead["field"]) == ("@@index([documentId])", None)
    text = CliRunner().invoke(cli, ["health", "--dsn", db, "--check", "duplicate-index", "--min-stats-age", "0",
                                    "--prisma-schema", str(SIGNING)])
    assert "TeamEmail_teamId_key: remove `@unique` from field teamId" in text.stdout


def signing_project(conn: psycopg.Connection[Any], tmp_path: Path) -> tuple[Path, Path]:
    """The signing app's database and a project's prisma/schema.prisma; the schema and the migrations folder."""
    signing_db(conn)
    schema = tmp_path / "prisma" / "schema.prisma"
    schema.parent.mkdir()
    schema.write_bytes(SIGNING.read_bytes())
    return schema, tmp_path / "prisma" / "migrations"


def test_prisma_layout_on_a_signing_app(conn: psycopg.Connection[Any], db: str, tmp_path: Path) -> None:
    """The issue's case: one folder per phase plus one per concurrent build, unique names, nothing on
    _prisma_migrations, run as `prisma migrate deploy` runs it, and the indexes declared in a schema
    Prisma's engine accepts, so the next `prisma migrate dev` keeps them."""
    schema, migrations = signing_project(conn, tmp_path)
    out = CliRunner().invoke(cli, ["suggest", "--dsn", db, "--emit", str(migrations), "--layout", "prisma",
                                   "--prisma-schema", str(schema), "--write", "--format", "json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    built = {ix["name"] for ix in data["indexes"]}
    assert len(built) >= 3, data["indexes"]
    folders = sorted(migrations.iterdir())
    phases = {f.name.split("_pgtune_p")[1].split("_")[0] for f in folders}
    assert len(folders) <= len(phases) + len(built), [f.name for f in folders]
    assert len({f.name.split("_", 1)[1] for f in folders}) == len(folders)       # every name differs
    texts = [(f / "migration.sql").read_text() for f in folders]
    assert sum("said once, here" in t for t in texts) == 1
    statements = [st for t in texts for st in pglast.split(t)]
    assert not [st for st in statements if "_prisma_migrations" in st]
    ledger = conn.execute("SELECT count(*) FROM _prisma_migrations").fetchone()
    assert prisma_deploy(conn, migrations) == [f.name for f in folders]
    assert conn.execute("SELECT count(*) FROM _prisma_migrations WHERE finished_at IS NOT NULL "
                        "AND migration_name LIKE '%%_pgtune_%%'").fetchone() == (len(folders),)
    assert ledger is not None and conn.execute("SELECT count(*) FROM _prisma_migrations WHERE migration_name "
                                               "NOT LIKE '%%_pgtune_%%'").fetchone() == ledger
    valid = {r[0] for r in conn.execute("SELECT c.relname FROM pg_index x JOIN pg_class c ON c.oid = x.indexrelid "
                                        "WHERE x.indisvalid")}
    assert built <= valid
    # Each index Prisma can declare is in the schema under its name; Prisma's engine accepts the schema.
    dmmf = engine(schema)
    assert "error" not in dmmf, dmmf
    declared = {i.get("dbName") for i in dmmf["indexes"]}
    lines = {p["name"] for p in data["prisma"]["proposals"] if p["kind"] == "index" and p["written"]}
    assert lines <= declared and lines, data["prisma"]["proposals"]
    assert all(p["written"] or p["fit"] != "line" for p in data["prisma"]["proposals"] if p["kind"] == "index")
