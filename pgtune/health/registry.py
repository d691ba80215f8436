"""Every health check, in the order a report lists them (each with a page in docs/checks/)."""

from __future__ import annotations

from .checks import (
    Check,
    bloated_index,
    bloated_table,
    duplicate_index,
    foreign_key_without_index,
    index_larger_than_table,
    invalid_index,
    not_valid_constraint,
    overlapping_index,
    sequence_near_overflow,
    stale_statistics,
    unused_index,
    xid_wraparound_risk,
)
from .hot_blocking import hot_blocking_index
from .model import Severity

CHECKS = [
    Check("invalid-index", Severity.ERROR, "an index a failed build left INVALID", invalid_index),
    Check("duplicate-index", Severity.WARNING, "two indexes with the same definition", duplicate_index),
    Check("overlapping-index", Severity.WARNING, "a btree whose keys lead another's", overlapping_index),
    Check("foreign-key-without-index", Severity.WARNING, "a foreign key no index leads with",
          foreign_key_without_index),
    Check("not-valid-constraint", Severity.WARNING, "a constraint left NOT VALID", not_valid_constraint),
    Check("index-larger-than-table", Severity.INFO, "an index larger than its table", index_larger_than_table),
    Check("sequence-near-overflow", Severity.WARNING, "a sequence past 75% of its range (90%: error)",
          sequence_near_overflow),
    Check("unused-index", Severity.WARNING, "an index no server scanned in the statistics window", unused_index),
    Check("stale-statistics", Severity.WARNING, "a table changed much since its last ANALYZE", stale_statistics),
    Check("bloated-index", Severity.WARNING, "a btree over twice the size of a fresh build", bloated_index),
    Check("bloated-table", Severity.WARNING, "a table at least half free or dead space", bloated_table),
    Check("hot-blocking-index", Severity.WARNING, "an index on a column the UPDATEs set, keeping HOT updates low",
          hot_blocking_index),
    Check("xid-wraparound-risk", Severity.WARNING, "a table far past its freeze age (error from 1.2 billion)",
          xid_wraparound_risk),
]
