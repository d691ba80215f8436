"""non-negative / positive: ``CHECK (amount > 0)``, ``CHECK ("viewsCount" >= 0)``.

For numeric columns whose names say they count or measure something
(counts, amounts, prices, quotas, sizes, durations): ``>= 0``. A
low-confidence hint for money says ``> 0`` when the data has no zero (an
amount, a price); for everything else a zero is a setting the application
may write (a limit or quota of 0, a capacity of 0 for "unlimited"), even
where no row holds one yet.
Money (amount, price, cost, total, fee, credit) is only a low-confidence
hint, never written to a migration: no negative row yet is no evidence that
the application never writes a refund, a credit note or a discount line. So
are settings (limit, quota, capacity, seats): -1 for "unlimited" is as common
a value as 0.
Names that may rightly go negative (balance, delta, offset, latitude; a
``value``/``valueNumber`` of an attribute table, which holds whatever number
the user sets) are left alone, and so is ``number``, which says what kind of
value a column holds, not that it counts something; and so is a column whose
DEFAULT the rule would refuse (``width`` defaulting to ``-1`` as "not measured
yet") or that pgtune cannot evaluate.
A column that holds no value (all NULL) proves nothing: no rule; nor does one
where every row holds its DEFAULT (u11, Trigger.dev: ``"priorityMs"`` 0 in
every run, the API takes a negative priority): those rows show what an insert
that leaves it out writes, not the values the application writes when it sets
one. A priority is signed (an offset in a queue, ahead or behind): left alone.
"""

from __future__ import annotations

from .. import defaults, names
from ..model import Candidate, Column, Confidence, ConstraintKind, Rule, RuleOp
from ..prove import Prover

KIND = ConstraintKind.NON_NEGATIVE
# The last word of the name (names.words: ``viewsCount`` → count, ``storage_used`` → used).
MEASURES = names.vocabulary("""
    count counts amount amounts price prices cost costs quota quotas size sizes total totals qty quantity quantities
    credit credits duration durations length lengths views likes width height bytes seconds sec secs minutes mins
    ms age limit limits capacity fee fees weight storage used usage slides retries attempts seats
    framerate
""")
# Any word of the name: a quantity that may rightly go negative.
SIGNED = names.vocabulary("""
    balance delta diff difference change offset adjust adjustment lat lng lon longitude latitude temperature
    profit pnl score rank position order x y value values priority priorities
""")
# The last word of the name: money, which real billing writes negative (credit notes, refunds, discount lines).
MONEY = frozenset({"amount", "amounts", "price", "prices", "cost", "costs", "total", "totals", "fee", "fees",
                   "credit", "credits"})
# The last word of the name: a setting the application chooses, where -1 is as common as 0 for "unlimited"
# (a usage limit, a seat quota): rows holding only positive values do not show it is never written.
SETTINGS = frozenset({"limit", "limits", "quota", "quotas", "capacity", "seats"})
# ``> 0`` only for money, which is a low-confidence hint never written to a migration. A zero is a setting for the
# other measures: a limit or quota of 0 ("none allowed"), a capacity of 0 ("unlimited"), a duration of 0 (not yet
# measured); rows that hold none yet do not show the application never writes one (u7: "displayLimit" > 0 refused
# the app's 0), so they get ``>= 0``.
STRICT = frozenset({"amount", "amounts", "price", "prices"})


def _last(name: str) -> str:
    parts = names.words(name)
    if parts[-2:] == ["frame", "rate"]:
        return "framerate"
    return parts[-1] if parts else ""


def candidates(columns: list[Column]) -> list[Candidate]:
    out = []
    for c in columns:
        if c.category != "N" or c.is_trap or SIGNED & set(names.words(c.name)) or _last(c.name) not in MEASURES:
            continue
        rule = Rule(RuleOp.GE, (c.name,), ("0",))
        unset = c.unset
        if not rule.admits({c.name: unset}):
            continue        # its DEFAULT would be refused (-1 meaning "unknown"), or cannot be evaluated
        confidence = Confidence.LOW if _last(c.name) in MONEY | SETTINGS else Confidence.HIGH
        out.append(Candidate(KIND, c.schema, c.table, (c.name,), rule.text(), confidence,
                             {"type": c.type, "default": unset.expression}, rule))
    return out


def prove(cand: Candidate, prover: Prover) -> Candidate | None:
    col = cand.columns[0]
    low, high = prover.bounds(cand.schema, cand.table, col)
    if low is None:
        return None         # every value NULL (or no row): nothing proves a rule
    unset = defaults.read(cand.evidence.get("default")).number()
    if unset is not None and low == high == unset:
        return None         # every row holds the DEFAULT: the application has not yet written a value of its own
    evidence = {**cand.evidence, "min": str(low)}
    strict = Rule(RuleOp.GT, (col,), ("0",))
    if low > 0 and _last(col) in STRICT and strict.admits({col: defaults.read(cand.evidence.get("default"))}):
        return Candidate(ConstraintKind.POSITIVE, cand.schema, cand.table, cand.columns, strict.text(),
                         cand.confidence, evidence, strict)
    return Candidate(cand.kind, cand.schema, cand.table, cand.columns, cand.check, cand.confidence, evidence,
                     cand.rule)
