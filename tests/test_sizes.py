"""Sizes: no module in pgtune/ over 500 lines, no function over 60, but for the few listed below.

A function is measured from its ``def`` line to its last line (decorators, such
as click's options, are not counted; nested functions count in their parent
too). The lists hold today's exceptions, each with why; they can only shrink:
a new exception fails, and so does an entry that no longer needs its place.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "pgtune"
MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 60

LONG_MODULES = {
}
LONG_FUNCTIONS = {
}


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def _functions(tree: ast.AST, prefix: str = "") -> list[tuple[str, int]]:
    out: list[tuple[str, int]] = []
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            name = prefix + node.name
            out.append((name, (node.end_lineno or node.lineno) - node.lineno + 1))
            out += _functions(node, name + ".")
        elif isinstance(node, ast.ClassDef):
            out += _functions(node, prefix + node.name + ".")
        else:
            out += _functions(node, prefix)
    return out


def long_modules() -> dict[str, int]:
    sizes = {p.relative_to(PACKAGE).as_posix(): len(p.read_text().splitlines()) for p in _modules()}
    return {m: n for m, n in sizes.items() if n > MAX_MODULE_LINES}


def long_functions() -> dict[str, int]:
    return {f"{p.relative_to(PACKAGE).as_posix()}::{name}": n for p in _modules()
            for name, n in _functions(ast.parse(p.read_text())) if n > MAX_FUNCTION_LINES}


def _judge(found: dict[str, int], allowed: dict[str, str], limit: int, what: str) -> list[str]:
    wrong = [f"{k}: {n} lines, over {limit}: split it (or say in LONG_{what.upper()}S why it reads better whole)"
             for k, n in sorted(found.items()) if k not in allowed]
    wrong += [f"{k} is within {limit} lines now: remove it from LONG_{what.upper()}S" for k in sorted(allowed)
              if k not in found]
    return wrong


def test_no_module_over_500_lines_but_the_listed() -> None:
    wrong = _judge(long_modules(), LONG_MODULES, MAX_MODULE_LINES, "module")
    assert not wrong, "\n".join(wrong)


def test_no_function_over_60_lines_but_the_listed() -> None:
    wrong = _judge(long_functions(), LONG_FUNCTIONS, MAX_FUNCTION_LINES, "function")
    assert not wrong, "\n".join(wrong)
