"""Named catalog queries from the ``sql/`` folder (shipped as ``pgtune.sql``).

One question per file; the file's name is the query's name. A fragment
(``statement_start``, ``utility_statement``) is a piece several queries share,
written once: a query names it as ``{fragment}`` and ``compose`` puts it in.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

import psycopg
from psycopg import sql

FRAGMENTS = ("statement_start", "utility_statement")


@cache
def load(name: str) -> str:
    """Return the text of ``sql/<name>.sql``."""
    return resources.files("pgtune.sql").joinpath(f"{name}.sql").read_text(encoding="utf-8")


def compose(name: str, **parts: sql.Composable) -> sql.Composed:
    """``sql/<name>.sql`` with the fragments it names and ``parts`` (identifiers, literals) put in."""
    return _filled(load(name), parts)


@cache
def _fragment(name: str) -> sql.Composed:
    """A fragment's text without its header comment, its own fragments put in."""
    body = "\n".join(line for line in load(name).splitlines() if not line.startswith("--")).strip()
    return _filled(body, {})


def _filled(text: str, parts: dict[str, sql.Composable]) -> sql.Composed:
    named = {f: _fragment(f) for f in FRAGMENTS if "{" + f + "}" in text}
    return sql.SQL(text).format(**named, **parts)


def extension_schema(conn: psycopg.Connection[Any], name: str) -> str | None:
    """The schema extension ``name`` is installed in (``extensions`` on Supabase), or None: its functions and
    views are named with it, as the search_path of pgtune's session (or a role's, SET LOCAL) may leave it out."""
    row = conn.execute(load("extension_schema"), {"name": name}).fetchone()
    return str(row[0]) if row else None


def function(schema: str | None, name: str) -> sql.Composable:
    """An extension's function, named with its schema (``extension_schema``) when it has one."""
    return sql.Identifier(schema, name) if schema else sql.Identifier(name)
