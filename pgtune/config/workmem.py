"""work_mem where queries spill, at the narrowest scope that covers them, and server-wide only when it is safe.

A query whose sort or hash does not fit in work_mem writes temporary files
(pg_stat_statements.temp_blks_written). pgtune sizes the need at about twice
what a call spilled (a sort's or hash's tuples take more room in memory than
in their file), rounded up to a power of two MB — twice the value it ran under
(the role's own, else the server's) when that already holds it — and chooses the scope:

- a few statements of a role (at most three, and at most a tenth of the
  queries it ran): advice to run those statements with ``SET LOCAL
  work_mem`` in their transaction — the rest of the role keeps its plans;
- the statements of some roles: ``ALTER ROLE … IN DATABASE … SET work_mem``
  for each;
- spills everywhere (two roles or more, which spent together at least 90%
  of the workload's query time): one server-wide value, but only when the memory budget
  carries it for every connection (after the restart and until it);
  otherwise per role, each held to what the budget allows.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from ..errors import InputError
from . import budget
from .context import Context
from .evidence import StatementStats
from .model import Advice, Family, Symptom
from .units import MB, human, parse_size, round_up_mb, size
from .workload import ONE_OFF_CALLS

SPILL_FACTOR = 2.0          # memory a spilled sort or hash needs, per byte of its temporary file
MIN_SPILL_BYTES = 1 * MB    # a smaller spill per call is noise
FEW_STATEMENTS = 3          # at most this many spilling statements …
FEW_SHARE = 0.1             # … and at most this share of the role's queries: SET LOCAL for them
WIDESPREAD_SHARE = 0.9      # roles that spill spent this share of the query time: server-wide
QUERY = re.compile(r"^\s*(\(\s*)*(select|with|insert|update|delete|merge|values|table)\b", re.IGNORECASE)
WRITE = re.compile(r"^\s*(insert|update|delete|merge)\b", re.IGNORECASE)


@dataclass
class Need:
    role: str
    statements: list[StatementStats]
    worst: float                    # the largest spill per call
    want: int                       # the work_mem that holds it
    own: str | None                 # the role's own work_mem in this database

    @property
    def temp_bytes(self) -> int:
        return sum(s.temp_blks_written for s in self.statements) * 8192

    def evidence(self, cap: int | None) -> dict[str, Any]:
        top = sorted(self.statements, key=lambda s: -s.temp_blks_written)[:3]
        return {"statements": [{"queryid": s.queryid, "query": s.query[:200], "calls": s.calls,
                                "temp_bytes_per_call": int(s.temp_blks_written * 8192 / s.calls)} for s in top],
                "temp_bytes": self.temp_bytes, "largest_spill_per_call": int(self.worst), "budget_cap": cap}


def spill_per_call(st: StatementStats) -> float:
    return st.temp_blks_written * 8192 / st.calls if st.calls > 0 else 0.0


def needs(ctx: Context) -> list[Need]:
    """Per role, the queries that spilled and the work_mem that would hold them."""
    spills: dict[str, list[StatementStats]] = defaultdict(list)
    loads: list[StatementStats] = []
    for st in ctx.snap.statements:
        if QUERY.match(st.query) and spill_per_call(st) >= MIN_SPILL_BYTES:
            # CREATE INDEX spills under maintenance_work_mem: no query. A write run this few times is a load (an
            # INSERT … SELECT of a restore or backfill): an event, not what the role's sessions run.
            (loads if WRITE.match(st.query) and st.calls <= ONE_OFF_CALLS else spills[st.role]).append(st)
    if loads:
        ctx.notes.append(f"work_mem not sized for {len(loads)} write(s) run at most {ONE_OFF_CALLS} times that "
                         f"spilled {human(sum(s.temp_blks_written for s in loads) * 8192)} (a load or backfill, "
                         "e.g. INSERT … SELECT): run such a load with SET LOCAL work_mem in its transaction")
    out = []
    for role, stmts in sorted(spills.items()):
        worst = max(spill_per_call(st) for st in stmts)
        want = round_up_mb(worst * SPILL_FACTOR)
        own = ctx.snap.role_value(role, ctx.snap.database, "work_mem")
        ran_under = _size_or_zero(own) or ctx.bytes("work_mem")
        if ran_under >= want:
            # It spilled at this value already (the role's own, else the server's): narrow tuples take more
            # room in memory than in the file. u10: a 1.7 MB spill under 4 MB was advised '4MB', a no-op.
            want = ran_under * 2
        out.append(Need(role, stmts, worst, want, own))
    return out


def propose(ctx: Context) -> None:
    found = needs(ctx)
    if not found:
        return
    cap = budget.set_cap(ctx.snap, ctx.proposals, ctx.memory())
    queries = ctx.snap.workload.queries()
    rest = []
    for need in found:
        ran = queries[need.role].statements if need.role in queries else 0
        if need.role and len(need.statements) <= FEW_STATEMENTS and len(need.statements) <= FEW_SHARE * ran:
            _statement_advice(ctx, need, ran, cap)
        else:
            rest.append(need)
    if not rest:
        return
    total_ms = sum(q.ms for q in queries.values())
    spilling_ms = sum(queries[n.role].ms for n in rest if n.role in queries)
    top = max(n.want for n in rest)
    widespread = len(rest) >= 2 and total_ms > 0 and spilling_ms >= WIDESPREAD_SHARE * total_ms
    if widespread and cap is not None and top <= cap and top > ctx.bytes("work_mem"):
        _server_wide(ctx, rest, top, cap, spilling_ms / total_ms)
        rest = [n for n in rest if n.own is not None and _size_or_zero(n.own) < n.want]   # their own value wins
    elif widespread:
        ctx.notes.append(f"queries of {len(rest)} roles spill ({spilling_ms / total_ms:.0%} of the query time), "
                         f"but work_mem {size(top)} for every connection is not safe: the memory budget allows "
                         f"{human(cap or 0) if cap is not None else 'an unknown amount (give --memory)'}; "
                         "proposed per role instead")
    for need in rest:
        _per_role(ctx, need, cap)


def _size_or_zero(text: str | None) -> int:
    try:
        return parse_size(text) if text else 0
    except InputError:
        return 0


def _held(ctx: Context, need: Need, cap: int | None) -> int:
    """The value to propose: the need, else the exact need, else what the budget allows (with a note)."""
    want = need.want
    if cap is not None and want > cap:
        want = round_up_mb(need.worst * SPILL_FACTOR, power_of_two=False)
    if cap is not None and want > cap:
        want = max(ctx.bytes("work_mem"), (cap // MB) * MB)
        ctx.work_mem_held = max(ctx.work_mem_held, need.want)
        ctx.notes.append(f"work_mem for {'role ' + need.role if need.role else 'the server'} is held to "
                         f"{human(want)} by the memory budget (its statements spill up to {human(need.worst)} a "
                         "call): run them with SET LOCAL work_mem inside their transaction, or lower "
                         "max_connections (pool) to make room")
    return want


def _per_role(ctx: Context, need: Need, cap: int | None) -> None:
    current = ctx.bytes("work_mem")
    want = _held(ctx, need, cap)
    if want <= max(current, _size_or_zero(need.own)):
        return
    why = (f"{len(need.statements)} statement(s) of role {need.role} wrote {human(need.temp_bytes)} of temporary "
           f"files, up to {human(need.worst)} a call, under work_mem {human(current)}"
           + (f" ({need.role}'s own {need.own})" if need.own else ""))
    expect = (f"their sorts and hashes fit in {size(want)}: temporary bytes of these statements go to 0 "
              "for a spill of the same size")
    evidence = need.evidence(cap)
    if need.role:
        ctx.role(need.role, "work_mem", size(want), Family.MEMORY, why, expect, Symptom.TEMP_SPILL, **evidence)
    else:
        ctx.server("work_mem", size(want), Family.MEMORY, why, expect, Symptom.TEMP_SPILL, **evidence)


def _server_wide(ctx: Context, found: list[Need], value: int, cap: int, share: float) -> None:
    stmts = [s for n in found for s in n.statements]
    merged = Need("", stmts, max(n.worst for n in found), value, None)
    evidence = merged.evidence(cap)
    evidence["roles"] = [n.role for n in found]
    evidence["spilling_share_of_query_time"] = round(share, 3)
    ctx.server("work_mem", size(value), Family.MEMORY,
               f"queries of {len(found)} roles ({', '.join(n.role for n in found)}) spilled: "
               f"{human(merged.temp_bytes)} of temporary files, up to {human(merged.worst)} a call, under work_mem "
               f"{human(ctx.bytes('work_mem'))}; these roles spent {share:.0%} of the workload's query time",
               f"their sorts and hashes fit in {size(value)}: temporary bytes of these statements go to 0; safe for "
               f"every connection: the memory budget allows up to {human(cap)} per connection",
               Symptom.TEMP_SPILL, **evidence)


def _statement_advice(ctx: Context, need: Need, ran: int, cap: int | None) -> None:
    want = need.want if cap is None or need.want <= cap else max(ctx.bytes("work_mem"), (cap // MB) * MB)
    value = size(want)
    lines = [f"queryid {s.queryid} ({s.calls:,} calls, {human(spill_per_call(s))} a call): BEGIN; "
             f"SET LOCAL work_mem = '{value}'; {s.query[:200]}; COMMIT;" for s in need.statements]
    lines.append(f"the rest of role {need.role}'s {ran:,} queries keep work_mem {human(ctx.bytes('work_mem'))}; "
                 "SET LOCAL ends with the transaction (safe behind a transaction-mode pooler)")
    evidence = need.evidence(cap)
    evidence.update(role=need.role, role_queries=ran, work_mem=value)
    ctx.advice.append(Advice(
        Family.MEMORY, f"run {len(need.statements)} statement(s) of role {need.role} with SET LOCAL work_mem = "
                       f"'{value}'",
        f"{len(need.statements)} of the {ran:,} queries role {need.role} ran wrote {human(need.temp_bytes)} of "
        f"temporary files, up to {human(need.worst)} a call: raising work_mem for the whole role would change "
        "the plans and memory of all its other queries",
        lines, Symptom.TEMP_SPILL, evidence))
