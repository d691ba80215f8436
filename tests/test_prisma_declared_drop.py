"""An index the schema declares, dropped by suggest's last phase, and what pgtune tells a Prisma team (r36).

Found on an Umami-shaped database (its first migration's ``session``: ``@@index([websiteId])`` and
``@@index([createdAt])`` on model Session, ``id`` both ``@id`` and ``@unique``): the new
(website_id, created_at) index makes ``session_website_id_idx`` redundant, the migration's last phase
dropped it, and the Prisma advice named only the line to add. While the schema declares the index, the next
``prisma db push`` or ``prisma migrate dev`` builds it again (a plain CREATE INDEX: the table's writes wait).

Now, with the schema, the advice names the line to remove, and once the migration and that edit are made,
what Prisma's own schema engine reads from the schema is what the database holds (no drift). Without the
schema, on a Prisma application's database, the drop is held back with its reason.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg

from pgtune import api, ddl
from pgtune.apply import Applier
from pgtune.prisma.advice import Fit

from .helpers import run, steady_state
from .test_layouts import PRISMA_LEDGER
from .test_prisma import engine

SCHEMA = """datasource db {
  provider = "postgresql"
}

model Session {
  id        String    @id @unique @map("session_id") @db.Uuid
  websiteId String    @map("website_id") @db.Uuid
  browser   String?   @db.VarChar(20)
  country   String?   @db.Char(2)
  createdAt DateTime? @default(now()) @map("created_at") @db.Timestamptz(6)

  @@index([createdAt])
  @@index([websiteId])
  @@map("session")
}
"""

# The table as Prisma's migration makes it from the model above.
DDL = """
CREATE TABLE "session" ("session_id" UUID NOT NULL, "website_id" UUID NOT NULL, "browser" VARCHAR(20),
    "country" CHAR(2), "created_at" TIMESTAMPTZ(6) DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "session_pkey" PRIMARY KEY ("session_id"));
CREATE UNIQUE INDEX "session_session_id_key" ON "session"("session_id");
CREATE INDEX "session_created_at_idx" ON "session"("created_at");
CREATE INDEX "session_website_id_idx" ON "session"("website_id");
INSERT INTO "session" SELECT md5(g::text)::uuid, md5((g % 40)::text)::uuid, 'chrome', 'de',
    timestamptz '2026-01-01' + (g % 300) * interval '1 day' + (g % 1440) * interval '1 minute'
FROM generate_series(1, 200000) g;
"""

# What Prisma Client sends for a website's sessions of a period, newest first.
BY_RANGE = ('SELECT "public"."session"."session_id", "public"."session"."browser" FROM "public"."session" '
            'WHERE ("public"."session"."website_id" = %s AND "public"."session"."created_at" >= %s '
            'AND "public"."session"."created_at" <= %s) ORDER BY "public"."session"."created_at" DESC LIMIT 100')


def umami_db(conn: psycopg.Connection[Any], *, ledger: bool = False) -> None:
    conn.execute(DDL)
    conn.execute('VACUUM ANALYZE "session"')
    if ledger:
        conn.execute(PRISMA_LEDGER)
        conn.execute("INSERT INTO _prisma_migrations (id, checksum, migration_name, finished_at, applied_steps_count) "
                     "VALUES ('1', 'c', '01_init', now(), 1)")
    sites = [r[0] for r in conn.execute('SELECT DISTINCT website_id FROM "session" LIMIT 10')]
    steady_state(conn)
    run(conn, BY_RANGE, [(s, f"2026-03-{1 + i:02d}", f"2026-03-{3 + i:02d}") for i, s in enumerate(sites)], times=30)


def _suggest(conn: psycopg.Connection[Any], folder: Path, schema: Path | None) -> api.Suggestion:
    return api.suggest(conn, api.SuggestOptions(constraints=False),
                       emit=api.EmitOptions(directory=folder, constraints=False),
                       prisma=api.PrismaOptions(schema, write=True) if schema is not None else None)


def _dropped(result: api.Suggestion) -> list[str]:
    assert result.migration is not None
    return [e.name for p in result.migration.phases for e in p.existing]


def _remove_lines(path: Path, lines: list[str]) -> None:
    """The edit the advice asks for: each named line out of the file, as a developer deletes it."""
    text = path.read_text()
    kept = [raw for raw in text.splitlines(keepends=True) if raw.strip() not in lines]
    assert len(kept) == len(text.splitlines()) - len(lines), (lines, text)
    path.write_text("".join(kept))


def _drift(conn: psycopg.Connection[Any], schema: Path) -> tuple[set[tuple[str, tuple[str, ...]]], ...]:
    """(declared, built): each index of table session by name and columns, as Prisma's schema engine reads the
    schema (a name it does not give: Prisma's own, ddl.prisma_name) and as the database holds them."""
    dmmf = engine(schema)
    assert "error" not in dmmf, dmmf
    [model] = [m for m in dmmf["models"] if m["name"] == "Session"]
    column = {f["name"]: f["dbName"] or f["name"] for f in model["fields"]}
    declared = set()
    for ix in dmmf["indexes"]:
        columns = tuple(column[f["name"]] for f in ix["fields"])
        suffix = {"id": "pkey", "unique": "key"}.get(ix["type"], "idx")
        declared.add((ix.get("dbName") or ddl.prisma_name("session", () if suffix == "pkey" else columns, suffix),
                      columns))
    built = {(r[0], tuple(r[1])) for r in conn.execute(
        "SELECT c.relname, array_agg(a.attname ORDER BY k.n) FROM pg_index x JOIN pg_class c ON c.oid = x.indexrelid "
        "CROSS JOIN unnest(x.indkey) WITH ORDINALITY AS k(attnum, n) "
        "JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.attnum "
        "WHERE x.indrelid = 'session'::regclass GROUP BY c.relname")}
    return declared, built


def test_the_line_of_a_dropped_index_is_named_and_nothing_drifts(conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    """With the schema (no _prisma_migrations: `prisma db push`): the drop goes, and its line with it."""
    umami_db(conn)
    schema = tmp_path / "schema.prisma"
    schema.write_text(SCHEMA)
    result = _suggest(conn, tmp_path / "mig", schema)
    assert _dropped(result) == ["session_website_id_idx"], result.indexes.hints
    assert result.prisma is not None
    removals = [p for p in result.prisma.proposals if p.fit == Fit.REMOVE]
    Applier(conn, tmp_path / "mig").apply()
    _remove_lines(schema, [p.line for p in removals if p.line])
    declared, built = _drift(conn, schema)
    # Without the removal line: {("session_website_id_idx", ("website_id",))}, which the next db push builds again.
    assert declared == built, declared ^ built
    assert ("session_session_id_key", ("session_id",)) in built      # the @unique's index stays
    [new] = [ix.name for ix in result.indexes.indexes]
    assert (new, ("website_id", "created_at")) in declared          # --write declared the new one
    assert [(p.name, p.model, p.line) for p in removals] == [("session_website_id_idx", "Session",
                                                               "@@index([websiteId])")], result.prisma.proposals
    assert new in removals[0].note and "once that phase has run" in removals[0].note, removals[0].note


def test_a_key_the_schema_declares_is_never_dropped(conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    """The schema says @@unique where the database's index is not unique (drift): not dropped, said why."""
    umami_db(conn)
    schema = tmp_path / "schema.prisma"
    schema.write_text(SCHEMA.replace("@@index([websiteId])", '@@unique([websiteId], map: "session_website_id_idx")'))
    result = _suggest(conn, tmp_path / "mig", schema)
    assert _dropped(result) == []
    assert any("session_website_id_idx kept" in h and "@@unique" in h for h in result.indexes.hints), \
        result.indexes.hints


def test_without_the_schema_a_prisma_apps_index_is_kept(conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    """No schema and no ledger, but Prisma Client's workload: pgtune cannot name the line, so no drop."""
    umami_db(conn)
    result = _suggest(conn, tmp_path / "mig", None)
    assert _dropped(result) == []
    assert any("session_website_id_idx kept" in h and "--prisma-schema" in h for h in result.indexes.hints), \
        result.indexes.hints


def test_with_prismas_ledger_the_drop_goes_through_prisma(conn: psycopg.Connection[Any], tmp_path: Path) -> None:
    """_prisma_migrations: held back, and the reason says how Prisma drops it without a lock on reads."""
    umami_db(conn, ledger=True)
    result = _suggest(conn, tmp_path / "mig", None)
    assert _dropped(result) == []
    [kept] = [h for h in result.indexes.hints if "session_website_id_idx kept" in h]
    assert "Prisma Migrate" in kept and "--create-only" in kept and "CONCURRENTLY" in kept, kept


