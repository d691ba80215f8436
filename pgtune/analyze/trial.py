"""Trial builds: the planner's cost of a real index where HypoPG cannot make a hypothetical one (GIN).

Placeholder while the trial machinery lands: the cost methods a proposal names.
"""

from __future__ import annotations

from enum import StrEnum


class CostMethod(StrEnum):
    """Which method produced a proposal's cost figure (docs/indexes/)."""

    HYPOPG = "hypopg"                # a hypothetical index (b-tree, BRIN)
    TRIAL_CLONE = "trial-clone"      # a real index built on the clone the DBA named (--trial-dsn)
    TRIAL_COPY = "trial-copy"        # a real index on a temporary copy of the table, in pgtune's session
    TRIAL_SAMPLE = "trial-sample"    # the same on a sample of the table's rows, scaled
    HEURISTIC = "heuristic"          # no planner: the statement's shape alone
