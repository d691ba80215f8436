"""The five rooms: each module imports only its own room or the rooms below it, and nothing imports in a circle.

capture → analyze → plan → apply → verify, with the ground floor under all of
them and the front door (CLI, library entry points, demo) above. Every import
counts, including the ones inside functions.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "pgtune"

# Lowest first. A module's room is the first entry whose prefix matches it.
ROOMS: list[tuple[str, tuple[str, ...]]] = [
    ("ground", ("pgtune._text", "pgtune.errors", "pgtune.sqltext", "pgtune.catalog_sql", "pgtune.connect",
                "pgtune.duration", "pgtune.ddl", "pgtune.cluster", "pgtune.sql", "pgtune.tracking")),
    ("capture", ("pgtune.capture", "pgtune.capabilities", "pgtune.roles", "pgtune.snapshot")),
    ("analyze", ("pgtune.analyze", "pgtune.constraints", "pgtune.explain", "pgtune.explain_script", "pgtune.readonly",
                 "pgtune.explain_settings", "pgtune.explain_names", "pgtune.param_types", "pgtune.estimates")),
    ("plan", ("pgtune.plan", "pgtune.baseline", "pgtune.script")),
    ("apply", ("pgtune.apply", "pgtune.history")),
    ("verify", ("pgtune.verify", "pgtune.verify_baselines", "pgtune.verify_pace", "pgtune.verify_phases",
                "pgtune.verify_roles")),
    ("health", ("pgtune.health", "pgtune.config")),
    ("prisma", ("pgtune.prisma",)),
    ("front", ("pgtune.api", "pgtune.cli", "pgtune.clidoc", "pgtune.demo", "pgtune.__main__", "pgtune")),
]


def module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def room(module: str) -> int:
    for level, (_, prefixes) in enumerate(ROOMS):
        if any(module == p or module.startswith(p + ".") for p in prefixes):
            return level
    raise AssertionError(f"{module} belongs to no room: add it to ROOMS")


def imports(path: Path) -> set[str]:
    """pgtune modules imported by ``path`` (absolute names), wherever the import statement stands."""
    me = module_name(path)
    package = me if path.name == "__init__.py" else me.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.startswith("pgtune")}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if not target.startswith("pgtune"):
                continue
            for alias in node.names:   # "from . import ddl" imports a module; "from .x import y" the module x
                sub = f"{target}.{alias.name}"
                out.add(sub if (PACKAGE.parent / sub.replace(".", "/")).with_suffix(".py").exists() else target)
    out.discard(me)
    return out


def graph() -> dict[str, set[str]]:
    return {module_name(p): imports(p) for p in PACKAGE.rglob("*.py")}


def test_every_import_points_down_or_sideways() -> None:
    upward = []
    for module, targets in sorted(graph().items()):
        for target in sorted(targets):
            if room(target) > room(module):
                upward.append(f"{module} ({ROOMS[room(module)][0]}) imports {target} ({ROOMS[room(target)][0]})")
    assert not upward, "\n".join(upward)


def test_no_import_cycles() -> None:
    g = graph()
    state: dict[str, int] = {}
    cycles: list[str] = []

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(g.get(node, ())):
            if nxt not in g:
                continue
            if state.get(nxt) == 1:
                cycles.append(" -> ".join([*path[path.index(nxt):], nxt]))
            elif nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = 2

    for start in sorted(g):
        if start not in state:
            visit(start, [start])
    assert not cycles, "\n".join(cycles)


# Rooms that are packages have a front door, their __init__: what it exports (its __all__) is what the
# other rooms may use, so an inner file can change without a reader outside having to follow it.
DOORS = ("pgtune.analyze", "pgtune.plan", "pgtune.apply", "pgtune.health")


def exported(door: str) -> set[str]:
    """The names in a door's ``__all__`` (a submodule listed there is exported as a namespace)."""
    init = PACKAGE.parent / door.replace(".", "/") / "__init__.py"
    for node in ast.parse(init.read_text()).body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets):
            return set(ast.literal_eval(node.value))
    return set()


def through_the_back(path: Path) -> list[str]:
    """Each import in ``path`` of a door's inner file (not through its __init__), as "module imports target"."""
    me = module_name(path)
    package = me if path.name == "__init__.py" else me.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                module = ".".join(base[: len(base) - (node.level - 1)] + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            if module in DOORS:   # "from pgtune.plan import partitions": an inner file unless the door exports it
                targets = [f"{module}.{a.name}" for a in node.names
                           if a.name not in exported(module) and (PACKAGE.parent / module.replace(".", "/") / a.name
                                                                   ).with_suffix(".py").exists()]
            else:
                targets = [module]
        for target in targets:
            door = next((d for d in DOORS if target.startswith(d + ".")), None)
            if door is not None and not (me == door or me.startswith(door + ".")):
                found.append(f"{me} imports {target} (use {door})")
    return found


def test_other_rooms_come_in_through_the_front_door() -> None:
    back = [line for p in sorted(PACKAGE.rglob("*.py")) for line in through_the_back(p)]
    assert not back, "\n".join(back)
