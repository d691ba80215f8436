"""Small text helpers shared by messages and tables, and the progress callback type."""

from __future__ import annotations

import re
from collections.abc import Callable

Progress = Callable[[str], None]   # where long work says what it is doing (stderr on a terminal)


class Tick(str):
    """A progress message that is news of the step running (a build's percent), not a step of its own: a terminal
    shows each, a log one now and then (cli/progress.py)."""

    __slots__ = ()


def one_line(text: str, width: int = 70) -> str:
    """``text`` on one line, cut with an ellipsis at ``width`` characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def statement_named(query: str, queryid: int | None, width: int = 60) -> str:
    """A statement as a hint names it: its text's start, and its queryid when it has one (c26: ``queryid 7``
    alone sent the reader to pg_stat_statements to learn which statement)."""
    text = one_line(query, width)
    return f"{text} (queryid {queryid})" if queryid is not None else text


def counted(n: int, one: str, many: str | None = None) -> str:
    """``1 statement``, ``2 statements``, ``1 index``: suggest's progress said "analyzed 1 statements" (c26)."""
    return f"{n:,} {one if n == 1 else many or one + 's'}"


def error_text(exc: BaseException) -> str:
    """An exception's message on one line (the server's run over several), never empty."""
    return " ".join(str(exc).split()) or type(exc).__name__


_ATTEMPT = re.compile(r"(?=connection to server (?:at|on) )")
_ENCRYPTION = re.compile(r", (SSL encryption|GSS encryption|no encryption)$")


# psycopg's own list when it tried several hosts (or addresses of one), after the last failure said once already.
_MULTI = "Multiple connection attempts failed. All failures were:"
_HOST = re.compile(r"- host: '[^']*', port: '[^']*', hostaddr: '[^']*': ")
_REFUSED = re.compile(r"^connection failed: connection to server ((?:at|on) .+?) failed: (.*)$")


def said_once(text: str) -> str:
    """libpq's message with each server's refusal once. With sslmode=prefer libpq tries with SSL and, refused,
    without, and reports both: "connection to server at … failed: FATAL: … SSL encryption connection to server
    at … failed: FATAL: … no encryption" (c23); the same refusal for the same server is said once. Of several
    hosts psycopg said the last one's failure, then each one's: each once, and the same failure once for all."""
    if _MULTI in text:
        tried = [said_once(a.strip()) for a in _HOST.split(text.split(_MULTI, 1)[1]) if a.strip()]
        refused = [_REFUSED.match(t) for t in tried]
        why = {m.group(2) for m in refused if m is not None}
        if tried and all(refused) and len(why) == 1:
            where = " and ".join(m.group(1) for m in refused if m is not None)
            return f"connection failed: connection to server {where} failed: {why.pop()}"
        return "; ".join(tried) if tried else text
    head, *parts = _ATTEMPT.split(text)
    if len(parts) < 2:
        return text
    seen: dict[str, list[str]] = {}
    for part in parts:
        found = _ENCRYPTION.search(part.strip())
        key = part.strip()[:found.start()] if found else part.strip()
        seen.setdefault(key, []).append(found.group(1) if found else "")
    out = []
    for key, ways in seen.items():
        if len(ways) == 1:
            out.append(key + (f", {ways[0]}" if ways[0] else ""))
        elif len(ways) == 2 and set(ways) in ({""}, {"SSL encryption", "no encryption"}):
            out.append(f"{key} (both attempts: with SSL and without)")
        else:
            out.append(f"{key} ({len(ways)} attempts: {', '.join(w or '?' for w in ways)})")
    return head + " ".join(out)
