"""verify's JUnit report: one testcase per targeted statement, for a CI system to show."""

from __future__ import annotations

from pathlib import Path
from xml.etree import ElementTree as ET

from .errors import InputError
from .verify import Verification


def check_report_path(path: Path) -> None:
    """Refuse an unwritable report path before verify does its work, not after.

    The file is opened for appending (and removed again if it did not exist),
    which asks the file system itself rather than guessing from permissions.
    """
    path = Path(path)
    if path.is_dir():
        raise InputError(f"cannot write the JUnit report to {path}: it is a folder")
    existed = path.exists()
    try:
        with open(path, "a", encoding="utf-8"):
            pass
    except OSError as exc:
        raise InputError(f"cannot write the JUnit report to {path}: {exc.strerror or exc}") from None
    if not existed:
        path.unlink(missing_ok=True)


def junit(result: Verification, path: Path) -> None:
    """Write a JUnit XML report: one testcase per targeted statement."""
    undone = len(result.targets) if result.rolled_back else sum(t.verdict == "rolled-back" for t in result.targets)
    suite = ET.Element("testsuite", name=f"pgtune verify {result.migration_id}",
                       tests=str(len(result.targets)), skipped=str(undone),
                       failures=str(0 if result.rolled_back else sum(not t.ok for t in result.targets)))
    for t in result.targets:
        name = f"{t.name} (queryid {t.queryid})" if t.queryid is not None else t.name
        case = ET.SubElement(suite, "testcase", classname="pgtune.verify", name=name)
        if result.rolled_back:      # no failure: the migration is rolled back, nothing to verify (n38)
            ET.SubElement(case, "skipped", message=f"migration {result.migration_id} is rolled back")
        elif t.verdict == "rolled-back":     # its indexes' phase rolled back on purpose: no failure (v39)
            ET.SubElement(case, "skipped", message=t.problem)
        elif not t.ok:
            ET.SubElement(case, "failure", message=t.problem).text = t.query
        out = ET.SubElement(case, "system-out")
        out.text = (f"used: {', '.join(t.used) or '-'}; cost {t.baseline_cost} -> {t.cost}"
                    + (f"; not compared with its baseline: {t.not_compared}" if t.not_compared else "")
                    + (f"; {t.note}" if t.note else ""))
    try:
        ET.ElementTree(suite).write(path, encoding="utf-8", xml_declaration=True)
    except OSError as exc:
        raise InputError(f"cannot write the JUnit report to {path}: {exc.strerror or exc}") from None
