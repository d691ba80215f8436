"""pgtune baseline: take again, before deploy, the baselines of the targets whose values a DBA edited."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click
from tabulate import tabulate

from .._text import counted, one_line
from ..connect import connect
from .shell import Format, dsn_option, emit_json, format_option, handle_errors, progress

SLOWER = 1.25      # verify's --time-tolerance default: a predicted time this much over the baseline is a slowdown

if TYPE_CHECKING:
    from ..baseline_retake import BaselineReport, retake


def _library() -> None:
    """The library this command runs, imported once its options are parsed: a usage error answers before it
    loads (c20)."""
    global BaselineReport, retake
    from ..baseline_retake import BaselineReport, retake


@click.command()
@click.argument("directory", type=click.Path(path_type=Path, file_okay=False))
@dsn_option
@format_option
@handle_errors
def baseline(directory: Path, dsn: str | None, fmt: str) -> None:
    """Time the baselines again with the values you put in targets.json, before apply.

    emit plans and times each target with the values it chose (often the
    biggest tenant's). Edit a target's values (its "values" and
    "scenarios[].values") in targets.json, then run this: the targets whose
    values changed are planned and timed again as emit did, their predicted
    cost predicted again with HypoPG (else dropped), and targets.json and its
    checksum rewritten, so apply accepts the folder and verify compares them.
    Refuses (exit 1, nothing written) any other edit, a migration applied
    in part or any of whose indexes exists (a baseline is of the tables
    without them), and while a pgtune apply or rollback runs on the database
    (it holds their lock meanwhile: an apply started then is refused too).

    \b
    Example:
      pgtune suggest --emit migrations/2026-11-tuning
      $EDITOR migrations/2026-11-tuning/targets.json   # a typical small site's id
      pgtune baseline migrations/2026-11-tuning
      pgtune apply migrations/2026-11-tuning
      pgtune verify migrations/2026-11-tuning --measure
    """
    _library()
    with connect(dsn) as conn:
        report = retake(conn, directory, progress=progress)
    if fmt == Format.JSON:
        emit_json(report.as_dict())
    else:
        _render(report)


def _render(report: BaselineReport) -> None:
    if not report.written:
        click.echo(f"baseline: nothing to do ({report.migration_id}): targets.json holds the values emit timed")
        return
    click.echo(tabulate([[r.name, one_line(_values(r.values), 50), _pair(r.baseline_cost_before, r.baseline_cost),
                          _pair(r.baseline_ms_before, r.baseline_ms, " ms"), _shown(r.predicted_cost),
                          _shown(r.predicted_ms, " ms"), r.baseline_how or r.baseline_note]
                         for r in report.targets],
                        headers=["statement", "values", "cost before (emit → now)", "time before (emit → now)",
                                 "predicted cost", "predicted time", "how timed"],
                        disable_numparse=True))
    for r in report.targets:
        if r.predicted.startswith("dropped"):
            click.echo(f"note: {r.name}: predicted cost {r.predicted}; verify compares it with its baseline only")
        elif r.predicted_ms is not None and r.baseline_ms is not None and r.predicted_ms > r.baseline_ms * SLOWER:
            # The index chosen for emit's values may not serve yours (a small tenant's few rows): said before deploy.
            click.echo(f"note: {r.name}: predicted {r.predicted_ms:,.2f} ms with the migration's indexes, slower than "
                       f"the {r.baseline_ms:,.2f} ms timed now without them, for these values (a prediction: "
                       "verify --measure times it after apply)")
    click.echo(f"baseline: {report.migration_id}: {counted(len(report.targets), 'baseline')} taken again for the "
               f"values in targets.json, {report.unchanged} as emit took them; targets.json and its checksum rewritten")


def _values(values: dict[str, str | None]) -> str:
    return ", ".join(f"{k} = {'NULL' if v is None else repr(v)}" for k, v in values.items()) or "-"


def _pair(before: float | None, now: float | None, unit: str = "") -> str:
    return f"{_shown(before, unit)} → {_shown(now, unit)}"


def _shown(x: float | None, unit: str = "") -> str:
    return "-" if x is None else f"{x:,.2f}{unit}"
