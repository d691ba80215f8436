"""value-set: ``CHECK (status IN ('active', 'cancelled', …))`` for a text column that holds a closed set of codes.

A text column with few values is not enough: free text with few values so far
(``userAgent``, a time zone, a field that holds only its ``''`` default) takes
new values tomorrow. The rule is offered only when every piece of evidence
agrees: the column's name ends with a word that names a closed set of states
(status, type, role, tier…) and no word of it says free text; its type is text
(an enum type already fixes its values: no CHECK needed); the data holds at
least two and at most ``MAX_VALUES`` distinct values, each a code
(``ACTIVE``, ``grace_period``: a letter, then letters, digits, ``_`` or ``-``);
and its DEFAULT, if any, is such a code too, and joins the set whether or not
a row holds it yet. Always "low" confidence, listed for review and never
written to a migration: the set lives in the application's code, and the data
shows only the values written so far (umami's report types include one no row
held yet, u2's F1), so a CHECK from the data alone refuses the application's
next legitimate insert.
"""

from __future__ import annotations

import re

from .. import defaults, names
from ..defaults import DefaultKind
from ..model import Candidate, Column, Confidence, ConstraintKind, Rule, RuleOp
from ..prove import Prover

KIND = ConstraintKind.VALUE_SET
MIN_VALUES = 2
MAX_VALUES = 10
MAX_WIDTH = 24        # pg_stats avg_width in bytes: codes are short, prose is not
CODE = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,31}$")
NOTE = ("the data shows the values written so far, not the set the application's code allows: "
        "listed for review, never written to a migration")


def candidates(columns: list[Column]) -> list[Candidate]:
    out = []
    for c in columns:
        if c.category != "S" or c.is_trap or not names.is_enum_like(c.name) or c.distinct is None:
            continue
        if c.avg_width is not None and c.avg_width > MAX_WIDTH:
            continue
        if not MIN_VALUES <= round(c.distinct) <= MAX_VALUES:
            continue
        covered = sum(c.most_common_freqs)
        if covered < (1 - (c.null_frac or 0)) * 0.99:
            continue        # the statistics did not see every value: not enum-like
        unset = c.unset
        if unset.kind not in (DefaultKind.NONE, DefaultKind.NULL) and not (
                unset.kind == DefaultKind.CONSTANT and CODE.match(unset.value or "")):
            continue        # a '' or free-text default, or one pgtune cannot read: free text
        out.append(Candidate(KIND, c.schema, c.table, (c.name,), "", Confidence.LOW,
                             {"n_distinct": c.n_distinct, "most_common_vals": list(c.most_common_vals),
                              "default": unset.expression, "note": NOTE}))
    return out


def prove(cand: Candidate, prover: Prover) -> Candidate | None:
    """The exact value set from the data, with the DEFAULT's value; None unless it is a closed set of codes."""
    col = cand.columns[0]
    values = prover.distinct_values(cand.schema, cand.table, col, MAX_VALUES + 1)
    if not MIN_VALUES <= len(values) <= MAX_VALUES:
        return None
    if not all(CODE.match(v) for v, _ in values):
        return None     # prose, paths, versions, empty strings: not codes
    allowed = {v for v, _ in values}
    unset = defaults.read(cand.evidence.get("default"))
    if unset.kind == DefaultKind.CONSTANT and unset.value is not None:
        allowed.add(unset.value)       # what an insert that leaves the column out writes
    rule = Rule(RuleOp.IN, (col,), tuple(sorted(allowed)))
    evidence = {**cand.evidence, "values": {v: n for v, n in values}}
    return Candidate(cand.kind, cand.schema, cand.table, cand.columns, rule.text(), cand.confidence, evidence, rule)
