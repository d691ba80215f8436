"""Every health check, in the order a report lists them (each with a page in docs/checks/)."""

from __future__ import annotations

from .checks import (
    Check,
    bloated_index,
    bloated_table,
    foreign_key_without_index,
    invalid_index,
    not_valid_constraint,
    overlapping_index,
    sequence_near_overflow,
    stale_statistics,
    unused_index,
    xid_wraparound_risk,
)
from .duplicates import duplicate_index
from .hot_blocking import hot_blocking_index
from .larger_index import index_larger_than_table
from .model import CheckId, Severity

CHECKS = [
    Check(CheckId.INVALID_INDEX, Severity.ERROR, "an index a failed build left INVALID", invalid_index),
    Check(CheckId.DUPLICATE_INDEX, Severity.WARNING, "two indexes with the same definition", duplicate_index),
    Check(CheckId.OVERLAPPING_INDEX, Severity.WARNING, "a btree whose keys lead another's", overlapping_index),
    Check(CheckId.FOREIGN_KEY_WITHOUT_INDEX, Severity.WARNING, "a foreign key no index leads with",
          foreign_key_without_index),
    Check(CheckId.NOT_VALID_CONSTRAINT, Severity.WARNING, "a constraint left NOT VALID", not_valid_constraint),
    Check(CheckId.INDEX_LARGER_THAN_TABLE, Severity.INFO, "an index larger than its table", index_larger_than_table),
    Check(CheckId.SEQUENCE_NEAR_OVERFLOW, Severity.WARNING, "a sequence past 75% of its range (90%: error)",
          sequence_near_overflow),
    Check(CheckId.UNUSED_INDEX, Severity.WARNING, "an index no server scanned in the statistics window", unused_index),
    Check(CheckId.STALE_STATISTICS, Severity.WARNING, "a table changed much since its last ANALYZE", stale_statistics),
    Check(CheckId.BLOATED_INDEX, Severity.WARNING, "a btree over twice the size of a fresh build", bloated_index),
    Check(CheckId.BLOATED_TABLE, Severity.WARNING, "a table at least half free or dead space", bloated_table),
    Check(CheckId.HOT_BLOCKING_INDEX, Severity.WARNING, "an index on a column the UPDATEs set, keeping HOT updates low",
          hot_blocking_index),
    Check(CheckId.XID_WRAPAROUND_RISK, Severity.WARNING, "a table far past its freeze age (error from 1.2 billion)",
          xid_wraparound_risk),
]
