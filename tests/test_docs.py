"""Docs that describe code are checked against it."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner

from pgtune.analyze import (
    Advice,
    AnalyzedStatement,
    CurvePoint,
    IndexSuggestion,
    Method,
    QueryRef,
    Rejected,
    Skipped,
)
from pgtune.analyze.extended_stats import StatisticsProposal
from pgtune.cli import cli
from pgtune.constraints import ConstraintAdvice, Finding, Proposal, Skip
from pgtune.health import CHECKS, CheckId, HealthReport, Severity
from pgtune.health import Finding as HealthFinding
from pgtune.prisma.advice import PrismaProposal

DOCS = Path(__file__).resolve().parent.parent / "docs"


def documented(section: str) -> set[str]:
    text = (DOCS / "suggest-json.md").read_text()
    part = text.split(f"## {section}", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\| `(\w+)` \|", part, flags=re.M))


def fields(cls: type) -> set[str]:
    return {f.name for f in dataclasses.fields(cls)}


def test_suggest_json_schema_matches_the_code() -> None:
    assert documented("Top level") == (set(Advice(Method.HYPOPG).as_dict()) | fields(ConstraintAdvice) | {"prisma"})
    assert documented("`prisma.proposals[]`") == fields(PrismaProposal)
    assert documented("`curve[]`") == fields(CurvePoint)
    assert documented("`constraints[]`") == fields(Proposal)
    assert documented("`findings[]`") == fields(Finding)
    assert documented("`unproven[]`") == fields(Skip)
    assert documented("`indexes[]`") == fields(IndexSuggestion)
    assert documented("`statements[]`") == fields(AnalyzedStatement)
    assert documented("`skipped[]`") == fields(Skipped)
    assert documented("`rejected[]`") == fields(Rejected)
    assert documented("`statistics[]`") == fields(StatisticsProposal)
    text = (DOCS / "suggest-json.md").read_text()
    for name in fields(QueryRef):
        assert f"`{name}`" in text


def health_documented(section: str) -> set[str]:
    text = (DOCS / "health-json.md").read_text()
    part = text.split(f"## {section}", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\| `(\w+)` \|", part, flags=re.M))


def test_health_json_schema_matches_the_code() -> None:
    assert health_documented("Top level") == set(HealthReport().as_dict())
    finding = HealthFinding(CheckId.INVALID_INDEX, Severity.ERROR, "public", "t", "i", "m")
    assert health_documented("`findings[]`") == set(finding.as_dict())


def test_every_check_has_its_page() -> None:
    pages = {p.stem for p in (DOCS / "checks").glob("*.md")}
    assert pages == {c.id for c in CHECKS} == {i.value for i in CheckId}    # one check per id, each id run
    for c in CHECKS:
        assert f"`{c.id}`" in (DOCS / "health-json.md").read_text()
        assert (DOCS / "checks" / f"{c.id}.md").read_text().startswith(f"# `{c.id}` ")


def test_cli_reference_is_current() -> None:
    """docs/cli.md is the commands' own --help; regenerate it with python -m pgtune.clidoc > docs/cli.md."""
    from pgtune.clidoc import render

    assert (DOCS / "cli.md").read_text() == render(), "docs/cli.md is stale: python -m pgtune.clidoc > docs/cli.md"


def config_documented(section: str) -> set[str]:
    text = (DOCS / "config-json.md").read_text()
    part = text.split(f"## {section}\n", 1)[1].split("\n## ", 1)[0].split("\n### ", 1)[0]
    return set(re.findall(r"^\| `(\w+)` \|", part, flags=re.M))


def test_config_json_schema_matches_the_code() -> None:
    from pgtune.apply import SettingStatus
    from pgtune.config import Advice, ConfigReport, MemoryBudget, Proposal
    from pgtune.config.hardware import Hardware
    from pgtune.config.profile import ProfileConfig
    from pgtune.config.verify import ConfigVerification, SettingCheck

    assert config_documented("Top level") == set(ConfigReport("", "", True, {}, {}).as_dict())
    assert config_documented("`proposals[]`") == fields(Proposal)
    assert config_documented("`advice[]`") == fields(Advice)
    assert config_documented("`budget`") == fields(MemoryBudget)
    assert config_documented("`pgtune status --format json` on a config migration: `settings[]`") \
        == fields(SettingStatus)
    verify = config_documented("`pgtune verify --format json` on a config migration")
    assert verify == set(ConfigVerification("", {}).as_dict())
    assert config_documented("`checks[]`") == fields(SettingCheck) | {"ok"}
    text = (DOCS / "config-json.md").read_text()
    assert config_documented("`pgtune config --profile … --format json`") == fields(ProfileConfig)
    for name in fields(Hardware):
        assert f"`{name}`" in text


def test_every_setting_family_has_its_page() -> None:
    from pgtune.config import Family

    pages = {p.stem for p in (DOCS / "settings").glob("*.md")}
    assert pages == {str(f) for f in Family}


def page_documented(page: str, section: str) -> set[str]:
    text = (DOCS / page).read_text()
    part = text.split(f"## {section}\n", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\| `(\w+)` \|", part, flags=re.M))


def test_apply_and_rollback_json_match_the_code() -> None:
    from pgtune.api import Report
    from pgtune.apply import Outcome, StepResult

    report = Report("m", steps=[StepResult(1, "SELECT 1", Outcome.DONE)])
    assert page_documented("apply-json.md", "Top level") == set(report.as_dict())
    assert page_documented("apply-json.md", "`steps[]`") == fields(StepResult) == set(report.as_dict()["steps"][0])
    text = (DOCS / "apply-json.md").read_text()
    for outcome in Outcome:
        assert f"`{outcome}`" in text


def test_status_json_matches_the_code() -> None:
    from pgtune.api import Status
    from pgtune.apply import IndexSize, PhaseStatus
    from pgtune.history import PhaseState

    status = Status("m", [PhaseStatus(1, "indexes", PhaseState.PENDING, sizes=[IndexSize("i", 1, None)])], [])
    found = status.as_dict()
    assert page_documented("status-json.md", "Top level") == set(found) | {"settings"}
    assert page_documented("status-json.md", "`phases[]`") == fields(PhaseStatus) == set(found["phases"][0])
    assert page_documented("status-json.md", "`phases[].sizes[]`") == fields(IndexSize)
    text = (DOCS / "status-json.md").read_text()
    for state in PhaseState:
        assert f"`{state}`" in text


def test_verify_json_schema_matches_the_code() -> None:
    """verify's result as pgtune.api returns it, field by field and every closed set's values."""
    from pgtune import api
    from pgtune.apply import IndexSize

    doc = (DOCS / "verify-json.md").read_text()

    def section(name: str) -> set[str]:
        part = doc.split(f"## {name}", 1)[1].split("\n## ", 1)[0]
        return set(re.findall(r"^\| `(\w+)` \|", part, flags=re.M))

    target = api.TargetResult(queryid=1, name="select t #000000", query="SELECT 1", expected=["i"], used=["i"],
                              plan_indexes=["i"], baseline_cost=1000.0, predicted_cost=10.0, cost=10.0)
    data = api.Verification("m", targets=[target], sizes=[IndexSize("i", 1, 2)]).as_dict()
    assert section("Top level") == set(data)
    assert section("`targets[]`") == set(data["targets"][0])
    assert section("`sizes[]`") == set(data["sizes"][0])
    quoted = set(re.findall(r'`"([\w-]+)"`', doc))
    assert {v.value for v in api.Verdict} <= quoted
    assert {m.value for m in api.Measurement} <= quoted
    assert data["agree_within"] == api.DISAGREEMENT and f"{api.DISAGREEMENT}: `pgtune.verify.DISAGREEMENT`" in doc


def test_suggest_json_closed_sets_are_the_code_enums() -> None:
    """A field whose values are a closed set lists exactly its StrEnum's values (the JSON carries them as text)."""
    from enum import StrEnum

    from pgtune.analyze import StepKind
    from pgtune.constraints import Confidence
    from pgtune.prisma.advice import Fit, ProposalKind

    doc = (DOCS / "suggest-json.md").read_text()

    def values(section: str, name: str) -> set[str]:
        part = doc.split(f"## {section}", 1)[1].split("\n## ", 1)[0]
        row = next(line for line in part.splitlines() if line.startswith(f"| `{name}` |"))
        return set(re.findall(r'`"?([\w-]+)"?`', re.split(r"(?<!\\)\|", row)[2]))

    closed: list[tuple[str, str, type[StrEnum]]] = [
        ("`constraints[]`", "confidence", Confidence),
        ("`prisma.proposals[]`", "kind", ProposalKind), ("`prisma.proposals[]`", "fit", Fit),
        ("`curve[]`", "action", StepKind)]
    for section, name, enum in closed:
        assert values(section, name) == {m.value for m in enum}, (section, name)


# Lines pgtune prints (hints, reasons, verify's text) and the page that explains each (r11 F11): each fragment
# is in the code that prints it and, whitespace aside, on its page.
PRINTED = [
    ("pgtune/analyze/dependent_keys.py", " narrowed to ", "selection.md"),
    ("pgtune/analyze/dependent_keys.py", '" left out: ', "selection.md"),
    ("pgtune/analyze/dependent_keys.py", "CREATE STATISTICS (dependencies) ON ", "selection.md"),
    ("pgtune/analyze/pool.py", " behind a session pooler: each what-if session holds one of the pool's ", "prisma.md"),
    ("pgtune/cli/verify.py", "NOT CHECKED", "tutorial.md"),
    ("pgtune/cli/verify.py", '("skip", "yellow")', "tutorial.md"),
    ("pgtune/verify_phases.py", "is rolled back", "tutorial.md"),
    ("pgtune/cli/verify.py", "none of its indexes is built): nothing to verify; its ", "tutorial.md"),
    ("pgtune/verify_phases.py", "so the statements that need them fail here", "tutorial.md"),
    ("pgtune/capabilities.py", "FORCE ROW LEVEL SECURITY, which binds the owner too", "roles.md"),
]


def test_printed_lines_are_documented() -> None:
    root = DOCS.parent
    for source, fragment, page in PRINTED:
        assert fragment in (root / source).read_text(), (source, fragment)
        shown = fragment.split('"')[1] if fragment.startswith('("') else fragment    # a table mark: its text
        text = " ".join((DOCS / page).read_text().replace("`", "").split())
        assert shown in text, (page, shown)


# A real run's JSON against the pages' `evidence` rows (p26: a DBA reading `--format json` found keys that
# health-json.md and suggest-json.md never named: `references`, `on_delete`, `min`, `type`, `pair`, …).

def _evidence_row(page: str, section: str) -> str:
    part = (DOCS / page).read_text().split(f"## {section}", 1)[1].split("\n## ", 1)[0]
    return next(line for line in part.splitlines() if line.startswith("| `evidence` |"))


def _undocumented(items: list[dict[str, Any]], row: str) -> dict[str, list[str]]:
    return {str(item.get("check") or item.get("kind")): sorted(k for k in item["evidence"] if f"`{k}`" not in row)
            for item in items if any(f"`{k}`" not in row for k in item["evidence"])}


def test_health_evidence_keys_of_a_real_run_are_documented(db: str) -> None:
    with psycopg.connect(db, autocommit=True) as conn:
        conn.execute("CREATE TABLE account (id bigint PRIMARY KEY, email text)")
        conn.execute("CREATE TABLE post (id bigint PRIMARY KEY, account_id bigint REFERENCES account ON DELETE "
                      "CASCADE, kind text, at timestamptz)")
        conn.execute("INSERT INTO account SELECT g, 'u' || g FROM generate_series(1, 2000) g")
        conn.execute("INSERT INTO post SELECT g, 1 + g % 2000, 'k' || g % 3, now() FROM generate_series(1, 5000) g")
        conn.execute("CREATE INDEX post_kind_a ON post (kind)")
        conn.execute("CREATE INDEX post_kind_b ON post (kind)")
        conn.execute("CREATE INDEX post_at_kind ON post (at, kind)")
        conn.execute("CREATE INDEX post_at ON post (at)")
        conn.execute("CREATE SEQUENCE ticket_seq AS smallint")
        conn.execute("SELECT setval('ticket_seq', 32000)")
        conn.execute("ANALYZE")
    result = CliRunner().invoke(cli, ["health", "--dsn", db, "--format", "json"], catch_exceptions=False)
    findings = json.loads(result.stdout)["findings"]
    assert {"foreign-key-without-index", "duplicate-index", "overlapping-index",
            "sequence-near-overflow"} <= {f["check"] for f in findings}, findings
    assert not _undocumented(findings, _evidence_row("health-json.md", "`findings[]`"))


def test_suggest_constraint_evidence_keys_of_a_real_run_are_documented(db: str) -> None:
    with psycopg.connect(db, autocommit=True) as conn:
        conn.execute('CREATE TABLE booking (id bigint PRIMARY KEY, "seatsCount" integer NOT NULL DEFAULT 0, '
                     "status text NOT NULL DEFAULT 'HELD', priority integer DEFAULT 1, "
                     '"startDate" timestamptz NOT NULL, "endDate" timestamptz NOT NULL)')
        conn.execute("INSERT INTO booking SELECT g, g % 7, (ARRAY['HELD', 'PAID', 'GONE'])[1 + g % 3], g % 5, "
                     "now() - g * interval '1 hour', now() - g * interval '1 hour' + interval '2 days' "
                     "FROM generate_series(1, 3000) g")
        conn.execute("ANALYZE booking")
    result = CliRunner().invoke(cli, ["suggest", "--dsn", db, "--format", "json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    proposed = json.loads(result.stdout)["constraints"]
    assert {"non-negative", "value-set", "not-null", "column-order"} <= {c["kind"] for c in proposed}, proposed
    assert not _undocumented(proposed, _evidence_row("suggest-json.md", "`constraints[]`"))


def test_selection_page_states_the_overlap_rule_the_code_applies() -> None:
    """c24's rule for a second index on an existing one's leading column was on no page (p26)."""
    from pgtune.analyze import overlap

    text = " ".join((DOCS / "selection.md").read_text().split())
    rule = (f"at least {overlap.OVERLAP_CUT:g}× cheaper and saves {overlap.OVERLAP_SHARE:.0%} of the workload's "
            f"cost, or saves {overlap.OVERLAP_CARRY:.0%} whatever the cut")
    assert rule in text, rule


def test_every_setting_pgtune_sessions_force_is_named_in_the_readme(db: str) -> None:
    """r22 made pgtune's sessions speak English (lc_messages = C) where the role may: the README's guarantees,
    which name the session's settings, did not say so (p26). A German database default makes it set."""
    from pgtune.connect import connect

    with psycopg.connect(db, autocommit=True) as conn:
        try:
            conn.execute("SET lc_messages = 'de_DE.utf8'")
        except psycopg.errors.InvalidParameterValue:
            pytest.skip("no de_DE.utf8 locale on the server's host (localedef -i de_DE -f UTF-8 de_DE.UTF-8)")
        conn.execute(psycopg.sql.SQL("ALTER DATABASE {} SET lc_messages = 'de_DE.utf8'").format(
            psycopg.sql.Identifier(conn.info.dbname)))
    with connect(db) as conn:
        forced = {name for (name,) in conn.execute("SELECT name FROM pg_settings WHERE source = 'session'")}
    assert "lc_messages" in forced, forced
    readme = (DOCS.parent / "README.md").read_text()
    guarantees = readme.split("## What pgtune guarantees about the SQL it runs", 1)[1].split("\n## ", 1)[0]
    assert not {name for name in forced if f"`{name}" not in guarantees}, forced
