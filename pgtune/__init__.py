"""pgtune: workload-driven index advice and phased, rollback-safe migrations for PostgreSQL.

The Python API mirrors the CLI: ``suggest`` (capture + analyze), ``plan``
(the migration model), ``apply``/``rollback``/``status`` and ``verify``.
"""

__version__ = "0.1.0"
