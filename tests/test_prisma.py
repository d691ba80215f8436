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

import psycopg
import pytest
from click.testing import CliRunner

from pgtune.cli import cli
from pgtune.prisma import schema as prisma_schema
from pgtune.prisma.advice import Fit, index_proposal

from .helpers import run, steady_state

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
    existing = index_proposal(schema, "public", "videos", "videos_views_count_idx", ["views_count"], [True])
    assert existing.fit == Fit.IN_SCHEMA
    assert index_proposal(schema, "public", "nosuch", "x", ["a"]).fit == Fit.NO_MODEL


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
    assert {(p["model"], p["line"]) for p in written} >= {
        ("Video", '@@index([userId, createdAt(sort: Desc)], map: "videos_user_id_created_at_desc_idx")'),
        ("Video", '@@index([status, createdAt(sort: Desc)], map: "videos_status_created_at_desc_idx")'),
        ("Comment", '@@index([videoId, createdAt], map: "comments_video_id_created_at_idx")'),
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
