"""Reading ``schema.prisma``: the models, their tables and columns, and where a line can be added.

Only the subset pgtune needs: ``model`` blocks (name, ``@@map``, ``@@schema``,
fields with ``@map``, the keys and indexes already declared, field-level ``@id``
and ``@unique`` as well as ``@@id``, ``@@unique`` and ``@@index``, under the
database names Prisma gives them), enums (so an enum field is a column, not a
relation), and the generator's preview features.
Everything is kept by byte offset, so ``insert`` can add lines to a model and
leave every other byte of the file as it was. The tests check what this
reads against Prisma's own schema engine (its DMMF).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from .. import ddl
from ..errors import InputError

_BLOCK = re.compile(r"^[ \t]*(model|enum|view|type|generator|datasource)[ \t]+([A-Za-z_][A-Za-z0-9_]*)[ \t]*\{",
                    re.MULTILINE)
_SCALARS = {"String", "Boolean", "Int", "BigInt", "Float", "Decimal", "DateTime", "Json", "Bytes", "Unsupported"}


@dataclass(frozen=True)
class Field:
    name: str
    type: str                 # without ? or []
    column: str               # @map, else the field name
    is_list: bool = False
    is_relation: bool = False  # a relation field: no column of its own


class KeyKind(StrEnum):
    """What declares a key or index in a model: Prisma names each kind differently (``_pkey``, ``_key``, ``_idx``)."""

    ID = "id"
    UNIQUE = "unique"
    INDEX = "index"


@dataclass(frozen=True)
class Key:
    """A key or index the schema declares, by the name it has in the database."""

    name: str
    kind: KeyKind
    attribute: str            # as written: ``@unique``, ``@id(map: "x")``, ``@@index([a, b])``
    field: str | None = None  # the field that carries a field-level ``@id``/``@unique``
    line: str = ""            # the whole line it stands on (the field's line for a field-level attribute)

    @property
    def removal(self) -> str:
        """What to take out of the model so that Prisma drops it: the attribute, and where it stands."""
        if self.field is None:
            return f"the line `{self.attribute}`"
        return f"`{self.attribute}` from field {self.field} (`{self.line}`)"


@dataclass
class Model:
    name: str
    table: str                # @@map, else the model name
    schema: str | None        # @@schema, else None (the datasource's default)
    fields: list[Field] = field(default_factory=list)
    keys: dict[str, Key] = field(default_factory=dict)   # its keys and indexes by database name
    close: int = 0            # offset of the block's closing brace in its file
    indent: str = "  "        # how its lines are indented
    file: Path = Path("schema.prisma")   # the file it is in (a schema folder has several)

    def field_for(self, column: str) -> Field | None:
        return next((f for f in self.fields if f.column == column and not f.is_relation), None)

    @property
    def index_names(self) -> set[str]:
        """The database names of its keys and indexes."""
        return set(self.keys)


@dataclass
class PrismaSchema:
    files: dict[Path, str]    # each file's text (one, or a schema folder's .prisma files)
    models: list[Model]
    enums: set[str]
    preview_features: set[str]
    path: Path | None = None  # the file or folder it was read from
    # The connection's schema (Prisma's ?schema=) and its tables: a model without @@schema lives there, so a
    # same-named table of another schema (a schema per tenant) is not its own. None: not known, any schema.
    home: tuple[str, frozenset[str]] | None = None
    # The datasource's ``schemas = [...]`` (multiSchema), where Prisma's migrations qualify every table.
    schemas: tuple[str, ...] = ()

    def model_for(self, schema: str, table: str) -> Model | None:
        """The model of ``schema.table``: by table name, in its @@schema, or without one in the connection's
        schema (any schema when that schema holds no such table: a DSN without the application's schema)."""
        def unscoped_here() -> bool:
            return self.home is None or schema == self.home[0] or table not in self.home[1]
        found = [m for m in self.models if m.table == table and
                 (m.schema == schema or (m.schema is None and unscoped_here()))]
        exact = [m for m in found if m.schema == schema]
        best = exact or found
        return best[0] if best else None


def load(path: Path) -> PrismaSchema:
    """A schema file, or a schema folder (Prisma's multi-file schema: every .prisma file under it)."""
    path = Path(path)
    names = sorted(path.rglob("*.prisma")) if path.is_dir() else [path]
    if not names:
        raise InputError(f"{path} holds no .prisma file")
    files: dict[Path, str] = {}
    for name in names:
        try:
            files[name] = name.read_bytes().decode()
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"cannot read the Prisma schema {name}: {exc}") from None
    schema = parse_files(files)
    schema.path = path
    return schema


def parse(text: str) -> PrismaSchema:
    """One schema text (see ``parse_files``)."""
    return parse_files({Path("schema.prisma"): text})


def parse_files(files: dict[Path, str]) -> PrismaSchema:
    """The models, enums and preview features of a schema's files; one clear error for what it cannot read."""
    models: list[Model] = []
    enums: set[str] = set()
    preview: set[str] = set()
    schemas: tuple[str, ...] = ()
    bodies: list[tuple[Path, str, str, int, int]] = []
    for file, text in files.items():
        blank = _blank_comments(text)
        pos = 0
        while True:
            m = _BLOCK.search(blank, pos)
            if m is None:
                break
            close = _closing_brace(blank, m.end(), file)
            bodies.append((file, m.group(1), m.group(2), m.end(), close))
            pos = close + 1
    model_names = {name for _, kind, name, _, _ in bodies if kind in ("model", "view")}
    for file, kind, name, start, close in bodies:
        if kind == "enum":
            enums.add(name)
        elif kind == "generator":
            for stmt in _statements(files[file][start:close]):
                if stmt.startswith("previewFeatures"):
                    preview |= set(re.findall(r'"([^"\\]*)"', stmt))
        elif kind == "datasource":
            for stmt in _statements(files[file][start:close]):
                if re.match(r"schemas\s*=", stmt):
                    schemas = tuple(re.findall(r'"([^"\\]*)"', stmt))
    for file, kind, name, start, close in bodies:
        if kind in ("model", "view"):
            model = _model(name, files[file], start, close, model_names, enums)
            model.file = file
            models.append(model)
    return PrismaSchema(files, models, enums, preview, schemas=schemas)


def _model(name: str, text: str, start: int, close: int, model_names: set[str], enums: set[str]) -> Model:
    body = text[start:close]
    model = Model(name, name, None, close=close, indent=_indent(body))
    declared: list[tuple[KeyKind, str, str, str | None, str]] = []   # kind, arguments, attribute, field, line
    for stmt in _statements(body):
        if stmt.startswith("@@"):
            attr, args = _attribute(stmt[2:])
            if attr == "map":
                model.table = _string(args) or model.table
            elif attr == "schema":
                model.schema = _string(args)
            elif attr in ("index", "unique", "id"):
                declared.append((KeyKind(attr), args, stmt, None, stmt))
            continue
        parts = re.match(r"([A-Za-z_][A-Za-z0-9_]*)\s+([A-Za-z_][A-Za-z0-9_.]*(?:\([^)]*\))?)(\[\])?(\?)?(.*)$",
                         stmt, re.DOTALL)
        if parts is None:
            raise InputError(f"schema.prisma: cannot read this line of model {name}: {stmt.splitlines()[0][:80]}")
        fname, ftype, is_list, _optional, rest = parts.groups()
        base = ftype.split("(")[0]
        attributes = _field_attributes(rest)
        mapped = next((_string(args) for attr, args, _ in attributes if attr == "map"), None)
        relation = base in model_names or any(attr == "relation" for attr, _, _ in attributes)
        model.fields.append(Field(fname, base, mapped or fname, bool(is_list),
                                  relation and base not in _SCALARS and base not in enums))
        # `id String @id @unique` declares two: the primary key and a unique index on the same column.
        declared += [(KeyKind(attr), args, written, fname, stmt) for attr, args, written in attributes
                     if attr in ("id", "unique")]
    for kind, args, attribute, fname, line in declared:
        key_name = _map_arg(args) or _default_name(model, kind, [fname] if fname else _listed(args))
        model.keys.setdefault(key_name, Key(key_name, kind, attribute, fname, line))
    return model


def _field_attributes(rest: str) -> list[tuple[str, str, str]]:
    """A field's attributes after its type: (name, arguments, as written).

    ``@unique(map: "k")`` gives ("unique", 'map: "k"', '@unique(map: "k")').

    Brackets and strings are followed, so an ``@`` or ``)`` inside ``@default("a@b")`` is not taken for one.
    """
    out: list[tuple[str, str, str]] = []
    blank = _blank_comments(rest)
    for m in re.finditer(r"(?<![@\w])@([A-Za-z_][A-Za-z0-9_.]*)", blank):
        end = m.end()
        args = ""
        after = len(blank[end:]) - len(blank[end:].lstrip(" \t"))
        if blank[end + after:end + after + 1] == "(":
            depth, i = 0, end + after
            while i < len(blank):
                depth += {"(": 1, ")": -1}.get(blank[i], 0)
                if depth == 0:
                    break
                i += 1
            args, end = rest[end + after + 1:i], i + 1
        out.append((m.group(1), args, rest[m.start():end]))
    return out


def _listed(args: str) -> list[str]:
    """The field names of an attribute's first list: ``[a, b(sort: Desc)]`` gives a and b."""
    found = re.search(r"\[([^\]]*)\]", args)
    return [n.split("(")[0].strip() for n in (found.group(1).split(",") if found else []) if n.strip()]


def _map_arg(args: str) -> str | None:
    found = re.search(r'\bmap\s*:\s*"((?:[^"\\]|\\.)*)"', args)
    return _unescape(found.group(1)) if found else None


def _default_name(model: Model, kind: KeyKind, names: list[str]) -> str:
    """The database name Prisma gives a key or index declared without ``map:`` (ddl.prisma_name)."""
    if kind == KeyKind.ID:
        return ddl.prisma_name(model.table, (), "pkey")
    columns = [next((f.column for f in model.fields if f.name == n), n) for n in names]
    return ddl.prisma_name(model.table, columns, "key" if kind == KeyKind.UNIQUE else "idx")


def _blank_comments(text: str, strings: bool = True) -> str:
    """``text`` with comments (``//``, ``/* */``) and string contents blanked out (same length, newlines kept)."""
    out = list(text)
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == '"':
            j = i + 1
            while j < n and text[j] != '"' and text[j] != "\n":
                step = 2 if text[j] == "\\" and j + 1 < n and text[j + 1] != "\n" else 1
                for k in range(j, j + step):
                    out[k] = " " if strings else out[k]
                j += step
            i = j + 1
        elif text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            for k in range(i, j):
                out[k] = " "
            i = j
        elif text.startswith("/*", i):      # a block comment (Prisma's parser takes them, in a model too)
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            for k in range(i, j):
                out[k] = out[k] if text[k] == "\n" else " "
            i = j
        else:
            i += 1
    return "".join(out)


def _closing_brace(blank: str, start: int, file: Path) -> int:
    """The offset of the brace that closes the block opened before ``start`` (in comment-blanked text)."""
    depth = 1
    for i in range(start, len(blank)):
        if blank[i] == "{":
            depth += 1
        elif blank[i] == "}":
            depth -= 1
            if depth == 0:
                return i
    raise InputError(f"{file}: a block is not closed (missing }})")


def _statements(body: str) -> list[str]:
    """The block's lines, comments removed, a line continuing while brackets are open."""
    blank = _blank_comments(body)
    out: list[str] = []
    current: list[str] = []
    depth = 0
    for raw, masked in zip(_blank_comments(body, strings=False).split("\n"), blank.split("\n"), strict=True):
        keep = raw[:len(masked.rstrip())] if masked.strip() else ""
        depth += sum(masked.count(c) for c in "([") - sum(masked.count(c) for c in ")]")
        if keep.strip():
            current.append(keep.strip())
        if depth <= 0 and current:
            out.append(" ".join(current))
            current, depth = [], 0
    if current:
        out.append(" ".join(current))
    return out


def _attribute(text: str) -> tuple[str, str]:
    m = re.match(r"([A-Za-z_][A-Za-z0-9_.]*)\s*(?:\((.*)\))?\s*$", text, re.DOTALL)
    if m is None:
        return "", ""
    return m.group(1), m.group(2) or ""


def _string(args: str) -> str | None:
    m = re.search(r'"((?:[^"\\]|\\.)*)"', args)
    return _unescape(m.group(1)) if m else None


def _unescape(s: str) -> str:
    value: str = json.loads(f'"{s}"')
    return value


def _indent(body: str) -> str:
    for line in body.split("\n"):
        line = line.rstrip("\r")
        stripped = line.lstrip(" \t")
        if stripped and not stripped.startswith(("//", "/*", "*")):
            return line[: len(line) - len(stripped)]
    return "  "


def quote(value: str) -> str:
    """A Prisma string literal (JSON escaping is what Prisma's parser reads)."""
    return json.dumps(value, ensure_ascii=False)


def insert(schema: PrismaSchema, additions: dict[str, list[str]]) -> dict[Path, str]:
    """The new text of each file that ``additions`` (model name -> lines) change, added at the end of each model.

    Every other byte stays as it was; the new lines take the model's
    indentation and their file's line ending.
    """
    out: dict[Path, str] = {}
    by_close = sorted(((m.close, m) for m in schema.models if additions.get(m.name)), key=lambda x: -x[0])
    for close, model in by_close:
        text = out.get(model.file, schema.files[model.file])
        newline = "\r\n" if "\r\n" in text else "\n"
        head = text[:close]
        line_start = head.rfind("\n") + 1
        # The closing brace alone on its line: insert before that line; else before the brace itself.
        if head[line_start:].strip() == "":
            at, prefix = line_start, ""
        else:
            at, prefix = close, newline
        block = prefix + "".join(f"{model.indent}{line}{newline}" for line in additions[model.name])
        out[model.file] = text[:at] + block + text[at:]
    return out


def save(texts: dict[Path, str]) -> None:
    """Replace each file with its new text, whole or not at all, keeping its permissions."""
    for path, text in texts.items():
        tmp = path.with_name(path.name + ".pgtune-tmp")
        try:
            tmp.write_bytes(text.encode())
            tmp.chmod(path.stat().st_mode)
            tmp.replace(path)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise InputError(f"cannot write {path}: {exc.strerror or exc}") from None
