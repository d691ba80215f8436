"""CHECK-constraint families: one module per rule, each with candidates() and prove().

``candidates`` reads only the catalog and pg_stats; ``prove`` asks the data
(bounded) and returns the CHECK expression that every current row satisfies,
or a Finding when rows already break it.
"""

from . import column_order, non_negative, not_null, value_set

FAMILIES = (value_set, non_negative, not_null, column_order)
