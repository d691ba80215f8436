"""non-negative / positive: ``CHECK (amount > 0)``, ``CHECK ("viewsCount" >= 0)``.

For numeric columns whose names say they count or measure something
(counts, amounts, prices, quotas, sizes, durations). ``> 0`` when the data
has no zero and the name is a quantity that zero would make meaningless
(amount, price, quota, limit, duration, capacity); ``>= 0`` otherwise.
Names that may rightly go negative (balance, delta, offset, latitude) are left alone.
"""

from __future__ import annotations

import re

from ..model import Candidate, Column, ConstraintKind, Rule
from ..prove import Prover

KIND = ConstraintKind.NON_NEGATIVE
MEASURES = re.compile(
    r"(count|amount|price|cost|quota|size|total|qty|quantity|credits?|duration|length|views|likes|width|height|"
    r"bytes|seconds|sec|minutes|ms|age|limit|capacity|fee|weight|storage|used|usage|num|number|frame_?rate|"
    r"slides|retries|attempts)s?$", re.IGNORECASE)
SIGNED = re.compile(r"(balance|delta|diff|change|offset|adjust|lat|lng|lon|longitude|latitude|temperature|"
                    r"profit|pnl|score|rank|position|order)", re.IGNORECASE)
STRICT = re.compile(r"(amount|price|quota|limit|duration|capacity|frame_?rate)", re.IGNORECASE)


def candidates(columns: list[Column]) -> list[Candidate]:
    out = []
    for c in columns:
        if c.category != "N" or c.is_trap or SIGNED.search(c.name) or not MEASURES.search(c.name):
            continue
        rule = Rule(">=", (c.name,), ("0",))
        out.append(Candidate(KIND, c.schema, c.table, (c.name,), rule.text(), "high", {"type": c.type}, rule))
    return out


def prove(cand: Candidate, prover: Prover) -> Candidate | None:
    col = cand.columns[0]
    low = prover.minimum(cand.schema, cand.table, col)
    evidence = {**cand.evidence, "min": None if low is None else str(low)}
    if low is not None and low > 0 and STRICT.search(col):
        rule = Rule(">", (col,), ("0",))
        return Candidate(ConstraintKind.POSITIVE, cand.schema, cand.table, cand.columns, rule.text(),
                         cand.confidence, evidence, rule)
    return Candidate(cand.kind, cand.schema, cand.table, cand.columns, cand.check, cand.confidence, evidence,
                     cand.rule)
