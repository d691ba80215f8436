"""pgtune on a real-shaped Prisma 6 + Kysely application, beside no new index and an expert's set.

The application is benchmarks/signing_app.py: a document-signing service
modelled on Documenso (schema as its migrations leave it, about 4M rows of
skewed multi-tenant data, 60 statement shapes written from its data-access
code and sent the way Prisma and Kysely send them). Its notes say how those
clients render SQL; this file measures.

One run: the workload goes through the database (pg_stat_statements and
pg_qualstats hold it normalized), pgtune's ``api.suggest`` reads it with
default options, then three index sets are built for real in turn (none, the
expert's set below, pgtune's set) and each is measured on the same concrete
calls, sampled from what the workload really sent:

- planner cost with concrete values: every sampled call EXPLAINed with the
  values it ran with (bound parameters, so the planner sees them as a custom
  plan does), averaged per shape and weighted by the shape's calls;
- measured time: the sampled calls replayed through the same protocol as the
  application (Prisma's named prepared statements, so the plan cache may pick
  a generic plan as it would; Kysely's unnamed ones), writes rolled back; the
  server's execution time from pg_stat_statements, the fastest of three
  replays (after a warm-up one) per shape, in two rounds of the three sets
  (each built again), weighted by calls. A read whose
  plans the set does not change keeps its time with no new index (so the
  sets differ only where their indexes act, not by this shared machine's
  noise); writes are always timed again;
- index count and real MB (pg_relation_size).

Beside them: pgtune's claimed cut (its headline, workload cost before / after)
and the share of parameterized statements it costed with values (its JSON's
``values_source``), with the issue's targets and whether each is met.

The database is built once and kept (``--cache``, default
/var/tmp/pgtune-prisma-app; ``--rebuild`` builds it again); the workload's
writes are rolled back, so the kept data never changes:

    python benchmarks/prisma_app.py [--scale 1] [--calls 1] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import app_measure
import psycopg
import signing_app as app
from app_measure import Call
from psycopg import sql
from tabulate import tabulate

from pgtune import api, ddl
from pgtune.capture import reset_counters
from pgtune.cluster import LocalCluster

DBNAME = "signing_app"
# A server as an application would run it, with the benchmark's kept data: JIT off (its compile time is noise
# in a replay of short statements); the rest as PostgreSQL ships.
SETTINGS = {"shared_buffers": "1GB", "jit": "off", "max_wal_size": "4GB", "maintenance_work_mem": "512MB",
            "checkpoint_timeout": "30min"}


def kept(cache: Path, scale: float, rebuild: bool) -> tuple[LocalCluster, dict[str, Any]]:
    """The kept cluster with the application database (built on first use), and its note: the data's anchor
    time and the application's own indexes."""
    pg = LocalCluster(root=cache / f"pg-s{scale:g}", settings=SETTINGS).start()
    with psycopg.connect(pg.dsn, autocommit=True) as admin:
        if rebuild:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(DBNAME)))
        row = admin.execute("SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
                            (DBNAME,)).fetchone()
        if row is None:
            anchor = datetime.now().replace(microsecond=0)
            loading = DBNAME + "_loading"
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(loading)))
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(loading)))
            started = time.monotonic()
            print(f"building the signing application at scale {scale:g}", file=sys.stderr)
            with psycopg.connect(pg.dsn_for(loading), autocommit=True) as conn:
                app.build(conn, scale, anchor)
                indexes = app_indexes(conn)
            note = json.dumps({"anchor": anchor.isoformat(), "scale": scale, "indexes": indexes})
            admin.execute(sql.SQL("COMMENT ON DATABASE {} IS {}").format(sql.Identifier(loading), sql.Literal(note)))
            admin.execute(sql.SQL("ALTER DATABASE {} RENAME TO {}").format(sql.Identifier(loading),
                                                                          sql.Identifier(DBNAME)))
            print(f"built in {time.monotonic() - started:.0f}s", file=sys.stderr)
            row = (note,)
    note_read: dict[str, Any] = json.loads(row[0])
    return pg, note_read


# What a good DBA builds for these statements, reading their plans: the job queue by status in submission order;
# each per-parent history in its display order (audit logs, security logs, webhook calls); the inbox index the
# application's maintainers later added (a recipient's email with its signing status, envelope and role); the
# rejected-recipients sweep by status and id; the lists by team, status and date; webhooks by team. Plain btree
# indexes only: a partial index on an enum value is never used for Prisma's CAST($1::text AS "Enum") form.
EXPERT = [
    'CREATE INDEX "expert_job_status_submitted" ON "BackgroundJob" ("status", "submittedAt")',
    'CREATE INDEX "expert_audit_envelope_created" ON "DocumentAuditLog" ("envelopeId", "createdAt" DESC)',
    'CREATE INDEX "expert_security_user_created" ON "UserSecurityAuditLog" ("userId", "createdAt" DESC)',
    'CREATE INDEX "expert_webhookcall_webhook_status" ON "WebhookCall" ("webhookId", "status", "createdAt" DESC)',
    'CREATE INDEX "expert_recipient_inbox" ON "Recipient" ("email", "signingStatus", "envelopeId", "role")',
    'CREATE INDEX "expert_recipient_status_id" ON "Recipient" ("signingStatus", "id")',
    'CREATE INDEX "expert_envelope_team_status_created" ON "Envelope" ("teamId", "status", "createdAt" DESC)',
    'CREATE INDEX "expert_envelope_team_created" ON "Envelope" ("teamId", "createdAt" DESC)',
    'CREATE INDEX "expert_webhook_team" ON "Webhook" ("teamId")',
]


@dataclass
class IndexSet:
    """An index set as built and measured: what it is, what it costs on disk, and the workload with it."""

    label: str
    statements: list[str]                              # CREATE INDEX statements, run as they are
    tables: set[str] = field(default_factory=set)      # tables to ANALYZE after the build (expression keys)
    built: list[str] = field(default_factory=list)
    mb: float = 0.0
    cost: dict[str, float] = field(default_factory=dict)
    ms: dict[str, float] = field(default_factory=dict)
    load: float = 0.0                                  # the machine's load average when it was measured
    plans: dict[str, tuple[str, ...]] = field(default_factory=dict)
    replayed: list[str] = field(default_factory=list)  # shapes timed with this set (the others kept none's time)
    rounds: list[float] = field(default_factory=list)  # each round's time of the replayed shapes (the noise)

    @property
    def total_cost(self) -> float:
        return sum(self.cost.values())

    @property
    def total_ms(self) -> float:
        return sum(self.ms.values())


def timed(conn: psycopg.Connection[Any], dsn: str, index_set: IndexSet, none: IndexSet, calls: list[Call],
          ids: dict[int, str], passes: int) -> None:
    """Planner cost (first round) and time of the sample with the set built; a later round keeps the faster.

    A read whose sampled calls all plan as they do with no new index is not timed again (``fill`` gives it
    none's time): the set cannot change how it runs, and a second timing would only add this shared
    machine's noise (the ILIKE searches no btree serves swing by a fifth from one replay to the next).
    Writes are always timed again: a new index costs them upkeep.
    """
    if not index_set.cost:
        index_set.load = os.getloadavg()[0]
        index_set.cost = app_measure.costs(conn, calls)
        index_set.plans = app_measure.plans(conn, calls)
        index_set.replayed = sorted({c.shape.name for c in calls if c.shape.writes or index_set is none
                                     or index_set.plans[c.shape.name] != none.plans[c.shape.name]})
    ms = app_measure.replay(dsn, [c for c in calls if c.shape.name in index_set.replayed], ids, passes=passes)
    index_set.rounds.append(sum(ms.values()))
    index_set.ms = {n: min(t, index_set.ms.get(n, t)) for n, t in ms.items()}


def fill(index_set: IndexSet, none: IndexSet) -> None:
    """Shapes the set left as they were keep none's time."""
    index_set.ms = {**{n: t for n, t in none.ms.items() if n not in index_set.replayed}, **index_set.ms}


def pgtune_set(conn: psycopg.Connection[Any], suggestion: api.Suggestion) -> IndexSet:
    """pgtune's proposed indexes as plain (not concurrent) builds, as the TPC-H benchmark builds them."""
    out = IndexSet("pgtune", [])
    for ix in suggestion.indexes.indexes:
        keys = tuple(ddl.IndexKey(c, d, e) for c, d, e in zip(ix.columns, ix.descending, ix.expressions, strict=True))
        out.statements.append(ddl.create_index(ix.schema, ix.table, ix.name, keys, concurrently=False,
                                               where=ix.where, include=tuple(ix.include)))
        if any(ix.expressions):
            out.tables.add(ix.table)
    return out


def app_indexes(conn: psycopg.Connection[Any]) -> list[str]:
    return [r[0] for r in conn.execute("SELECT c.relname FROM pg_index x JOIN pg_class c ON c.oid = x.indexrelid "
                                       "WHERE c.relnamespace = 'public'::regnamespace ORDER BY 1")]


def drop_except(conn: psycopg.Connection[Any], keep: list[str]) -> None:
    """Drop every index of the public schema not in ``keep`` (a set measured before, or a crashed run's)."""
    for name in app_indexes(conn):
        if name not in keep:
            conn.execute(sql.SQL("DROP INDEX IF EXISTS {}").format(sql.Identifier("public", name)))


@contextmanager
def built(conn: psycopg.Connection[Any], index_set: IndexSet, keep: list[str]) -> Iterator[IndexSet]:
    """The set's indexes exist for the duration (and their real size is recorded); dropped after."""
    try:
        for statement in index_set.statements:
            conn.execute(statement)
        for table in sorted(index_set.tables):
            conn.execute(sql.SQL("ANALYZE {}").format(sql.Identifier("public", table)))
        index_set.built = [n for n in app_indexes(conn) if n not in keep]
        row = conn.execute("SELECT coalesce(sum(pg_relation_size(c.oid)), 0) FROM pg_class c "
                           "WHERE c.relnamespace = 'public'::regnamespace AND c.relname = ANY(%s)",
                           (index_set.built,)).fetchone()
        index_set.mb = (row[0] if row else 0) / 1048576
        yield index_set
    finally:
        drop_except(conn, keep)


@dataclass
class Claim:
    """What pgtune said: its headline, and per statement its costs and where its values came from."""

    seconds: float
    before: float | None
    after: float | None
    statements: list[dict[str, Any]]
    skipped: int
    indexes: list[str]
    skip_reasons: dict[int, str] = field(default_factory=dict)   # queryid -> why pgtune did not cost it
    top: int = 0                                                  # statements pgtune reads (--top)

    def status(self, queryid: int) -> str:
        """What pgtune did with one of the workload's queryids: costed it, skipped it (why), or never read it."""
        if any(st.get("queryid") == queryid for st in self.statements):
            return "costed"
        if queryid in self.skip_reasons:
            return "skipped: " + self.skip_reasons[queryid].split(":")[0]
        return f"not read: outside the {self.top} statements of most total time pgtune reads (--top)"

    @property
    def cut(self) -> float | None:
        return self.before / self.after if self.before and self.after else None

    @property
    def parameterized(self) -> list[dict[str, Any]]:
        return [s for s in self.statements if re.search(r"\$\d", s["query"])]

    @property
    def with_values(self) -> list[dict[str, Any]]:
        """Costed (a cost before and after), with a value for every $n (no generic source, no generic $n)."""
        return [s for s in self.parameterized if s.get("values_source", "generic") != "generic"
                and not s.get("generic_params") and s.get("cost_before") is not None]

    @property
    def not_costed(self) -> list[dict[str, Any]]:
        return [s for s in self.statements if s.get("cost_before") is None]


def advise(conn: psycopg.Connection[Any]) -> tuple[api.Suggestion, Claim]:
    """pgtune's advice on pg_stat_statements with default options, as a new user would ask for it."""
    started = time.monotonic()
    suggestion = api.suggest(conn, api.SuggestOptions())
    seconds = time.monotonic() - started
    d = suggestion.as_dict()
    headline = "valued_cost" if "valued_cost_before" in d else "workload_cost"   # pgtune's headline, by version
    return suggestion, Claim(seconds, d.get(f"{headline}_before"), d.get(f"{headline}_after"),
                             d.get("statements", []), len(d.get("skipped", [])),
                             [ix["ddl"] for ix in d.get("indexes", [])],
                             {s["queryid"]: s["reason"] for s in d.get("skipped", []) if s.get("queryid") is not None},
                             api.SuggestOptions().indexes.workload.top)


def measure(args: argparse.Namespace) -> dict[str, Any]:
    pg, note = kept(args.cache, args.scale, args.rebuild)
    try:
        dsn = pg.dsn_for(DBNAME)
        with psycopg.connect(dsn, autocommit=True) as conn:
            for ext in ("pg_stat_statements", "hypopg", "pg_qualstats"):
                preload = conn.execute("SHOW shared_preload_libraries").fetchone()
                if ext != "pg_qualstats" or (preload and ext in preload[0]):
                    conn.execute(sql.SQL("CREATE EXTENSION IF NOT EXISTS {}").format(sql.Identifier(ext)))
            keep: list[str] = note["indexes"]
            drop_except(conn, keep)                 # a crashed run's indexes
            conn.execute("VACUUM")                  # earlier runs' rolled-back writes; statistics stay as built
            pools = app.pools(conn, datetime.fromisoformat(note["anchor"]))
            reset_counters(conn)
            started = time.monotonic()
            recorder = app.run_workload(conn, pools, calls=args.calls)
            workload_s = time.monotonic() - started
            print(f"workload: {sum(map(len, recorder.calls.values())):,} statements of {len(recorder.calls)} shapes "
                  f"in {workload_s:.0f}s; pgtune suggest…", file=sys.stderr)
            suggestion, claim = advise(conn)
            calls = app_measure.sample(recorder, args.per_shape)
            ids = app_measure.queryids(conn, calls)
            sets = [IndexSet("none", []), IndexSet("expert", list(EXPERT)), pgtune_set(conn, suggestion)]
            for n in range(args.rounds):           # interleaved, so a busy spell on the machine hits every set
                for index_set in sets:
                    print(f"round {n + 1}: measuring {index_set.label}…", file=sys.stderr)
                    with built(conn, index_set, keep):
                        timed(conn, dsn, index_set, sets[0], calls, ids, args.passes)
            for index_set in sets[1:]:
                fill(index_set, sets[0])
    finally:
        pg.stop()
    return report(args, recorder, claim, sets, ids, workload_s)


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def targets(claim: Claim, none: IndexSet, expert: IndexSet, pgtune: IndexSet) -> list[dict[str, Any]]:
    """The issue's three targets, each with the figures it is judged on and whether it is met."""
    measured = _ratio(none.total_cost, pgtune.total_cost)
    off = _ratio(claim.cut, measured)
    share = len(claim.with_values) / len(claim.parameterized) if claim.parameterized else 0.0
    time_share = _ratio(_ratio(none.total_ms, pgtune.total_ms), _ratio(none.total_ms, expert.total_ms))
    return [
        {"target": "pgtune's claimed cost cut within 1.5x of the planner cost cut with concrete values",
         "figures": f"claimed {claim.cut or 0:.2f}x, concrete {measured or 0:.2f}x (ratio {off or 0:.2f})",
         "met": off is not None and 1 / 1.5 <= off <= 1.5},
        {"target": ">= 90% of parameterized statements costed with a value for every $n",
         "figures": f"{len(claim.with_values)} of {len(claim.parameterized)} ({share:.0%})", "met": share >= 0.9},
        {"target": "pgtune's measured time cut >= 0.9x the expert's",
         "figures": f"pgtune {_ratio(none.total_ms, pgtune.total_ms) or 0:.2f}x, expert "
                    f"{_ratio(none.total_ms, expert.total_ms) or 0:.2f}x (= {time_share or 0:.2f})",
         "met": time_share is not None and time_share >= 0.9},
    ]


def per_shape(recorder: app.Recorder, claim: Claim, sets: list[IndexSet], ids: dict[int, str]) -> list[dict[str, Any]]:
    """Per shape: calls, concrete cost and time per call under each set, and what pgtune claimed for it."""
    claimed: dict[str, list[dict[str, Any]]] = {}
    for st in claim.statements:
        if st.get("queryid") in ids:
            claimed.setdefault(ids[st["queryid"]], []).append(st)
    own_ids: dict[str, list[int]] = {}
    for queryid, name in sorted(ids.items()):
        own_ids.setdefault(name, []).append(queryid)
    rows = []
    for name, calls in recorder.calls.items():
        n = len(calls)
        own = claimed.get(name, [])
        rows.append({"shape": name, "client": recorder.shapes[name].client.value, "calls": n,
                     "queryids": {q: claim.status(q) for q in own_ids.get(name, [])},
                     "constructs": sorted({c for st in own for c in app_measure.constructs(st["query"])}),
                     "cost": {s.label: s.cost.get(name, 0.0) / n for s in sets},
                     "ms": {s.label: s.ms.get(name, 0.0) / n for s in sets},
                     "claimed": [{"queryid": st["queryid"], "cost_before": st.get("cost_before"),
                                  "cost_after": st.get("cost_after"), "values_source": st.get("values_source"),
                                  "generic_params": st.get("generic_params", []), "values": st.get("values")}
                                 for st in own]})
    return sorted(rows, key=lambda r: -r["ms"]["none"] * r["calls"])


def agreement(rows: list[dict[str, Any]]) -> tuple[int, int]:
    """Statements whose claimed cut (cost before / after) is within 1.5x of their concrete cut, of those claimed."""
    judged = held = 0
    for r in rows:
        for c in r["claimed"]:
            before, after = c["cost_before"], c["cost_after"]
            concrete = _ratio(r["cost"]["none"], r["cost"]["pgtune"])
            if before and after and concrete:
                judged += 1
                held += 1 / 1.5 <= (before / after) / concrete <= 1.5
    return held, judged


def _claim_text(row: dict[str, Any]) -> str:
    parts = []
    for c in row["claimed"]:
        before, after = c["cost_before"], c["cost_after"]
        costs_text = f"{before:,.0f}->{after:,.0f}" if before is not None and after is not None else "not costed"
        parts.append(f"{costs_text} ({c['values_source']})")
    # Not costed: say why (pgtune skipped it, or never read it), never a bare dash.
    parts += sorted({s for s in row["queryids"].values() if s != "costed"})
    return "; ".join(parts) or "-"


def report(args: argparse.Namespace, recorder: app.Recorder, claim: Claim, sets: list[IndexSet],
           ids: dict[int, str], workload_s: float) -> dict[str, Any]:
    none, expert, pgtune = sets
    print(f"\nSigning application (Prisma 6 + Kysely) at scale {args.scale:g}: "
          f"{sum(map(len, recorder.calls.values())):,} statements of {len(recorder.calls)} shapes in "
          f"{workload_s:.0f}s; pgtune suggest took {claim.seconds:.0f}s. Costs and times are Σ calls × per-call "
          f"figures over {args.per_shape} sampled calls per shape, with the values they ran with.\n")
    rows = []
    for s in sets:
        claimed = f"{claim.cut:.2f}x ({claim.before:,.0f} -> {claim.after:,.0f})" if s is pgtune and claim.cut else "-"
        with_values = f"{len(claim.with_values)}/{len(claim.parameterized)}" if s is pgtune else "-"
        rows.append([s.label, len(s.built), f"{s.mb:.0f}", claimed, f"{s.total_cost:,.0f}",
                     f"{none.total_cost / s.total_cost:.2f}x", f"{s.total_ms:,.0f}",
                     f"{none.total_ms / s.total_ms:.2f}x", with_values])
    print(tabulate(rows, headers=["index set", "indexes", "MB", "claimed cut (headline)", "planner cost (values)",
                                  "cost cut", "measured ms", "time cut", "costed with values"],
                   disable_numparse=True))
    print(f"(load average when measured: {', '.join(f'{s.label} {s.load:.1f}' for s in sets)}, on 2 cores; "
          f"shapes whose plans changed, timed again with the set: "
          f"{', '.join(f'{s.label} {len(s.replayed)}' for s in sets[1:])}, of which writes "
          f"{sum(app.shapes()[n].writes for n in sets[1].replayed)}; the same replay's time from round to round: "
          f"{'; '.join(s.label + ' ' + ', '.join(f'{t:,.0f}' for t in s.rounds) + ' ms' for s in sets)})")
    checks = targets(claim, none, expert, pgtune)
    print()
    print(tabulate([[c["target"], c["figures"], "met" if c["met"] else "NOT MET"] for c in checks],
                   headers=["issue 23 target", "figures", ""], disable_numparse=True))
    shapes_rows = per_shape(recorder, claim, sets, ids)
    print("\nPer shape (per call; costliest measured first):\n")
    print(tabulate([[r["shape"], r["client"], r["calls"], *(f"{r['cost'][s.label]:,.0f}" for s in sets),
                     *(f"{r['ms'][s.label]:.2f}" for s in sets), _claim_text(r)] for r in shapes_rows],
                   headers=["shape", "client", "calls", "cost none", "expert", "pgtune", "ms none", "expert",
                            "pgtune", "pgtune's claim (values)"], disable_numparse=True))
    held, judged = agreement(shapes_rows)
    status = [s for r in shapes_rows for s in r["queryids"].values()]
    print(f"\nEvery shape's queryid (EXPLAIN VERBOSE, as pg_stat_statements counts it): {len(status)} queryids of "
          f"{len(shapes_rows)} shapes; pgtune costed {status.count('costed')}, skipped "
          f"{sum(s.startswith('skipped') for s in status)} (no filter: inserts), did not read "
          f"{sum(s.startswith('not read') for s in status)} (outside --top {claim.top} by total time).")
    print(f"\npgtune's per-statement claimed cut within 1.5x of the concrete one: {held} of {judged}; statements "
          f"it did not cost (left out of its headline): {len(claim.not_costed)}. Statements not costed with a "
          "value for every $n, and the ORM constructs they carry:")
    for r in shapes_rows:
        if any(c["values_source"] == "generic" or c["cost_before"] is None or c.get("generic_params")
               for c in r["claimed"]):
            print(f"  {r['shape']} ({r['client']}, {r['calls']} calls): {_claim_text(r)}; "
                  f"{', '.join(r['constructs']) or '-'}")
    for s in (expert, pgtune):
        print(f"\n{s.label} ({len(s.built)} indexes, {s.mb:.0f} MB):")
        for statement in (EXPERT if s is expert else claim.indexes):
            print(f"  {statement}")
    return {"scale": args.scale, "calls": args.calls, "statements": sum(map(len, recorder.calls.values())),
            "shapes": len(recorder.calls), "per_shape_sample": args.per_shape, "suggest_seconds": claim.seconds,
            "claimed": {"before": claim.before, "after": claim.after, "cut": claim.cut},
            "parameterized": len(claim.parameterized), "costed_with_values": len(claim.with_values),
            "not_costed": len(claim.not_costed),
            "skipped": claim.skipped,
            "sets": [{"label": s.label, "indexes": s.built, "mb": s.mb, "planner_cost": s.total_cost,
                      "measured_ms": s.total_ms, "load_average": s.load, "timed_again": s.replayed,
                      "round_ms": s.rounds}
                     for s in sets],
            "claims_within_1_5x": {"held": held, "judged": judged},
            "targets": checks, "per_shape": shapes_rows, "pgtune_indexes": claim.indexes, "expert_indexes": EXPERT}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cache", type=Path, default=Path("/var/tmp/pgtune-prisma-app"),
                    help="where the built cluster is kept between runs")
    ap.add_argument("--scale", type=float, default=1.0, help="1: about 4M rows; 0.01 for a quick look")
    ap.add_argument("--calls", type=float, default=1.0, help="workload size (1: about 10,000 statements)")
    ap.add_argument("--per-shape", type=int, default=20, help="calls sampled per shape for costs and replays")
    ap.add_argument("--passes", type=int, default=3, help="timed replays of the sample per index set (after one "
                    "warm-up replay); the fastest is kept per shape")
    ap.add_argument("--rounds", type=int, default=2, help="rounds of none, expert, pgtune, each set built "
                    "again; the fastest round is kept per shape")
    ap.add_argument("--rebuild", action="store_true", help="build the kept database again")
    ap.add_argument("--build-only", action="store_true", help="build (or check) the kept database and stop")
    ap.add_argument("--json", type=Path, help="also write the figures here")
    args = ap.parse_args()
    if args.build_only:
        kept(args.cache, args.scale, args.rebuild)[0].stop()
        return
    result = measure(args)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, default=str))


if __name__ == "__main__":
    main()
