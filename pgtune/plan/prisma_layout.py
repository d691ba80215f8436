"""The Prisma Migrate layout: one folder per concurrent statement, one per phase for the rest (see layouts).

Names as Prisma's own migrations write them. Without multiSchema, Prisma's
schema engine writes every table unqualified (``"Response"``), and runs a
migration with the search_path set to the datasource URL's ``?schema=``; so
a table in the schema Prisma migrates (its ledger's, ``_prisma_migrations``)
is written unqualified here too, and the same folder deploys to a database
with another ``?schema=`` (CI, staging). A table of another schema keeps its
schema, as multiSchema writes it. So do the down scripts of pgtune's own
folder inside the first (pgtune/NN_down.sql, home_down): the undo a person
runs reads as the migration it undoes.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

from pglast.parser import scan
from pglast.stream import maybe_double_quote_name

from .. import ddl
from . import recipe
from .layouts import _SEGMENTS, Step, StepKind, _alone, _c, _in_transaction, _slug
from .model import IndexFix, Migration, PhaseStep
from .recipe import Item
from .render import _squawk_ignore
from .steps import Action
from .steps import Step as PlanStep

_DEFINITION = "Definition at emit: "


def unqualified(stmt: str, home: str | None) -> str:
    """``stmt`` with ``home.`` taken off the names it qualifies (tables, indexes, statistics).

    Only outside parentheses and before any WHERE: an operator class
    (``public.gin_trgm_ops``) or a function of a predicate keeps its schema. A
    literal is one token, so a comment's text is never touched.
    """
    if home is None or not stmt:
        return stmt
    spellings = {maybe_double_quote_name(home), '"' + home.replace('"', '""') + '"'}
    tokens = scan(stmt)
    cut: list[tuple[int, int]] = []
    depth = 0
    for i, tok in enumerate(tokens):
        if tok.name == "WHERE":
            break
        depth += {"ASCII_40": 1, "ASCII_41": -1}.get(tok.name, 0)
        after = tokens[i + 1] if i + 1 < len(tokens) else None
        before = tokens[i - 1] if i else None
        if (depth == 0 and after is not None and after.name == "ASCII_46" and stmt[tok.start:tok.end + 1] in spellings
                and (before is None or before.name != "ASCII_46")):
            cut.append((tok.start, after.end + 1))
    for start, end in reversed(cut):
        stmt = stmt[:start] + stmt[end:]
    return stmt


def home_down(home: str | None) -> Callable[[list[Item]], list[Item]] | None:
    """What pgtune/NN_down.sql of a Prisma migration is written as: its statements unqualified in ``home``, as the
    folders' migration.sql are (None: every name stays qualified, as multiSchema writes them). Prisma sets the
    search_path itself; a person running the file does not, so its first line says to."""
    if home is None:
        return None

    def homed(items: list[Item]) -> list[Item]:
        head = _pc(f"Names in schema {home} are written unqualified, as in the Prisma migrations this undoes: run it "
                   f"with the search_path Prisma deploys with (?schema=), e.g. {pgoptions(home)} psql ...")
        return [head, *(replace(i, sql=tuple(unqualified(t, home) for t in i.sql)) if isinstance(i, PlanStep)
                        else i for i in items)]
    return homed


def pgoptions(home: str) -> str:
    """``PGOPTIONS=…`` setting the search_path to ``home`` for a shell line: the schema quoted as an identifier
    where it needs it (``"it's a $X"``), its whitespace and backslashes escaped as the server splits PGOPTIONS
    (pg_split_opts), the whole quoted for a POSIX shell (a schema ``it's`` ended the shell's quote: c39)."""
    value = "".join("\\" + ch if ch.isspace() or ch == "\\" else ch for ch in ddl.name(home))
    return "PGOPTIONS=" + shlex.quote(f"-c search_path={value}")


def _homed(st: Step, home: str | None) -> Step:
    """``st`` with every statement it writes, and an index's definition at emit, unqualified in ``home``."""
    def u(text: str) -> str:
        return unqualified(text, home)
    note = st.note
    if note is not None and note.startswith(_DEFINITION):
        note = _DEFINITION + u(note.removeprefix(_DEFINITION))
    return replace(st, up=u(st.up), down=None if st.down is None else u(st.down), note=note,
                   restores=tuple(map(u, st.restores)), undo_all=tuple(map(u, st.undo_all)),
                   before=tuple(_homed(b, home) for b in st.before))


def prisma(m: Migration, directory: Path, todo: list[Step], start: datetime, left_out: list[str],
           home: str | None = None) -> dict[Path, str]:
    """One folder per concurrent statement, one per phase for the rest; the recipe once, in the first.

    ``home``: the schema Prisma migrates, whose names are written unqualified (None: all stay qualified).
    """
    todo = [_homed(st, home) for st in todo]
    groups: list[list[Step]] = []
    for st in todo:
        # A run of a phase's statements that may share a file shares a folder, in order (attaches after builds).
        last = groups[-1] if groups else None
        if st.concurrent or last is None or last[0].concurrent or last[0].phase.number != st.phase.number:
            groups.append([st])
        else:
            last.append(st)
    names = _unique([_prisma_name(g) for g in groups])
    folders = [directory / f"{(start + timedelta(seconds=i)).strftime('%Y%m%d%H%M%S')}_pgtune_{name}"
               for i, name in enumerate(names)]
    files: dict[Path, str] = {}
    for i, (group, folder) in enumerate(zip(groups, folders, strict=True)):
        phase = group[0].phase
        lines = [_pc(f"pgtune migration {m.id}, phase {phase.number} of {len(m.phases)}: {phase.name}.")]
        lines += (_prisma_recipe(m, left_out) if i == 0 else
                  [_pc(f"How pgtune's Prisma migrations run, fail and are undone: see {folders[0].name}.")])
        lines += (_prisma_alone(group[0], folder.name, home) if group[0].concurrent
                  else _prisma_shared(m, group, folder.name))
        files[folder / "migration.sql"] = "\n".join(lines) + "\n"
    return files


_SHARED_NAMES = {PhaseStep.INDEXES: "analyze", PhaseStep.ADD_NOT_VALID: "add_checks_not_valid",
                 PhaseStep.VALIDATE: "validate_checks", PhaseStep.VALIDATE_EXISTING: "validate_constraints"}


def _prisma_name(group: list[Step]) -> str:
    """A folder's readable name: the phase and, for a concurrent statement, what it builds, drops or rebuilds."""
    first = group[0]
    what = (first.name if first.concurrent or first.kind == StepKind.BUILD
            else _SHARED_NAMES.get(first.phase.step, first.phase.name))
    return f"p{first.phase.number}_{_slug(what)}"


def _unique(names: list[str]) -> list[str]:
    """``names`` with a repeat numbered (_2, _3…): two folders never read the same."""
    seen: dict[str, int] = {}
    out = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name}_{seen[name]}")
    return out


def _pc(text: str) -> str:
    """A comment line for Prisma: escaped as any, and without a semicolon (a driver adapter splits files at each)."""
    return _c(text).replace(";", "\\x3b")


def _prisma_recipe(m: Migration, left_out: list[str]) -> list[str]:
    lines = [
        "-- How pgtune's Prisma migrations run (said once, here, for all the folders pgtune wrote with this one):",
        "-- prisma migrate deploy sends each migration.sql as one query, and the statements of one query run as",
        "-- one transaction, where CREATE, DROP and REINDEX INDEX CONCURRENTLY cannot run. So each concurrent",
        "-- statement has a migration of its own, and the other statements of a phase share one migration, each",
        "-- in its own BEGIN ... COMMIT with its own lock_timeout and statement_timeout.",
        "-- A statement alone in its file cannot carry a SET: give the role that runs migrations a lock timeout,",
        _pc(f"once: ALTER ROLE <migration role> SET lock_timeout = '{m.lock_timeout}'. A build that cannot get its "
            "lock in time then fails"),
        "-- instead of queueing the application's writes behind it. Give that role statement_timeout 0 as well: a",
        "-- build runs under the server's, ALTER DATABASE's or ALTER ROLE's, and one cut mid-way is left INVALID.",
        "-- When a migration fails, Prisma marks it failed and deploys nothing after it: do what its file says, then",
        "-- npx prisma migrate resolve --rolled-back <its folder>, and deploy again. Every file is safe to run twice.",
        "-- Prisma has no down migrations: each file says what undoes it.",
    ]
    if any(p.indexes for p in m.phases):
        lines += ["-- The next prisma migrate dev drops every index schema.prisma does not declare: add pgtune's lines "
                  "with",
                  "-- pgtune suggest --prisma-schema prisma/schema.prisma --write (see pgtune's docs/prisma.md)."]
    if any(e.fix == IndexFix.DROP for p in m.phases for e in p.existing):
        lines += ["-- The next prisma migrate dev builds again every index schema.prisma still declares: remove the "
                  "@@index,",
                  "-- @unique or @@unique of each index dropped here in the same change (pgtune health --prisma-schema "
                  "names them)."]
    if left_out:
        lines.append(_pc(f"Left out, being on Prisma's own migration table: {', '.join(left_out)}."))
    return lines


def _prisma_alone(st: Step, folder: str, home: str | None) -> list[str]:
    """A concurrent statement alone in its migration, with its own recovery and undo."""
    lines = [_pc(st.note)] if st.note else []
    resolve = f"then npx prisma migrate resolve --rolled-back {folder}, and deploy again."
    typed = st.typed
    action = typed.action if typed is not None else None
    if st.kind == StepKind.BUILD or action == Action.CREATE:
        undo = st.down or (unqualified(ddl.drop_index(typed.schema, typed.name), home) if typed is not None
                           else "DROP INDEX CONCURRENTLY")
        lines.append(_pc(f"If it fails, the index is left INVALID, and IF NOT EXISTS would skip it: run {undo}, "
                         + resolve))
    elif action == Action.REBUILD and typed is not None:
        lines.append(_pc(f"If it fails, REINDEX leaves an INVALID copy, {typed.name}_ccnew: drop it with DROP INDEX "
                         f"CONCURRENTLY IF EXISTS, {resolve}"))
    else:
        lines.append(_pc("If it fails, run it again: IF EXISTS also drops what an interrupted drop leaves INVALID, "
                         + resolve))
    if st.kind == StepKind.BUILD or st.undo_all:
        lines += _undo(st)
    elif st.down:
        lines.append(_pc("To undo (Prisma has no down migrations), build it again as it was:"))
        lines += [_pc(f"  {r}") for r in (st.down, *st.restores)]
    return lines + _alone(st.up, "Alone in the file: the migration role's lock_timeout applies.")


def _undo(st: Step) -> list[str]:
    """A statement's "To undo": a partitioned index's whole removal on its ON ONLY, and none on the statements
    of its partitions (one attached is dropped only with its parent)."""
    if st.undo_all:
        head = (recipe.UNCOMPLETE_HEAD if st.kind == StepKind.REBUILD else "To undo, in this order (the "
                "partitioned index takes the partitions' indexes attached to it, a deploy stopped before an attach "
                "leaves that partition's index alone):")
        return [_pc(head), *(_pc(f"  {r}") for r in st.undo_all)]
    if st.down is None or (st.typed is not None and st.typed.parent is not None):
        return []
    return [_pc(f"To undo: {st.down}")]


def _prisma_shared(m: Migration, group: list[Step], folder: str) -> list[str]:
    """The phase's other statements, each in its own transaction with its timeouts, each safe to run twice."""
    lines = [*_SEGMENTS,
             "-- If a statement fails, those before it stay done, and the file is safe to run again: fix the cause,",
             _pc(f"then npx prisma migrate resolve --rolled-back {folder}, and deploy again.")]
    for st in group:
        lines.append("")
        if st.note:
            lines.append(_pc(st.note))
        body = [st.up]
        if st.kind == StepKind.ADD_NOT_VALID and st.down:
            # No ADD CONSTRAINT IF NOT EXISTS: pgtune's own constraint is dropped first, so a second run adds it again.
            body = [_squawk_ignore(st.down, "ban-drop-constraint", "Run twice, the file adds pgtune's own "
                                   "constraint again."), st.up]
        lines += _undo(st)
        lines += _in_transaction(m, *body, scans=st.scans)
    return lines


