"""What an index would weigh: its forecast size on disk and the write upkeep it adds, remembered per candidate.

Selection asks for the same candidate's size many times (every step that
could add or widen it), and a forecast may sample the table (distinct keys of
a multi-column or expression index, the share of rows a guessed predicate
keeps), so each sample is taken once per run and kept here.
"""

from __future__ import annotations

from typing import Any

import psycopg

from ..capture import Catalog, TableKey
from . import key_sample, sizing
from .candidates import Candidate
from .selection import Ident, ident

SampleKey = tuple[TableKey, tuple[str, ...], tuple[str, ...], str | None]   # table, keys, INCLUDE, predicate
WRITE_COST = 2.0   # planner cost units one written row costs each index (a descent and a leaf write)
SAMPLE_ROWS = 100_000   # sample the distinct keys of multi-column and expression indexes from this many rows


class Footprint:
    """Forecast sizes and write upkeep of candidate indexes, with the samples they needed cached."""

    def __init__(self, conn: psycopg.Connection[Any], catalog: Catalog, write_scale: float) -> None:
        self.conn, self.catalog, self.write_scale = conn, catalog, write_scale
        self.samples: dict[SampleKey, key_sample.KeySample | None] = {}
        # Sampled key counts of several keys or an expression (calibration.Pricing reads it as it fills).
        self.distinct: dict[tuple[TableKey, tuple[str, ...]], float | None] = {}
        self.forecasts: dict[Ident, int] = {}
        self.kept: dict[tuple[TableKey, str], float | None] = {}    # sampled shares of partial predicates

    def upkeep(self, cand: Candidate) -> float:
        """What maintaining the index costs over the workload's window, in planner cost units."""
        table = self.catalog.tables.get(cand.table)
        return (table.writes if table else 0) * WRITE_COST * self.write_scale

    def forecast(self, cand: Candidate) -> int:
        """pgtune's forecast of the built index's bytes (analyze.sizing)."""
        key = ident(cand)
        if key not in self.forecasts:
            self.forecasts[key] = self._forecast_new(cand)
        return self.forecasts[key]

    def share_kept(self, cand: Candidate) -> float | None:
        """The share of rows a partial candidate keeps: sampled when the statistics can only guess."""
        if cand.where is None or cand.where_fraction is None:
            return cand.where_fraction
        if cand.where_guessed and (cand.table, cand.where) not in self.kept:
            table = self.catalog.tables.get(cand.table)
            rows = table.reltuples if table and not self.catalog.policed(cand.table) else 0.0
            sampled = key_sample.sample_fraction(self.conn, cand.table, cand.where, rows) if rows > 0 else None
            self.kept[(cand.table, cand.where)] = sampled if sampled is not None else cand.where_fraction
        return self.kept.get((cand.table, cand.where), cand.where_fraction)

    def prefetch(self, cands: list[Candidate]) -> None:
        """Take at once, one statement per table, the key samples ``forecast`` would take one by one for ``cands``.

        Selection asks for sizes one candidate at a time; one query per index
        (~40 ms each, 116 per suggest on TPC-H) was most of suggest's server
        time. The answers are the same (key_sample.sample_keys_many: the same
        sample, grouped by each index's keys), in the candidates' order.
        """
        wanted: dict[TableKey, dict[tuple[tuple[str, ...], tuple[str, ...], str | None], Candidate]] = {}
        for cand in cands:
            table = self.catalog.tables.get(cand.table)
            if table is None or table.partitioned or ident(cand) in self.forecasts:
                continue
            key = self._sample_key(cand.table, cand)
            if key is not None and key not in self.samples:
                wanted.setdefault(cand.table, {}).setdefault(key[1:], cand)
        for on, specs in wanted.items():
            table = self.catalog.tables[on]
            found = key_sample.sample_keys_many(self.conn, on, [(c.keys, c.include) for c in specs.values()],
                                            table.reltuples, single_distinct=False,
                                            asks=[self._asked(on, c) for c in specs.values()],
                                            wheres=[_kept_by(c) for c in specs.values()],
                                            shares=[self._share(c) for c in specs.values()])
            for cand, sample in zip(specs.values(), found, strict=True):
                self._keep(on, cand, sample)

    def _sample_key(self, on: TableKey, cand: Candidate) -> SampleKey | None:
        """What ``cand``'s key sample on ``on`` is kept under; None when its forecast takes no sample.

        A sample pays where a wrong guess costs megabytes: on small tables the
        model's guess will do. It gives the distinct count of several keys or
        an expression (one column's is pg_stats'), and the tuple size wherever
        a width is not the type's own.
        """
        table = self.catalog.tables.get(on)
        if table is None or self.catalog.policed(on):     # the application's policy would refuse or filter it
            return None
        rows = table.reltuples
        exact = self._exact(on, cand)
        # Keys with a near-unique column (not counted) of exact widths (not sized) would learn only the rows.
        if rows >= SAMPLE_ROWS and (_several(cand) or _kept_by(cand) is not None or not exact
                                    or self._in_order(on, cand)) and not (
                exact and key_sample.near_unique(self.catalog, on, cand.keys)):
            return (on, tuple(k.ident for k in cand.keys), cand.include, _kept_by(cand))
        return None

    def _in_order(self, on: TableKey, cand: Candidate) -> bool:
        """Is ``cand`` one plain column whose pg_stats count is likely short (sizing.undercounted: a table stored
        in its order): its keys are then counted in the sample, which reads each value's rows whole. The guess
        in its place, the geometric mean of pg_stats' count and the rows, forecast TPC-DS's (cs_order_number)
        and (ws_order_number) at 1.49x and 1.57x of built (t14); sampled, their keys come out 0.99-1.01x. Or common
        values beside many others (sizing.common_beside)."""
        table, col = self.catalog.tables.get(on), self.catalog.table_columns(on).get(cand.keys[0].column)
        return (len(cand.keys) == 1 and cand.keys[0].expression is None and col is not None and table is not None
                and (sizing.undercounted(col, table.reltuples) or sizing.common_beside(col)))

    def _exact(self, on: TableKey, cand: Candidate) -> bool:
        """Is every column's width in ``cand``'s tuple its type's (sizing.exact): no tuple bytes to sample?"""
        cols = self.catalog.table_columns(on)
        return all(k.expression is None and sizing.exact(cols.get(k.column)) for k in cand.keys) and all(
            sizing.exact(cols.get(c)) for c in cand.include)

    def _asked(self, on: TableKey, cand: Candidate) -> key_sample.Asked:
        """What ``cand``'s sample is asked beyond its distinct keys: only what its forecast reads (the
        tuple bytes where a width is not exact, the leading keys where in_key_order can scale it up); each is
        a sixth of the statement's time, and most of suggest's server time on TPC-H is these samples."""
        return key_sample.Asked(sized=not self._exact(on, cand),
                            lead=_several(cand) and key_sample.reads_lead(self.catalog, on, cand.keys),
                            distinct=not key_sample.near_unique(self.catalog, on, cand.keys),
                            single=self._in_order(on, cand))

    def _share(self, cand: Candidate) -> float:
        """The share of rows ``cand``'s sample counts keys among: its predicate's (``_kept_by``), else all."""
        return (self.share_kept(cand) or 1.0) if _kept_by(cand) is not None else 1.0

    def _keep(self, on: TableKey, cand: Candidate, sample: key_sample.KeySample | None) -> None:
        key = (on, tuple(k.ident for k in cand.keys), cand.include, _kept_by(cand))
        if sample is not None and _several(cand):
            sample = key_sample.in_key_order(self.catalog, on, cand.keys, sample)
        if sample is not None:
            sample = key_sample.with_nulls(self.catalog, on, cand.keys, sample)
        self.samples[key] = sample
        if _several(cand):
            self.distinct[key[:2]] = sample.distinct if sample is not None else None

    def _forecast_new(self, cand: Candidate) -> int:
        table = self.catalog.tables.get(cand.table)
        if table is not None and table.partitioned:
            # Built once per partition, each with its partition's rows and statistics (analyze.partitions).
            return sum(self._forecast_on(leaf, cand) for leaf in self.catalog.leaf_partitions(cand.table)
                       if leaf != cand.table)
        return self._forecast_on(cand.table, cand)

    def _forecast_on(self, on: TableKey, cand: Candidate) -> int:
        """The forecast of ``cand``'s index on ``on`` (the candidate's table, or one of its partitions).

        Where it takes a sample (_sample_key), pg_stats' avg_width, from
        ANALYZE's random sample, moved the forecast between runs (u2's R5).
        """
        several = _several(cand)
        exact = self._exact(on, cand)
        sample = None
        key = self._sample_key(on, cand)
        if key is not None:
            if key not in self.samples:
                table = self.catalog.tables[on]
                self._keep(on, cand, key_sample.sample_keys_many(self.conn, on, [(cand.keys, cand.include)],
                                                             table.reltuples, single_distinct=False,
                                                             asks=[self._asked(on, cand)], wheres=[_kept_by(cand)],
                                                             shares=[self._share(cand)])[0])
            sample = self.samples[key]
        counted = sample is not None and sample.distinct is not None and (
            several or _kept_by(cand) is not None or self._in_order(on, cand))
        # A partial's keys were counted among the rows it keeps; sizing scales a count of the table's by the share.
        share = self._share(cand)
        return sizing.forecast(self.catalog, on, cand.keys, include=cand.include, fraction=self.share_kept(cand),
                               distinct=sample.distinct / share if sample is not None and sample.distinct is not None
                               and counted else None,
                               tuple_bytes=sample.tuple_bytes if sample is not None and not exact else None,
                               heavy=(sample.heavy_rows / share, sample.heavy_distinct / share)
                               if sample is not None and counted else None)


def _kept_by(cand: Candidate) -> str | None:
    """The predicate of a partial index on one plain column, whose keys its sample counts among the rows it keeps.

    pg_stats counts the column's values over the whole table, and a share of
    them is not the keys the predicate's rows hold: TPC-H's lineitem
    (l_orderkey) WHERE l_returnflag = 'R' keeps a quarter of the rows, on
    645,527 of the 1.5 million orders (those old enough to be returned, 2.3
    rows each), forecast 28.6 MB where it built 23.7 (1.21x); its sample counts
    664,950 (25.6 MB forecast). Several keys or an expression: as before.
    """
    if cand.where is None or cand.where_fraction is None or len(cand.keys) != 1 or cand.keys[0].expression:
        return None
    return cand.where


def _several(cand: Candidate) -> bool:
    """Does ``cand`` have several keys or an expression: a distinct count pg_stats does not know?"""
    return len(cand.keys) > 1 or any(k.expression is not None for k in cand.keys)
