"""column-order: ``CHECK ("endDate" >= "startDate")``, ``CHECK ("storageUsed" <= "storageQuota")``.

Pairs are found by name within one table and one type category: start/end
(start|begin … end|finish|stop with the same stem) and used/limit (used|usage
… quota|limit|capacity|max with the same stem). A pair whose DEFAULTs together
would break the rule, or that pgtune cannot evaluate, is left alone. A
used/limit pair is a low-confidence hint, never written to a migration: a
downgrade sets a quota below what is already used, and a limit of -1 often
means "unlimited".
"""

from __future__ import annotations

import re

from ..model import Candidate, Column, Confidence, ConstraintKind, Rule, RuleOp
from ..prove import Prover

KIND = ConstraintKind.COLUMN_ORDER
PAIRS = (
    (re.compile(r"^(.*?)(start|begin)(s|ed|ing)?(.*)$", re.I),
     re.compile(r"^(.*?)(end|finish|stop)(s|ed|ing)?(.*)$", re.I), RuleOp.GE),
    (re.compile(r"^(.*?)(used|usage)(.*)$", re.I),
     re.compile(r"^(.*?)(quota|limit|capacity|max)(.*)$", re.I), RuleOp.LE),
)


def _stem(m: re.Match[str]) -> str:
    groups = m.groups()
    return (groups[0] + groups[-1]).lower()


def candidates(columns: list[Column]) -> list[Candidate]:
    out = []
    by_table: dict[tuple[str, str], list[Column]] = {}
    for c in columns:
        by_table.setdefault(c.table_key, []).append(c)
    for cols in by_table.values():
        for first_re, second_re, op in PAIRS:
            for a in cols:
                ma = first_re.match(a.name)
                if not ma or a.category not in ("N", "D"):
                    continue
                for b in cols:
                    mb = second_re.match(b.name)
                    if b is a or not mb or b.category != a.category or _stem(ma) != _stem(mb):
                        continue
                    # start/end: end >= start; used/limit: used <= limit
                    left, right = (b, a) if op == RuleOp.GE else (a, b)
                    rule = Rule(op, (left.name, right.name))
                    if not rule.admits({left.name: left.unset, right.name: right.unset}):
                        continue
                    # used <= limit is a hint: a downgrade sets a quota below what is already used, and -1 says
                    # "unlimited"; an end before its start is what the rule is for.
                    sure = Confidence.HIGH if op == RuleOp.GE else Confidence.LOW
                    out.append(Candidate(KIND, a.schema, a.table, (left.name, right.name), rule.text(), sure,
                                         {"pair": [left.name, right.name]}, rule))
    return out


def prove(cand: Candidate, prover: Prover) -> Candidate | None:
    return cand
