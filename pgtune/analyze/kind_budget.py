"""The budget a GIN, BRIN or hash proposal must fit in: what the b-tree selection left of ``--max-index-mb`` and
``--max-indexes`` (analyze.beyond)."""

from __future__ import annotations

from dataclasses import dataclass

from .model import Advice, IndexSuggestion
from .selection_model import SizeBasis
from .sizing import FORECAST_MARGIN


@dataclass(frozen=True)
class Budget:
    """``--max-index-mb`` and ``--max-indexes``: what the b-tree selection left of them is all a GIN, BRIN or hash
    proposal may take (p28: a 185 MB GIN came on top of a 50 MB budget, which the b-trees alone had kept)."""
    max_index_mb: float | None = None
    max_indexes: int | None = None
    basis: SizeBasis = SizeBasis.FORECAST

    def size(self, ix: IndexSuggestion) -> int:
        """What the budget counts of ``ix``: its forecast (a GIN's built size), or HypoPG's estimate by that basis."""
        if self.basis == SizeBasis.HYPOPG and ix.estimated_bytes:
            return ix.estimated_bytes
        return ix.forecast_bytes or ix.estimated_bytes or 0

    def refusal(self, advice: Advice, add: IndexSuggestion) -> str | None:
        """Why ``add`` does not fit beside the proposals so far (None: it fits), as the selection counts a budget."""
        if self.max_indexes is not None and len(advice.indexes) + 1 > self.max_indexes:
            return (f"{add.name} not proposed: a new index beside the {len(advice.indexes)} proposed is over "
                    f"--max-indexes {self.max_indexes}")
        used = sum(self.size(ix) for ix in advice.indexes) + self.size(add)
        margin = FORECAST_MARGIN if self.basis == SizeBasis.FORECAST else 0.0
        if self.max_index_mb is None or used <= self.max_index_mb * 1048576 / (1.0 + margin):
            return None
        return (f"{add.name} not proposed: its {self.size(add) / 1048576:.1f} MB would bring the new indexes to "
                f"{used / 1048576:.1f} MB, over --max-index-mb {self.max_index_mb:g} ({add.reason.split(';')[0]})")
