"""verify compares no target with a baseline taken for other values than targets.json holds now (v36).

Found on an Umami-shaped database: the DBA put a small website's id in place of website 1's in the emitted
migration's targets.json and ran verify --measure, which timed the small website and printed "ok 2,229x" against
the baseline timed at emit for website 1. The baseline cannot be taken again for the new values after deploy (that
needs the table without the index), and apply takes none (it refuses an edited targets.json): such a target is
planned and timed as it is, said not compared, and counted in no agreement.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import psycopg
from click.testing import CliRunner
from psycopg import sql

from pgtune import plan
from pgtune.cli import cli
from pgtune.verify_baselines import VALUES_EDITED, VALUES_UNKNOWN

from .helpers import emitted, run, steady_state

# Umami's shape (umami-software/umami, prisma/schema.prisma): events and sessions by website, read a website at a
# time. Website 1 holds a fifth of the events; website 200 is a small site with three.
UMAMI = """
CREATE TABLE website (website_id uuid PRIMARY KEY, name text NOT NULL, domain text);
INSERT INTO website SELECT md5('site' || g)::uuid, 'site ' || g, 'site' || g || '.example'
FROM generate_series(1, 200) AS g;
CREATE TABLE session (session_id uuid PRIMARY KEY, website_id uuid NOT NULL, created_at timestamptz NOT NULL,
                      browser text, country text);
INSERT INTO session SELECT md5('session' || g)::uuid,
       md5('site' || CASE WHEN g % 5 = 0 THEN 1 ELSE 2 + g % 198 END)::uuid,
       now() - g * interval '1 minute', 'firefox', 'NZ'
FROM generate_series(1, 40000) AS g;
CREATE TABLE website_event (event_id uuid PRIMARY KEY, website_id uuid NOT NULL, session_id uuid NOT NULL,
                            created_at timestamptz NOT NULL, url_path text NOT NULL, event_type int NOT NULL);
INSERT INTO website_event SELECT md5('event' || g)::uuid,
       md5('site' || CASE WHEN g % 5 = 0 THEN 1 ELSE 2 + g % 198 END)::uuid, md5('session' || (g % 40000))::uuid,
       now() - g * interval '10 seconds', '/page/' || g % 50, 1
FROM generate_series(1, 100000) AS g;
INSERT INTO website_event SELECT md5('small' || g)::uuid, md5('site200')::uuid, md5('session1')::uuid, now(), '/', 1
FROM generate_series(1, 3) AS g;
ANALYZE;
"""
EVENTS = "SELECT url_path, created_at FROM website_event WHERE website_id = %s ORDER BY created_at DESC LIMIT 100"
SESSIONS = "SELECT session_id, browser FROM session WHERE website_id = %s ORDER BY created_at DESC LIMIT 20"


def _site(conn: psycopg.Connection[Any], n: int) -> str:
    row = conn.execute("SELECT md5(%s)::uuid::text", (f"site{n}",)).fetchone()
    assert row is not None
    return str(row[0])


def _emitted(conn: psycopg.Connection[Any], folder: Path) -> str:
    """Umami's two reads run for website 1, the migration emitted (baselines timed); the website id the events'
    baseline was taken with (pg_qualstats' website 1, else a common value of pg_stats)."""
    conn.execute(UMAMI)
    steady_state(conn)
    big = _site(conn, 1)
    run(conn, EVENTS, [(big,)])
    run(conn, SESSIONS, [(big,)])
    emitted(conn, folder)
    targets = plan.load(folder).targets
    assert {_table(t.query) for t in targets} >= {"website_event", "session"}, [t.query for t in targets]
    assert all(t.baseline_ms is not None and t.values.get("$1") for t in targets), targets
    [events] = [t for t in targets if _table(t.query) == "website_event"]
    assert events.values["$1"] != _site(conn, 200)
    return str(events.values["$1"])


def _table(query: str) -> str:
    return "website_event" if "website_event" in query else "session" if "session" in query else "?"


def _edit(folder: Path, table: str, old: str, new: str) -> None:
    """The DBA's edit: ``table``'s target's $1 is ``new`` wherever it was ``old`` (its values and scenarios)."""
    path = folder / plan.TARGETS
    raw = json.loads(path.read_text())
    for t in raw:
        if _table(t["query"]) == table:
            for values in [t["values"], *(s["values"] for s in t["scenarios"])]:
                if values.get("$1") == old:
                    values["$1"] = new
    path.write_text(json.dumps(raw, indent=1) + "\n")


def _verify(db: str, folder: Path) -> tuple[int, dict[str, Any], str]:
    out = CliRunner().invoke(cli, ["verify", str(folder), "--dsn", db, "--measure", "--format", "json"])
    table = CliRunner().invoke(cli, ["verify", str(folder), "--dsn", db, "--measure"])
    assert out.exit_code == table.exit_code, (out.output, table.output)
    return out.exit_code, json.loads(out.stdout), table.stdout


def test_a_target_whose_values_were_edited_is_timed_and_not_compared(db: str, conn: psycopg.Connection[Any],
                                                                       tmp_path: Path) -> None:
    folder = tmp_path / "umami"
    big = _emitted(conn, folder)
    small = _site(conn, 200)
    pristine = (folder / plan.TARGETS).read_text()
    # Edited before apply, the folder is refused: apply takes no baseline for the new values, it runs reviewed files.
    _edit(folder, "website_event", big, small)
    refused = CliRunner().invoke(cli, ["apply", str(folder), "--dsn", db])
    assert refused.exit_code == 1 and "targets.json changed since emit" in refused.output, refused.output
    (folder / plan.TARGETS).write_text(pristine)
    applied = CliRunner().invoke(cli, ["apply", str(folder), "--dsn", db])
    assert applied.exit_code == 0, applied.output
    _edit(folder, "website_event", big, small)      # after deploy, as the DBA did

    code, data, table = _verify(db, folder)
    [events] = [t for t in data["targets"] if _table(t["query"]) == "website_event"]
    # Before the fix: measured_ratio = website 1's baseline over website 200's time, and an ok beside it.
    assert events["measured_ratio"] is None and events["ratio"] is None and events["compared_ratio"] is None, events
    assert events["not_compared"] == VALUES_EDITED
    assert events["measurement"] == "measured" and events["ms"] is not None     # timed now, with the new values
    assert f"with $1 = '{small}'" in events["measured_how"] and f"with $1 = '{big}'" in events["baseline_how"]
    assert events["used"] and events["verdict"] == "ok" and events["disagreement"] == "", events  # its plan: judged
    # The untouched target compares as before.
    [sessions] = [t for t in data["targets"] if _table(t["query"]) == "session"]
    assert sessions["not_compared"] == "" and sessions["measured_ratio"] is not None and sessions["ratio"] > 1
    assert code == 0 and data["ok"]
    assert data["not_compared"] == 1 and data["compared"] <= 1 and data["measured"] == 2
    row = next(line for line in table.splitlines() if events["name"] in line and not line.startswith("note"))
    assert "not compared with its baseline: values: edited in targets.json since emit" in row, table
    assert (f"note: not compared with their baselines (1 of 2 statements, values: edited in targets.json since "
            f"emit): {events['name']}; their plans now are checked, their times now measured") in table, table
    assert "; 1 not compared (values edited since emit)" in table, table
    status = CliRunner().invoke(cli, ["status", str(folder), "--dsn", db])
    assert status.exit_code == 1 and "edited since emit: targets.json" in status.output
    # Its plan is still judged: without the index it fails (exit 1), and names no cost predicted for other values.
    for name in events["used"]:
        conn.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(name)))
    code, data, table = _verify(db, folder)
    [events] = [t for t in data["targets"] if _table(t["query"]) == "website_event"]
    assert code == 1 and events["verdict"] == "fail" and events["problem"].startswith("expected index not used")
    assert "predicted" not in events["problem"] and events["not_compared"] == VALUES_EDITED, events


def test_an_older_migration_with_targets_json_edited_compares_no_target(db: str, conn: psycopg.Connection[Any],
                                                                         tmp_path: Path) -> None:
    """A migration emitted before the values were kept (Umami's was): which target was edited cannot be told."""
    folder = tmp_path / "umami"
    big = _emitted(conn, folder)
    path = folder / plan.TARGETS
    raw = json.loads(path.read_text())
    for t in raw:
        t.pop("baseline_values", None)
    _rewrite(folder, json.dumps(raw, indent=1) + "\n")      # as the older pgtune wrote it, checksum and all
    assert CliRunner().invoke(cli, ["apply", str(folder), "--dsn", db]).exit_code == 0
    code, data, _ = _verify(db, folder)
    assert all(t["measured_ratio"] for t in data["targets"]) and code == 0, data      # not edited: compared
    before = data
    _edit(folder, "website_event", big, _site(conn, 200))
    code, data, table = _verify(db, folder)
    assert [t["measured_ratio"] for t in data["targets"]] == [None, None], data["targets"]
    assert {t["not_compared"] for t in data["targets"]} == {VALUES_UNKNOWN}
    assert code == 0 and data["not_compared"] == 2 and data["compared"] == 0 and data["measured"] == 2
    assert before["not_compared"] == 0
    assert "note: not compared with their baselines (2 of 2 statements, values: targets.json changed" in table


def _rewrite(folder: Path, text: str) -> None:
    path = folder / plan.TARGETS
    path.write_text(text)
    manifest = json.loads((folder / plan.MANIFEST).read_text())
    manifest["checksums"][plan.TARGETS] = hashlib.sha256(text.encode()).hexdigest()
    (folder / plan.MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
