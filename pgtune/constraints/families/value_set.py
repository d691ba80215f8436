"""value-set: ``CHECK (status IN ('active', 'cancelled', …))`` for enum-like text columns.

Offered when the column is text, not free text (by name, by average width,
or values with spaces or longer than a code would be) or an identifier, its
statistics say it holds few values that cover (nearly) every row, and the data
confirms at most ``MAX_VALUES`` distinct values. Names such as status, type,
role or tier make the rule "high" confidence; other low-cardinality text is
"medium": a new value tomorrow would be rejected, so a human should agree.
"""

from __future__ import annotations

import re

from ..model import Candidate, Column, ConstraintKind, Rule
from ..prove import Prover

KIND = ConstraintKind.VALUE_SET
MAX_VALUES = 10
MAX_WIDTH = 24        # pg_stats avg_width in bytes: codes are short, prose is not
MAX_VALUE_LENGTH = 32
ENUM_NAMES = re.compile(
    r"(status|state|type|kind|role|tier|plan|cycle|level|category|mode|visibility|priority|currency|provider|"
    r"source|channel|frequency|interval|platform|stage|phase)$", re.IGNORECASE)


def candidates(columns: list[Column]) -> list[Candidate]:
    out = []
    for c in columns:
        if c.category != "S" or c.is_trap or c.distinct is None:
            continue
        if c.avg_width is not None and c.avg_width > MAX_WIDTH:
            continue
        if not 1 <= c.distinct <= MAX_VALUES or c.reltuples < 20 * c.distinct:
            continue
        covered = sum(c.most_common_freqs)
        if covered < (1 - (c.null_frac or 0)) * 0.99:
            continue        # the statistics did not see every value: not enum-like
        confidence = "high" if ENUM_NAMES.search(c.name) else "medium"
        out.append(Candidate(KIND, c.schema, c.table, (c.name,), "", confidence,
                             {"n_distinct": c.n_distinct, "most_common_vals": list(c.most_common_vals)}))
    return out


def prove(cand: Candidate, prover: Prover) -> Candidate | None:
    """Fill in the exact value set from the data; None when there are too many values."""
    col = cand.columns[0]
    values = prover.distinct_values(cand.schema, cand.table, col, MAX_VALUES + 1)
    if not values or len(values) > MAX_VALUES:
        return None
    if any(len(v) > MAX_VALUE_LENGTH or any(ch.isspace() for ch in v) for v, _ in values):
        return None     # prose, not codes
    rule = Rule("in", (col,), tuple(v for v, _ in sorted(values)))
    evidence = {**cand.evidence, "values": {v: n for v, n in values}}
    return Candidate(cand.kind, cand.schema, cand.table, cand.columns, rule.text(), cand.confidence, evidence, rule)
