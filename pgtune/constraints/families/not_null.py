"""not-null: a nullable column that holds no NULL and whose DEFAULT never writes one becomes NOT NULL, the safe way.

``CHECK (col IS NOT NULL) NOT VALID`` → ``VALIDATE`` (no write lock) →
``SET NOT NULL`` (the validated check spares the full scan under ACCESS
EXCLUSIVE) → drop the helper check.

No NULL in the data is not enough: the schema lets the application leave a
nullable column out of an INSERT, and without a DEFAULT that writes NULL. So
only a column with a DEFAULT that never yields NULL (a constant, ``now()``, a
sequence) is proposed. Columns whose names say they are optional by design
(deletedAt, endedAt, failureReason, parentId…), and free text, identifiers,
secrets and documents, are left alone; a database Prisma manages gets none
(see ``pgtune.constraints.propose``).
"""

from __future__ import annotations

import re

from ..model import Candidate, Column, Confidence, ConstraintKind, Rule, RuleOp
from ..prove import Prover

KIND = ConstraintKind.NOT_NULL
OPTIONAL = re.compile(r"(deleted|archived|cancel+ed|ended|finished|completed|expire|failure|error|parent|"
                      r"reason|note|optional|last|next|prev|verified|confirmed|approved|read_?at|seen|until)",
                      re.IGNORECASE)


def candidates(columns: list[Column]) -> list[Candidate]:
    out = []
    for c in columns:
        if (c.not_null or c.null_frac is None or c.null_frac > 0 or c.reltuples < 1 or c.is_trap
                or OPTIONAL.search(c.name)):
            continue
        unset = c.unset
        if unset.may_be_null:
            continue        # an INSERT that leaves it out writes NULL (no DEFAULT, or one pgtune cannot read)
        rule = Rule(RuleOp.NOT_NULL, (c.name,))
        out.append(Candidate(KIND, c.schema, c.table, (c.name,), rule.text(), Confidence.MEDIUM,
                             {"null_frac": c.null_frac, "default": unset.expression}, rule))
    return out


def prove(cand: Candidate, prover: Prover) -> Candidate | None:
    return cand    # the generic violation query is the proof
