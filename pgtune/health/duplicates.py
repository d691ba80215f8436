"""duplicate-index: two indexes with the same definition, and which one stays.

On a database Prisma manages, the one to keep is the one the application's
schema declares: ``prisma migrate dev`` drops every index the schema does not
declare as drift. Keep the undeclared one and drop the declared one, and the
next migration drops the survivor: no index at all, and for a unique index no
uniqueness (u3's R2 on rallly: ``"User_email_key"``, left from before the table
was renamed, beside ``users_email_key``, which ``email String @unique`` on
``@@map("users")`` declares). What is declared comes from the schema
(--prisma-schema), else from the names Prisma gives today under the table's
current name; when neither tells, the finding is reported with no drop.
"""

from __future__ import annotations

from typing import Any

from .. import ddl
from . import partitions
from .checks import Context, drop_statement
from .model import CheckId, Finding, Severity
from .partitions import attached

UNKNOWN = ("which of them the application's Prisma schema declares is unknown (none has the name Prisma gives it): "
           "no drop, since `prisma migrate dev` drops the one it does not declare; run with --prisma-schema")


def _same(r: dict[str, Any]) -> tuple[Any, ...]:
    """What makes two indexes the same index, whatever their names."""
    return (r["schema"], r["table"], r["method"], tuple(r["attnums"]), r["key_count"], tuple(r["opclasses"]),
            tuple(r["collations"]), tuple(r["options"]), r["expressions"], r["predicate"])


def declared(ctx: Context, r: dict[str, Any]) -> bool | None:
    """Whether the application's schema declares index ``r``; None when no ORM's schema is known to hold it."""
    if ctx.declared is not None:
        return r["index"] in ctx.declared(r["schema"], r["table"])
    if not ctx.catalog().prisma_managed:
        return None
    columns = list(r["columns"])
    names = {ddl.prisma_name(r["table"], (), "pkey")}
    if all(columns) and r["expressions"] is None and r["predicate"] is None:
        names.add(ddl.prisma_name(r["table"], columns, "key" if r["is_unique"] else "idx"))
    return r["index"] in names


def duplicate_index(ctx: Context) -> list[Finding]:
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for r in ctx.rows("health_indexes"):
        if r["is_valid"]:
            groups.setdefault(_same(r), []).append(r)
    out = []
    for same in groups.values():
        if len(same) < 2:
            continue
        mine = {r["oid"]: declared(ctx, r) for r in same}
        # Keep one a partitioned index holds (it cannot be dropped alone), one the schema declares, one that
        # backs a constraint (or the unique one), else the oldest.
        keep = min(same, key=lambda r: (not attached(r), not mine[r["oid"]], not r["is_protected"],
                                        not r["is_unique"], r["oid"]))
        unknown = ctx.declared is None and None not in mine.values() and not any(mine.values())
        for r in same:
            if r is keep or r["is_protected"] or attached(r):
                continue
            out.append(_finding(ctx, r, keep, unknown))
    return out


def _finding(ctx: Context, r: dict[str, Any], keep: dict[str, Any], unknown: bool) -> Finding:
    message = f"{partitions.kind(r)} {r['index']} duplicates {keep['index']}: the same keys, twice the writes"
    evidence = {"duplicate_of": keep["index"], "definition": r["definition"], "index_bytes": ctx.tree().size(r),
                **ctx.tree().evidence(r)}
    if unknown:
        evidence["no_drop"] = UNKNOWN
        return Finding(CheckId.DUPLICATE_INDEX, Severity.WARNING, r["schema"], r["table"], r["index"],
                       f"{message}; {UNKNOWN}", evidence, [])
    return Finding(CheckId.DUPLICATE_INDEX, Severity.WARNING, r["schema"], r["table"], r["index"], message,
                   evidence, [drop_statement(ctx.conn, r["schema"], r["index"], r["partitioned"])])
