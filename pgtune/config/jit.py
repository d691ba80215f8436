"""JIT: roles whose statements spend their time compiling get JIT off, or a higher jit_above_cost.

pg_stat_statements (1.10, PostgreSQL 15+) records per statement the time JIT
spent generating, inlining, optimizing and emitting code. A statement whose
compilation is a large share of its time — on a real Prisma application a
count spent 995 ms of its 1,078 ms compiling — is short work the planner
costed high. For the role that runs them: JIT off when every such statement
of the role is mostly compilation, else jit_above_cost ten times higher, so
that only the costliest plans compile.
"""

from __future__ import annotations

from collections import defaultdict

from .context import Context
from .evidence import StatementStats
from .model import Family, Symptom

SHARE = 0.3          # compilation above this share of a statement's time is overhead
MIN_JIT_MS = 100.0   # and at least this much of it in the period


def share(st: StatementStats) -> float:
    return (st.jit_ms or 0.0) / st.total_ms if st.total_ms > 0 else 0.0


def propose(ctx: Context) -> None:
    if ctx.snap.setting("jit").setting != "on":
        return
    by_role: dict[str, list[StatementStats]] = defaultdict(list)
    for st in ctx.snap.statements:
        if st.jit_functions:
            by_role[st.role].append(st)
    for role, stmts in sorted(by_role.items()):
        heavy = [s for s in stmts if share(s) >= SHARE and (s.jit_ms or 0) >= MIN_JIT_MS]
        if not heavy or not role:
            continue
        evidence = {"statements": [{"queryid": s.queryid, "query": s.query[:200], "calls": s.calls,
                                    "total_ms": round(s.total_ms, 1), "jit_ms": round(s.jit_ms or 0, 1),
                                    "jit_share": round(share(s), 3)} for s in heavy[:3]],
                    "jit_ms": round(sum(s.jit_ms or 0 for s in heavy), 1)}
        why = (f"{len(heavy)} statement(s) of role {role} spent {evidence['jit_ms']:,} ms compiling JIT code, "
               f"{SHARE:.0%} or more of their time")
        if len(heavy) == len(stmts):
            ctx.role(role, "jit", "off", Family.JIT, why,
                     "these statements run without compiling: their time drops by the JIT share "
                     f"(up to {max(share(s) for s in heavy):.0%})", Symptom.JIT_OVERHEAD, **evidence)
        else:
            cost = ctx.snap.setting("jit_above_cost").number * 10
            ctx.role(role, "jit_above_cost", f"{cost:g}", Family.JIT,
                     why + f"; {len(stmts) - len(heavy)} other statement(s) of the role gain from JIT",
                     "only plans costlier than this compile: the short statements stop compiling",
                     Symptom.JIT_OVERHEAD, **evidence)
