"""A column's pg_stats as read_catalog keeps it: the arrays as the server printed them, split when read."""

from __future__ import annotations

from functools import lru_cache

from psycopg import postgres
from psycopg.adapt import Transformer
from psycopg.pq import Format

# A pg_stats array as the server prints it ('{a,"b c"}'): what ColumnStats keeps of it until it is read.
ArrayText = bytes
_TEXT_ARRAY = Transformer().get_loader(postgres.types["text"].array_oid, Format.TEXT)
_FLOAT4_ARRAY = Transformer().get_loader(postgres.types["float4"].array_oid, Format.TEXT)


@lru_cache(maxsize=1024)
def _values(text: ArrayText) -> tuple[str, ...]:
    return tuple(_TEXT_ARRAY.load(text))


@lru_cache(maxsize=1024)
def _freqs(text: ArrayText) -> tuple[float, ...]:
    return tuple(float(f) for f in _FLOAT4_ARRAY.load(text))


class ColumnStats:
    """A column's pg_stats: distinct values, NULL fraction, most common values and their frequencies, histogram.

    The three arrays may be given as tuples, or as the text the server printed
    them in (``ArrayText``, as read_catalog reads them): that text is split
    each time it is read, by the same psycopg loader that would have split it
    at fetch time, so every reader sees the same tuples either way. Why: kept
    split, one str or float object per value, the statistics of 2,000 small
    tables were 145 MB of suggest's memory (benchmarks/speed.py, 36 MB at 500
    tables), where their text is a tenth of that; most columns' arrays are
    never read at all (values and candidates read the columns the workload
    filters on). A small cache keeps the last arrays read split.
    """

    __slots__ = ("_bounds", "_freqs", "_mcv", "n_distinct", "null_frac")

    def __init__(self, n_distinct: float, null_frac: float,
                 most_common_vals: tuple[str, ...] | ArrayText = (),
                 most_common_freqs: tuple[float, ...] | ArrayText = (),
                 histogram_bounds: tuple[str, ...] | ArrayText = ()) -> None:
        self.n_distinct = n_distinct
        self.null_frac = null_frac
        self._mcv = most_common_vals
        self._freqs = most_common_freqs
        self._bounds = histogram_bounds        # equal-frequency bounds of the values that are not common

    @property
    def most_common_vals(self) -> tuple[str, ...]:
        return _values(self._mcv) if isinstance(self._mcv, bytes) else self._mcv

    @property
    def most_common_freqs(self) -> tuple[float, ...]:
        return _freqs(self._freqs) if isinstance(self._freqs, bytes) else self._freqs

    @property
    def histogram_bounds(self) -> tuple[str, ...]:
        return _values(self._bounds) if isinstance(self._bounds, bytes) else self._bounds

    def _fields(self) -> tuple[object, ...]:
        return (self.n_distinct, self.null_frac, self.most_common_vals, self.most_common_freqs,
                self.histogram_bounds)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ColumnStats) and self._fields() == other._fields()

    def __hash__(self) -> int:
        return hash(self._fields())

    def __repr__(self) -> str:
        return (f"ColumnStats(n_distinct={self.n_distinct!r}, null_frac={self.null_frac!r}, "
                f"most_common_vals={self.most_common_vals!r}, most_common_freqs={self.most_common_freqs!r}, "
                f"histogram_bounds={self.histogram_bounds!r})")
