"""HypoPG's index names, read so that one cut inside a character neither fails nor reads as another's.

HypoPG names an index ``<oid>btree_<table>_<columns>`` and cuts that at
NAMEDATALEN - 1 bytes, inside a multibyte character maybe (a table named with
'é' or CJK): the server sends those bytes as they are, in hypopg_create_index's
answer and in every EXPLAIN that uses the index, and psycopg's text and json
loaders refuse them (UnicodeDecodeError, a ValueError the callers took for "cannot
plan": the warm re-pricing and `pgtune baseline` lost their predictions so, c39).
A name is read as its bytes (``raw_cursor``) and made what a plan read leniently
shows (``plan_name``: a cut character's bytes each U+FFFD), as ``Answer`` and
``explain_script.lenient`` read plans. Its ``<oid>`` stays whole, so two
hypothetical indexes never read alike. pgtune only matches these names.
"""

from __future__ import annotations

import json
from typing import Any

import psycopg
from psycopg.adapt import Buffer, Loader


class LenientText(Loader):
    def load(self, data: Buffer) -> str:
        return bytes(data).decode(self.connection.info.encoding if self.connection else "utf-8", "replace")


class LenientJson(LenientText):
    def load(self, data: Buffer) -> Any:
        return json.loads(super().load(data))


class _RawText(Loader):
    def load(self, data: Buffer) -> bytes:
        return bytes(data)


def lenient_cursor(conn: psycopg.Connection[Any]) -> psycopg.Cursor[Any]:
    """A cursor that reads an EXPLAIN (json) leniently, whether or not the connection does (``lenient``)."""
    cur = conn.cursor()
    cur.adapters.register_loader(conn.adapters.types["json"].oid, LenientJson)
    return cur


def raw_cursor(conn: psycopg.Connection[Any]) -> psycopg.Cursor[Any]:
    """A cursor that reads text as its bytes, never decoding it: HypoPG's index names (``plan_name``)."""
    cur = conn.cursor()
    for name in ("text", "name"):
        cur.adapters.register_loader(conn.adapters.types[name].oid, _RawText)
    return cur


def plan_name(conn: psycopg.Connection[Any], raw: bytes) -> str:
    """HypoPG's name of an index, from its bytes, as a plan read leniently names it."""
    return raw.decode(conn.info.encoding, "replace")
