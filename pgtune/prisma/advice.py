"""pgtune's proposals in Prisma's terms: the schema lines to add, or why Prisma cannot hold them.

An index Prisma's schema does not list is drift to ``prisma migrate dev``:
its next migration drops it. So every index pgtune builds should also be in
``schema.prisma`` under pgtune's name (``map:``), and what Prisma cannot
express (INCLUDE, expression keys, and partial indexes before the
``partialIndexes`` preview feature) is named plainly, with the recipe.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import pglast
from pglast import ast, enums

from ..analyze import IndexSuggestion
from ..capture import Index
from ..constraints.model import ConstraintKind, Proposal
from ..health import CheckId, Finding
from ..plan import IndexFix, Migration
from .schema import Key, KeyKind, Model, PrismaSchema, quote

PARTIAL_FEATURE = "partialIndexes"
CREATE_ONLY = ("create it in a migration made with `prisma migrate dev --create-only` (Prisma's documented way "
               "for what its schema cannot express) holding pgtune's statement, and check with `prisma migrate diff` "
               "that the next migration does not drop it")


class Fit(StrEnum):
    """How far Prisma's schema language can hold a proposal."""

    LINE = "line"                 # the line says it all
    PREVIEW = "preview"           # the line needs a preview feature the generator does not enable
    SQL_ONLY = "sql-only"         # no line can say it: keep it in a SQL migration
    NO_MODEL = "no-model"         # no model of the schema maps this table
    IN_SCHEMA = "in-schema"       # the schema already declares it
    REMOVE = "remove"             # a migration drops an index the schema declares: remove its line


class ProposalKind(StrEnum):
    """What a Prisma proposal is about."""

    INDEX = "index"
    CHECK = "check"
    NOT_NULL = "not-null"
    DROP = "drop"                 # a migration drops an index the schema declares (health's, suggest's last phase)


@dataclass
class PrismaProposal:
    name: str                     # the index or constraint
    kind: ProposalKind
    model: str | None
    line: str | None              # the line to add (or to remove, for REMOVE)
    fit: Fit
    note: str = ""                # what Prisma cannot say, and the recipe
    written: bool = False         # added to the schema file by --write
    attribute: str | None = None  # REMOVE: the attribute to take out (``@unique``, ``@@index([a])``)
    field: str | None = None      # REMOVE: the field that carries it, for a field-level ``@unique``/``@id``


@dataclass
class PrismaAdvice:
    schema_path: str
    proposals: list[PrismaProposal] = field(default_factory=list)
    written: bool = False

    def additions(self) -> dict[str, list[str]]:
        """Model -> lines that --write adds: only what the schema can hold as it is configured."""
        out: dict[str, list[str]] = {}
        for p in self.proposals:
            if p.fit == Fit.LINE and p.model and p.line:
                out.setdefault(p.model, []).append(p.line)
        return out

    def as_dict(self) -> dict[str, Any]:
        return {"schema": self.schema_path, "written": self.written,
                "proposals": [{**p.__dict__, "kind": str(p.kind), "fit": str(p.fit)} for p in self.proposals]}


def for_indexes(schema: PrismaSchema, indexes: Sequence[IndexSuggestion],
                constraints: Sequence[Proposal] = ()) -> PrismaAdvice:
    advice = PrismaAdvice(str(schema.path or "schema.prisma"))
    for ix in indexes:
        advice.proposals.append(index_proposal(schema, ix.schema, ix.table, ix.name, ix.columns, ix.descending,
                                               ix.expressions, ix.where, ix.include, str(ix.method), ix.opclasses))
    for c in constraints:
        advice.proposals.append(_constraint(schema, c))
    return advice


def for_drops(schema: PrismaSchema, migration: Migration, proposals: Sequence[PrismaProposal]) -> list[PrismaProposal]:
    """The schema line to remove for each index ``migration`` drops that the schema declares (r36, Umami-shaped:
    suggest's last phase dropped ``session_website_id_idx``, which ``@@index([websiteId])`` on model Session
    declares, and the advice named only the lines to add; the next ``prisma migrate dev`` built it again).

    ``proposals``: the lines to add, so that the note names the one for the index serving in its place.
    """
    out: list[PrismaProposal] = []
    for phase in migration.phases:
        for ix in phase.existing:
            model = schema.model_for(ix.schema, ix.table) if ix.fix == IndexFix.DROP else None
            key = model.keys.get(ix.name) if model is not None else None
            if model is None or key is None:
                continue
            keeper = next((p for p in proposals if p.name == ix.served_by and p.model == model.name and p.line), None)
            add = (f", and keep the line for {ix.served_by} above, which serves its lookups instead: without it the "
                   f"next `prisma migrate dev` drops {ix.served_by} as drift") if keeper is not None else ""
            out.append(PrismaProposal(
                ix.name, ProposalKind.DROP, model.name, key.line, Fit.REMOVE,
                f"phase {phase.number} drops it ({ix.served_by} serves all it does): once that phase has run, remove "
                f"{key.removal} from model {model.name}{add}. While the schema declares it, the next `prisma migrate "
                "dev` (or `prisma db push`) builds it again; removed before the phase runs, Prisma drops it (a plain "
                "DROP INDEX, whose lock blocks the table's reads and writes), maybe before its replacement is built",
                attribute=key.attribute, field=key.field))
    return out


def hold_drops(schema: PrismaSchema | None, indexes: Sequence[IndexSuggestion], prisma_app: bool) -> list[str]:
    """Take off each proposal's ``redundant`` what the migration must not drop on a Prisma application's database;
    a line per one kept, and why.

    With the schema: an index it declares as ``@id``/``@unique`` (Prisma enforces the key with it), even where
    the database's copy is not unique. Without it, on a database whose workload is Prisma Client's (``prisma_app``,
    no ``_prisma_migrations``: ``prisma db push``), every one: pgtune cannot tell which line declares it, and while
    one does, the next ``prisma db push`` builds it again, with a plain CREATE INDEX that blocks the table's writes
    for the whole build; a redundant index costs only its writes (r36).
    """
    kept: list[str] = []
    for ix in indexes:
        model = schema.model_for(ix.schema, ix.table) if schema is not None else None
        for old in list(ix.redundant):
            key = model.keys.get(old) if model is not None else None
            if key is not None and key.kind in (KeyKind.ID, KeyKind.UNIQUE):
                why = f"schema.prisma declares it as a key ({key.attribute}), which Prisma enforces with it"
            elif schema is None and prisma_app:
                why = ("the workload is Prisma Client's, and schema.prisma may declare it: while it does, the next "
                       "`prisma db push` or `prisma migrate dev` builds it again, blocking the table's writes; give "
                       "--prisma-schema, and pgtune drops it and names the line to remove")
            else:
                continue
            ix.redundant.remove(old)
            kept.append(f"existing index {old} kept beside {ix.name}: {why}")
    return kept


# The end of the name pgtune gives an index on a database Prisma migrates (Catalog.index_suffix).
OWN_SUFFIX = "_pgtune_idx"
# ...and its free variants (_pgtune_idx2, 3, ...: advisor._name, when a relation already held the first).
_OWN_NAME = re.compile(re.escape(OWN_SUFFIX) + r"\d*$")


def for_built(schema: PrismaSchema, indexes: Iterable[Index], built: Collection[tuple[str, str]],
              skip: Collection[str] = ()) -> list[PrismaProposal]:
    """The line for each index pgtune made that stands in the database and that the schema does not declare.

    Migrations written with ``--layout prisma`` and deployed before their lines
    were written leave such indexes; so does ``apply``. Suggest then proposes
    nothing for them (they exist), and the next ``prisma migrate dev`` drops
    each as drift (u15, Formbricks: after deploy, the ``--write`` every
    migration's comment names added no line). pgtune's are the ones its history
    records (``built``) and, on a Prisma database, the ones with its name ending.
    ``skip``: names proposed already.
    """
    out = []
    for ix in indexes:
        mine = (ix.schema, ix.name) in built or _OWN_NAME.search(ix.name) is not None
        if not mine or not ix.is_valid or ix.is_unique or ix.is_primary or ix.name in skip:
            continue
        exprs = [d if c is None else None for c, d in zip(ix.columns, ix.key_defs, strict=False)]
        p = index_proposal(schema, ix.schema, ix.table, ix.name, [c or "" for c in ix.columns], ix.descending,
                           exprs, ix.predicate, ix.include, ix.method, _opclasses(ix.definition))
        if p.fit in (Fit.IN_SCHEMA, Fit.NO_MODEL):
            continue
        p.note = ("built in the database, not declared in the schema: without this line the next "
                  "`prisma migrate dev` drops it"
                  + (f"; {p.note}" if p.note else ""))
        out.append(p)
    return out


def _opclasses(definition: str) -> list[str | None]:
    """Each key's operator class as ``pg_get_indexdef`` prints it (only where it is not the default)."""
    try:
        stmt = pglast.parse_sql(definition)[0].stmt
    except pglast.parser.ParseError:
        return []
    if not isinstance(stmt, ast.IndexStmt):
        return []
    return [".".join(n.sval for n in e.opclass) if e.opclass else None for e in stmt.indexParams or ()]


# Prisma's index types (`type: Gin`) and the operator classes it names; any other goes through raw("…").
_TYPES = {"gin": ", type: Gin", "brin": ", type: Brin", "hash": ", type: Hash"}
_OPS = {"jsonb_path_ops": "JsonbPathOps", "jsonb_ops": "JsonbOps", "array_ops": "ArrayOps"}


def _with_ops(field: str, opclass: str | None) -> str:
    """``title(ops: raw("gin_trgm_ops"))``: the schema-less operator class, as Prisma writes it."""
    if opclass is None:
        return field
    bare = opclass.rsplit(".", 1)[-1]
    return f"{field}(ops: {_OPS.get(bare) or f'raw({quote(bare)})'})"


def index_proposal(schema: PrismaSchema, table_schema: str, table: str, name: str, columns: Sequence[str],
                   descending: Sequence[bool] = (), expressions: Sequence[str | None] = (),
                   where: str | None = None, include: Sequence[str] = (), method: str = "btree",
                   opclasses: Sequence[str | None] = ()) -> PrismaProposal:
    model = schema.model_for(table_schema, table)
    if model is None and schema.home is not None and any(m.table == table and m.schema is None for m in schema.models):
        return PrismaProposal(name, ProposalKind.INDEX, None, None, Fit.NO_MODEL,
                              f"no model maps {table_schema}.{table}: this schema's models are {schema.home[0]}'s "
                              f"(the connection's schema); for {table_schema}'s run pgtune with its URL "
                              f"(?schema={table_schema})")
    if model is None:
        return PrismaProposal(name, ProposalKind.INDEX, None, None, Fit.NO_MODEL,
                              f"no model maps {table_schema}.{table}: {CREATE_ONLY}")
    if name in model.index_names:
        return PrismaProposal(name, ProposalKind.INDEX, model.name, None, Fit.IN_SCHEMA,
                              "already declared in the schema")
    keys: list[str] = []
    for i, column in enumerate(columns):
        if i < len(expressions) and expressions[i]:
            return PrismaProposal(name, ProposalKind.INDEX, model.name, None, Fit.SQL_ONLY,
                                  f"Prisma cannot express an expression key ({expressions[i]}): {CREATE_ONLY}")
        f = model.field_for(column)
        if f is None:
            return PrismaProposal(name, ProposalKind.INDEX, model.name, None, Fit.SQL_ONLY,
                                  f"column {column} has no field in model {model.name}: {CREATE_ONLY}")
        desc = i < len(descending) and descending[i]
        opclass = opclasses[i] if i < len(opclasses) else None
        keys.append(f"{f.name}(sort: Desc)" if desc else _with_ops(f.name, opclass))
    args = f"[{', '.join(keys)}]{_TYPES.get(method, '')}, map: {quote(name)}"
    same = _declared_with_keys(model, keys) if include and where is None and method == "btree" else None
    if same is not None:
        # Without its INCLUDE the line is an index the model already declares (u12: Cal.com's Attendee.email).
        return PrismaProposal(name, ProposalKind.INDEX, model.name, None, Fit.SQL_ONLY,
                              f"without INCLUDE ({', '.join(include)}), which Prisma cannot express, this index "
                              f"has the keys of {same.name}, which model {model.name} declares ({same.attribute}): "
                              "a line would build a second index with the same keys. Built by SQL, it would stand "
                              f"beside {same.name} (Prisma builds the declared one again if it is dropped), an index "
                              "with the same keys that only adds writes: leave it out, or drop the line "
                              f"`{same.attribute}` and {CREATE_ONLY}")
    if include:
        # The line says itself what it lacks, so whoever copies it sees the caveat where it applies.
        line = f"@@index({args}) // without INCLUDE ({', '.join(include)}): Prisma cannot express INCLUDE"
        return PrismaProposal(name, ProposalKind.INDEX, model.name, line, Fit.SQL_ONLY,
                              f"Prisma has no INCLUDE ({', '.join(include)}), and on PostgreSQL its migrate reads "
                              "INCLUDE columns as keys (prisma/prisma#8547): with this line the next `prisma migrate "
                              "dev` may build the index again without INCLUDE, and then no index-only scan; either "
                              f"declare it so, knowingly, or {CREATE_ONLY}")
    if where is not None:
        line = f"@@index({args}, where: raw({quote(where)}))"
        if PARTIAL_FEATURE in schema.preview_features:
            return PrismaProposal(name, ProposalKind.INDEX, model.name, line, Fit.LINE)
        return PrismaProposal(name, ProposalKind.INDEX, model.name, line, Fit.PREVIEW,
                              f'a partial index needs previewFeatures = ["{PARTIAL_FEATURE}"] in the generator '
                              f"(Prisma 7.4 and later) for this line; without it, {CREATE_ONLY}")
    return PrismaProposal(name, ProposalKind.INDEX, model.name, f"@@index({args})", Fit.LINE)


def _declared_with_keys(model: Model, keys: Sequence[str]) -> Key | None:
    """The b-tree key or index ``model`` declares on exactly ``keys`` (as a line writes them), if any.

    Only a declaration with nothing more to it counts: no ``where:``, no ``type:`` other than BTree.
    """
    for key in model.keys.values():
        if key.field is not None:
            listed = [key.field]
        else:
            found = re.search(r"\[([^\]]*)\]", key.attribute)
            if found is None or re.search(r"\bwhere\s*:|\btype\s*:\s*(?!BTree\b)", key.attribute):
                continue
            listed = [k.strip() for k in found.group(1).split(",") if k.strip()]
        if [_normal(k) for k in listed] == [_normal(k) for k in keys]:
            return key
    return None


def _normal(key: str) -> str:
    """``createdAt( sort:Desc )`` and ``createdAt(sort: Desc)`` alike; ``sort: Asc`` is the default."""
    bare = re.sub(r"\s+", "", key)
    return re.sub(r"\(sort:Asc\)$", "", bare)


def _constraint(schema: PrismaSchema, c: Proposal) -> PrismaProposal:
    model = schema.model_for(c.schema, c.table)
    name = model.name if model else None
    if c.kind == ConstraintKind.NOT_NULL and model is not None:
        f = model.field_for(c.columns[0])
        if f is not None:
            return PrismaProposal(c.name, ProposalKind.NOT_NULL, name, None, Fit.SQL_ONLY,
                                  f"once the migration has run, make field {model.name}.{f.name} required (drop the "
                                  "`?` from its type): else the next `prisma migrate dev` sets the column back to "
                                  "NULL-able")
    # n38: a low-confidence check is never written to a migration (the data alone cannot show what the application
    # may write); its line here said "add pgtune's ADD CONSTRAINT" as for a high one, a CHECK that may reject writes.
    review = ("" if c.confidence.written else
              "low confidence, for review only: pgtune writes it into no migration, as the data alone cannot show "
              "what the application may write; only if it always holds, ")
    return PrismaProposal(c.name, ProposalKind.CHECK, name, None, Fit.SQL_ONLY,
                          review + "Prisma has no syntax for CHECK constraints and its migrations neither create nor "
                          "drop them: add pgtune's ADD CONSTRAINT … NOT VALID and, in a later migration, VALIDATE "
                          "CONSTRAINT, each in a migration made with `prisma migrate dev --create-only`")


def for_health(schema: PrismaSchema, findings: Sequence[Finding]) -> PrismaAdvice:
    """Findings whose fix changes what the schema should say: an index to add, or a declared one to drop."""
    advice = PrismaAdvice(str(schema.path or "schema.prisma"))
    removed: set[tuple[str, str, str]] = set()      # one removal line an index, its keeper's first (c26)
    for f in sorted(findings, key=lambda f: not (f.evidence.get("covered_by") or f.evidence.get("duplicate_of"))):
        if f.check == CheckId.FOREIGN_KEY_WITHOUT_INDEX and f.evidence.get("index"):
            advice.proposals.append(index_proposal(schema, f.schema, f.table or "", str(f.evidence["index"]),
                                                   list(f.evidence.get("columns", [])), where=f.evidence.get("where")))
        elif f.check in (CheckId.DUPLICATE_INDEX, CheckId.OVERLAPPING_INDEX, CheckId.UNUSED_INDEX) and f.index:
            model = schema.model_for(f.schema, f.table or "")
            key = model.keys.get(f.index) if model is not None else None
            if model is not None and key is not None and (f.schema, f.table or "", f.index) not in removed:
                removed.add((f.schema, f.table or "", f.index))
                advice.proposals.append(PrismaProposal(
                    f.index, ProposalKind.DROP, model.name, key.line, Fit.REMOVE,
                    _removal_note(schema, model, key, f), attribute=key.attribute, field=key.field))
    return advice


def _removal_note(schema: PrismaSchema, model: Model, key: Key, f: Finding) -> str:
    """Remove the declared index's line; first declare the index that serves its lookups instead, if the schema
    does not (u12, Cal.com: ``@@index([userId])`` beside pgtune's undeclared ``("userId", "startTime", …)``).

    Without its line the keeper is drift: the next ``prisma migrate dev`` drops it, and with the removed line's
    index gone too, nothing serves the lookups either served (the application's hottest reads, a foreign key's).
    """
    why = "while the schema declares it, the next `prisma migrate dev` builds it again"
    keeper = f.evidence.get("covered_by") or f.evidence.get("duplicate_of")
    if not keeper or str(keeper) in model.index_names:
        return f"remove {key.removal} from model {model.name} in the same change: {why}"
    line = _keeper_line(schema, f, str(keeper))
    add = f"add `{line}` to model {model.name} first" if line else f"declare {keeper} in the schema first"
    return (f"remove {key.removal} from model {model.name} in the same change ({why}), but only with a line for "
            f"{keeper}, which serves its lookups instead and which the schema does not declare: without that line "
            f"the next `prisma migrate dev` drops {keeper} as drift, and with {f.index} gone too nothing serves "
            f"them; {add}")


def _keeper_line(schema: PrismaSchema, f: Finding, keeper: str) -> str | None:
    """The schema line for the index that makes ``f.index`` redundant, from its definition; None if no line says it."""
    text = f.evidence.get("covered_by_definition")
    if not isinstance(text, str):
        return None
    try:
        stmt = pglast.parse_sql(text)[0].stmt
    except pglast.parser.ParseError:
        return None
    if not isinstance(stmt, ast.IndexStmt) or stmt.unique or stmt.whereClause is not None:
        return None
    if stmt.accessMethod not in (None, "btree") or stmt.indexIncludingParams:
        return None
    columns: list[str] = []
    descending: list[bool] = []
    for elem in stmt.indexParams or ():
        if elem.name is None or elem.opclass or elem.collation:
            return None
        columns.append(elem.name)
        descending.append(elem.ordering == enums.SortByDir.SORTBY_DESC)
    p = index_proposal(schema, f.schema, f.table or "", keeper, columns, descending)
    return p.line if p.fit == Fit.LINE else None
