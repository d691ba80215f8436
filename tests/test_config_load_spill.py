"""A load's spill is no evidence for a role's work_mem (found on a Documenso-shaped database, PostgreSQL 18).

The rows were loaded by INSERT … SELECT, each run once by the superuser; their
sorts wrote temporary files, and `pgtune config` proposed ``ALTER ROLE postgres
… SET work_mem = '64MB'`` from them ("3 statement(s) wrote 40.1 MB of temporary
files"), as if the role's sessions needed it. A write run at most
ONE_OFF_CALLS times is an event, as config's WAL sizing already treats it: it
gets a note, not a setting. A query run once (a report) still counts (test_u10).
"""

from __future__ import annotations

from pgtune import api
from pgtune.config import Symptom

from .test_config_symptoms import HARDWARE, app, around
from .test_u10_workmem_at_current import CLERK_QUERIES, REPORT, ROLE, clerk  # noqa: F401  (the fixture: a table whose sort spills 1-2 MB)

LOAD = "INSERT INTO big_copy SELECT t FROM big ORDER BY t"


def test_a_load_s_spill_gets_a_note_not_a_work_mem(clerk: str) -> None:  # noqa: F811
    with app(clerk) as c:
        c.execute("CREATE TABLE big_copy (t text)")

    def load() -> None:
        with app(clerk) as c:
            c.execute(LOAD)                    # the load, by the superuser: once
        with app(clerk, ROLE) as c:             # the application: its lookups, and its report once (a query)
            for i, q in enumerate(CLERK_QUERIES * 3):
                c.execute(q, (i,)).fetchall()
            c.execute(REPORT).fetchone()

    with app(clerk) as conn:
        report = api.config(conn, HARDWARE, evidence=around(conn, load))
    work_mem = [(p.target, p.value) for p in report.proposals if p.setting == "work_mem"]
    assert work_mem == [], work_mem       # was ALTER ROLE <the superuser> … SET work_mem, for the load
    spills = [a for a in report.advice if a.symptom == Symptom.TEMP_SPILL]
    queries = [s["query"] for a in spills for s in a.evidence["statements"]]
    assert queries == [REPORT.replace("OFFSET 1", "OFFSET $1")], (queries, report.notes)
    assert any("1 write(s) run at most 3 times" in n for n in report.notes), report.notes
