-- Creates pgtune's own bookkeeping: one row per statement run (history) and
-- the current state of every phase (phases). {schema} is bound by psycopg.sql.
-- Idempotent: run by every apply, so older history tables gain new columns.
-- The schema itself is made by history_create_schema.sql, only when missing.
CREATE TABLE IF NOT EXISTS {schema}.history (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    migration_id text        NOT NULL,
    phase        integer     NOT NULL,
    direction    text        NOT NULL CHECK (direction IN ('up', 'down')),
    statement    text        NOT NULL,
    checksum     text        NOT NULL,
    started      timestamptz NOT NULL DEFAULT clock_timestamp(),
    finished     timestamptz,
    status       text        NOT NULL CHECK (status IN ('running', 'done', 'skipped', 'failed', 'interrupted')),
    error        text,
    role         name        NOT NULL DEFAULT current_user,
    duration_ms  double precision
);
CREATE TABLE IF NOT EXISTS {schema}.phases (
    migration_id text        NOT NULL,
    phase        integer     NOT NULL,
    status       text        NOT NULL CHECK (status IN ('applied', 'failed', 'rolled_back')),
    checksum     text        NOT NULL,
    updated      timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (migration_id, phase)
);
-- What a statement built or removed, so that rollback touches only what this
-- migration created: the object's key, its OID when it has one, and whether
-- pgtune owns it (false when an identical object already existed).
ALTER TABLE {schema}.history ADD COLUMN IF NOT EXISTS object text;
ALTER TABLE {schema}.history ADD COLUMN IF NOT EXISTS object_oid oid;
ALTER TABLE {schema}.history ADD COLUMN IF NOT EXISTS owned boolean;
CREATE INDEX IF NOT EXISTS history_object_idx ON {schema}.history (migration_id, object);
-- A drop's stand-in: the index that serves in place of the one dropped (health's keeper), so that the
-- rollback of the migration that built it knows a later one relies on it.
ALTER TABLE {schema}.history ADD COLUMN IF NOT EXISTS relies_on text;
