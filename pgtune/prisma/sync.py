"""A Prisma schema kept in step with the indexes: the lines to add to it or remove from it, and writing them.

Prisma Migrate builds what the schema declares and drops what it does not, so an index pgtune proposes, built
or drops is a line of the schema too (``@@index``), or the next ``prisma migrate dev`` undoes it. suggest and
health both map their advice here (api.suggest, api.health with ``prisma``).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from .. import catalog_sql
from ..analyze import IndexSuggestion
from ..capture import Catalog, read_catalog
from ..constraints.model import Proposal
from ..health import Declared, Finding, built_by
from ..plan import Migration
from . import advice as prisma_advice
from .advice import PrismaAdvice
from .schema import PrismaSchema, insert, save


@dataclass(frozen=True)
class PrismaOptions:
    """Map the proposals to a Prisma schema; with ``write``, add the lines it can hold to the file."""

    schema: Path
    write: bool = False


def anchor(conn: psycopg.Connection[Any], schema: PrismaSchema) -> None:
    """Where the schema's models without @@schema live: the connection's schema (p15: with ?schema=t_acme, a
    tenant t_globex's proposals were written into model Poll, for prisma migrate to build on t_acme)."""
    row = conn.execute(catalog_sql.load("prisma_home")).fetchone()
    if row is not None and row[0] is not None:
        schema.home = (str(row[0]), frozenset(str(t) for t in row[1]))


def declared(schema: PrismaSchema) -> Declared:
    """The index names the schema declares on a table (none for a table no model maps)."""
    def names(table_schema: str, table: str) -> Collection[str]:
        model = schema.model_for(table_schema, table)
        return model.index_names if model is not None else ()
    return names


def for_suggestion(conn: psycopg.Connection[Any], schema: PrismaSchema, indexes: Sequence[IndexSuggestion],
                   constraints: Sequence[Proposal], migration: Migration | None, catalog: Catalog) -> PrismaAdvice:
    """The lines to add (the proposals', then those of indexes pgtune built that the schema lacks), and to remove
    (the indexes the migration drops that the schema declares)."""
    advice = prisma_advice.for_indexes(schema, indexes, constraints)
    advice.proposals += prisma_advice.for_built(schema, catalog.indexes, built_by(conn), {ix.name for ix in indexes})
    if migration is not None:
        advice.proposals += prisma_advice.for_drops(schema, migration, advice.proposals)
    return advice


def for_health(conn: psycopg.Connection[Any], schema: PrismaSchema, findings: Sequence[Finding]) -> PrismaAdvice:
    """The lines health's findings change, then those of indexes pgtune built that the schema lacks."""
    advice = prisma_advice.for_health(schema, findings)
    advice.proposals += prisma_advice.for_built(schema, read_catalog(conn).indexes, built_by(conn),
                                                {p.name for p in advice.proposals})
    return advice


def write(schema: PrismaSchema, advice: PrismaAdvice) -> None:
    """Add the lines the schema can hold, in place; every other byte of the file stays."""
    additions = advice.additions()
    if not additions:
        return
    save(insert(schema, additions))
    for p in advice.proposals:
        p.written = p.model in additions and p.line in additions[p.model]
    advice.written = True
