"""Small text helpers shared by messages and tables, and the progress callback type."""

from __future__ import annotations

from collections.abc import Callable

Progress = Callable[[str], None]   # where long work says what it is doing (stderr on a terminal)


def one_line(text: str, width: int = 70) -> str:
    """``text`` on one line, cut with an ellipsis at ``width`` characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def error_text(exc: BaseException) -> str:
    """An exception's message on one line (the server's run over several), never empty."""
    return " ".join(str(exc).split()) or type(exc).__name__
