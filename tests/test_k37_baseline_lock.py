"""pgtune baseline and an apply of the same migration keep apart: the baseline takes apply's advisory lock (k37).

A baseline is timed on the tables without the migration's indexes; it checks that none exists, then plans and
times for seconds. An apply of the same migration (a deploy from the committed folder while the DBA takes the
baseline of an edited copy) could start building them meanwhile: the "before" would be timed with them, or on a
table an index build is reading. So baseline holds the lock apply holds, from that check to the files written:
while an apply holds it, baseline is refused with nothing written; while baseline holds it, apply is refused.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner

from pgtune import api, baseline_retake, plan
from pgtune.apply import ADVISORY_KEY, AdvisoryLock
from pgtune.cli import cli
from pgtune.errors import LockBusy

from .test_v36_verify_edited_values import _edit, _emitted, _site


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def _indexes(conn: psycopg.Connection[Any], m: plan.Migration) -> list[str]:
    names = [ix.name for p in m.phases for ix in p.indexes]
    return [r[0] for r in conn.execute("SELECT indexname FROM pg_indexes WHERE indexname = ANY(%s)", (names,))]


def test_baseline_is_refused_while_an_apply_holds_the_lock(db: str, conn: psycopg.Connection[Any],
                                                           tmp_path: Path) -> None:
    folder = tmp_path / "umami"
    big = _emitted(conn, folder)
    _edit(folder, "website_event", big, _site(conn, 200))
    edited = _files(folder)
    with psycopg.connect(db, autocommit=True) as applier, \
            AdvisoryLock(applier, ADVISORY_KEY, wait=0, say=lambda _: None):      # as Applier.apply holds it
        refused = CliRunner().invoke(cli, ["baseline", str(folder), "--dsn", db, "--format", "table"])
        assert refused.exit_code == 1, refused.output
        assert f"backend pid {applier.info.backend_pid}" in refused.output, refused.output
        assert "baseline refused: it times the tables without the migration's indexes" in refused.output
        assert _files(folder) == edited
    taken = CliRunner().invoke(cli, ["baseline", str(folder), "--dsn", db, "--format", "json"])
    assert taken.exit_code == 0, taken.output           # the lock given back: the same command goes through


def test_an_apply_is_refused_while_the_baseline_is_timed(db: str, conn: psycopg.Connection[Any], tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    folder, committed = tmp_path / "umami", tmp_path / "committed"
    big = _emitted(conn, folder)
    shutil.copytree(folder, committed)       # the folder as emitted: what a deploy applies
    _edit(folder, "website_event", big, _site(conn, 200))
    m = plan.load(committed)
    refusals: list[str] = []
    timing = baseline_retake._taken

    def apply_meanwhile(*args: Any, **kwargs: Any) -> Any:
        with psycopg.connect(db, autocommit=True) as deploy:
            try:
                api.apply(deploy, committed)
            except LockBusy as busy:
                refusals.append(str(busy))
        assert _indexes(conn, m) == []        # no index built under the baseline timed now
        return timing(*args, **kwargs)

    monkeypatch.setattr(baseline_retake, "_taken", apply_meanwhile)
    report = baseline_retake.retake(conn, folder)
    assert report.written and len(report.targets) == 1, report
    assert len(refusals) == 1 and "another pgtune apply, rollback or baseline is running" in refusals[0], refusals
    assert f"backend pid {conn.info.backend_pid}" in refusals[0], refusals
    monkeypatch.undo()
    assert api.apply(conn, committed).phases_run      # and after it, apply goes through
