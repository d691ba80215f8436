"""A read of a table's rows health makes before it emits a step, bounded in time: analyze.bounded, which suggest
also reads (whether an INVALID unique index can be built again)."""

from ..analyze import CHECK_TIMEOUT, Read, bounded

__all__ = ["CHECK_TIMEOUT", "Read", "bounded"]
