"""not-null: a nullable column that holds no NULL becomes NOT NULL, the safe way.

``CHECK (col IS NOT NULL) NOT VALID`` → ``VALIDATE`` (no write lock) →
``SET NOT NULL`` (the validated check spares the full scan under ACCESS
EXCLUSIVE) → drop the helper check. Columns whose names say they are
optional by design (deletedAt, endedAt, failureReason, parentId…), and free
text, identifiers, secrets and documents, are left alone.
"""

from __future__ import annotations

import re

from ..model import Candidate, Column, ConstraintKind, Rule
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
        rule = Rule("is not null", (c.name,))
        out.append(Candidate(KIND, c.schema, c.table, (c.name,), rule.text(), "medium",
                             {"null_frac": c.null_frac}, rule))
    return out


def prove(cand: Candidate, prover: Prover) -> Candidate | None:
    return cand    # the generic violation query is the proof
