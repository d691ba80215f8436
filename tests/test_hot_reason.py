"""The HOT part of a proposal's reason says what is true (u's F10): an index holding a column the UPDATEs set, on a
table where those UPDATEs already set an indexed column, takes no HOT update away; it was worded "keeps HOT updates:
sets none of the columns … change". Pure wording over the catalog's indexes and the UPDATE statements."""

from __future__ import annotations

from pgtune.analyze.hot import HotWrites, TableHot, UpdateStatement
from pgtune.capture import Catalog, Index, Table

JOBS = ("public", "jobs")


def _writes() -> HotWrites:
    catalog = Catalog(tables={JOBS: Table("public", "jobs", ("id", "queue", "finished", "note"))},
                      indexes=[Index("public", "jobs", "jobs_finished_idx", ("finished",), key_defs=("finished",))])
    finish = UpdateStatement(1, "UPDATE jobs SET finished = now() WHERE id = $1", JOBS, frozenset({"finished"}),
                             50, 5000)
    note = UpdateStatement(2, "UPDATE jobs SET note = $1 WHERE id = $2", JOBS, frozenset({"note"}), 10, 100)
    return HotWrites(catalog, updates={JOBS: [finish, note]}, tables={JOBS: TableHot(5100, 100, 100, 1)})


def test_an_index_on_a_column_already_indexed_by_its_updates_loses_no_hot() -> None:
    reason = _writes().reason(JOBS, ["queue", "finished"])
    assert reason.startswith("no HOT update to lose"), reason
    assert "set finished" in reason


def test_an_index_the_updates_never_touch_keeps_hot() -> None:
    assert _writes().reason(JOBS, ["queue"]) == "keeps HOT updates: holds none of the columns 2 UPDATE statements set"
