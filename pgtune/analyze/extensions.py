"""The extensions an index kind needs (pg_trgm for ``gin_trgm_ops``): there, installable, or neither.

pg_trgm ships in PostgreSQL's contrib; a server may lack it (no contrib
package), a database may not have it installed, and a role may not be allowed
to install it (PostgreSQL 13 and later let a role with CREATE on the database
install a trusted extension such as pg_trgm; before that, only a superuser).
pgtune proposes an index that needs an extension only where the server has
it, and says when the role that applies the migration cannot create it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.rows import dict_row

from .. import catalog_sql

TRIGRAM = "pg_trgm"


@dataclass(frozen=True)
class ExtensionNeed:
    """An extension as this database and role see it."""

    name: str
    available: bool                 # the server has it (pg_available_extensions)
    installed: bool                 # this database has it
    schema: str | None              # where it is, or where pgtune would create it
    creatable: bool                 # the current role may create it
    version: str | None = None

    @property
    def note(self) -> str:
        """What a DBA should know before applying, or '' when nothing stands in the way."""
        if not self.available:
            return f"the server has no {self.name} (install PostgreSQL's contrib package)"
        if self.installed or self.creatable:
            return ""
        return (f"{self.name} is not installed and this role may not create it: a superuser runs "
                f"CREATE EXTENSION {self.name} first (or grants CREATE on the database: {self.name} is trusted "
                "from PostgreSQL 13)")


def read(conn: psycopg.Connection[Any], names: list[str], default_schema: str = "public") -> dict[str, ExtensionNeed]:
    """Each named extension's state; ``default_schema`` is where one not yet installed would go."""
    with catalog_sql.uncompiled(conn), conn.cursor(row_factory=dict_row) as cur:
        cur.execute(catalog_sql.load("extension_availability"), {"names": names})
        rows = {r["name"]: r for r in cur.fetchall()}
    out = {}
    for name in names:
        r = rows.get(name)
        if r is None:
            out[name] = ExtensionNeed(name, False, False, None, False)
            continue
        installed = r["installed_version"] is not None
        out[name] = ExtensionNeed(name, True, installed, r["schema"] if installed else default_schema,
                                  bool(r["creatable"]), r["installed_version"])
    return out
