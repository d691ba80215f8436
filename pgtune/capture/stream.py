"""A --queries file of any size, read as a stream: statements split as they come, repeats counted, not held.

The file is read a block at a time, decoded incrementally, and split at every
``;`` the scanner sees, exactly as ``split_statements`` splits the whole text
(a quote or comment that never ends still swallows the rest, which becomes
one broken statement). A statement seen again, or with other constants or
comments (pglast's fingerprint), is one more call of its shape: a log of a
million executions of a few hundred statements holds a few texts per shape.
Progress (bytes read, statements, distinct shapes) goes to ``say`` as it goes.
"""

from __future__ import annotations

import codecs
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

from .._text import Progress
from ..errors import InputError
from .workload import PREPARED, Statement, fold_executions, split_statements

BLOCK = 1 << 16          # bytes read at a time (the scanner holds ~50 bytes per byte it scans)
EVERY_S = 2.0            # at most one progress line this often


def read_queries_stream(source: BinaryIO, name: str, say: Progress | None = None,
                        size: int | None = None) -> list[Statement]:
    """The statements of ``source`` by shape with how often each appears (then EXECUTE folded into its PREPARE);
    every shape, however many (read_queries with no ``top``)."""
    return read_queries(source, name, say, size).statements


@dataclass(frozen=True)
class QueriesRead:
    """A --queries file's statements to analyze, and what was counted but left out (``top``)."""

    statements: list[Statement]
    shapes: int = 0             # distinct statement shapes in the file
    left_shapes: int = 0        # of them, left out: beyond ``top`` by how often they appear
    left_calls: int = 0         # the statements of those shapes

    def note(self) -> str | None:
        """The line that says what was left out, or None."""
        if not self.left_shapes:
            return None
        return (f"{self.left_shapes:,} of the file's {self.shapes:,} statement shapes ({self.left_calls:,} "
                f"statements) appear less often than the {self.shapes - self.left_shapes:,} analyzed: counted, "
                "not analyzed (--top sets how many shapes are)")


def read_queries(source: BinaryIO, name: str, say: Progress | None = None, size: int | None = None,
                 top: int | None = None) -> QueriesRead:
    """The statements of ``source`` by shape with how often each appears (then EXECUTE folded into its PREPARE).

    ``size``: the file's length when known (for the progress lines). A log's
    statements differ in their constants (and comments) where pg_stat_statements
    would count one statement: they are folded by pglast's fingerprint, up to
    ``KEPT`` texts of a shape held with their counts (the values selection plans
    with), the rest counted onto them (u6: a 26 MB log of 300,000 literal-valued
    statements of 7 shapes was 300,000 statements to analyze, 1 GB and no answer
    in 10 minutes). ``top``: only the shapes seen most often are analyzed (a file
    has no times to rank by), the others counted: p11's 20 MB log of 22,260 shapes
    was 25,938 statements to analyze, 2.3 GB and no answer in 10 minutes. While
    reading, the texts of the least-seen shapes are let go past ``HOLD`` x ``top``
    shapes held (their counts stay), so memory follows ``top``, not the file.
    """
    counts: dict[object, int] = {}          # every shape: how often it appears (small: a fingerprint each)
    shapes: dict[object, dict[str, int]] = {}   # shapes whose texts are held: up to KEPT texts with their counts
    seen = 0
    read = _Reader(source, name)
    last = time.monotonic()
    hold = max(HOLD * top, MIN_HOLD) if top is not None else None
    for text in statements(read.texts()):
        key = shape(text)
        counts[key] = counts.get(key, 0) + 1
        held = shapes.setdefault(key, {})
        if text in held or len(held) < KEPT:
            held[text] = held.get(text, 0) + 1
        if hold is not None and len(shapes) > hold:
            _let_go(shapes, counts, hold // 2)
        seen += 1
        if say is not None and time.monotonic() - last >= EVERY_S:
            last = time.monotonic()
            say(_progress(read.bytes, size, seen, len(counts)))
    if say is not None and seen:
        say(_progress(read.bytes, size, seen, len(counts)))
    chosen = _most_seen(counts, shapes, top)
    out = []
    for key in chosen:
        held = shapes[key]
        extra, total = counts[key] - sum(held.values()), sum(held.values())
        share = [n * extra // total for n in held.values()]
        share[0] += extra - sum(share)
        varies = len(held) > 1 or extra > 0        # other texts, or texts let go: its constants vary
        out += [Statement(query=text, queryid=None, calls=n + s, values_vary=varies)
                for (text, n), s in zip(held.items(), share, strict=True)]
    return QueriesRead(fold_executions(out), shapes=len(counts), left_shapes=len(counts) - len(chosen),
                       left_calls=seen - sum(counts[k] for k in chosen))


FILE_TOP = 500          # shapes of a --queries file analyzed unless --top says (pg_stat_statements' 50 would cut a
                        # 90-query analytic file; 500 shapes, up to KEPT texts each, is what suggest plans in minutes)
HOLD = 4                # with ``top``: texts are held for up to HOLD x top shapes (at least MIN_HOLD)…
MIN_HOLD = 2_000        # …then the least-seen half let go
BROKEN = 20             # texts pglast cannot parse analyzed beyond ``top`` (each gets its skipped line)


def _unit(key: object) -> object:
    """What is kept or left out as one: a PREPARE with the EXECUTEs of its name (fold_executions pairs them),
    else the shape itself."""
    return ("named", key[1]) if isinstance(key, tuple) else key


def _let_go(shapes: dict[object, dict[str, int]], counts: dict[object, int], keep: int) -> None:
    """Drop the held texts of all but the ``keep`` most-seen shapes (a PREPARE's or EXECUTE's kept: they are
    paired by name at the end; a text pglast cannot parse is its own key). A shape seen again is held again,
    its earlier count kept."""
    ranked = sorted(shapes, key=lambda k: counts[k], reverse=True)
    for key in ranked[keep:]:
        if not isinstance(key, (tuple, str)):
            del shapes[key]


def _most_seen(counts: dict[object, int], shapes: dict[object, dict[str, int]], top: int | None) -> list[object]:
    """The shapes to analyze, in the order first seen: with ``top``, those of the ``top`` units (_unit) seen
    most often (ties: first seen first) whose texts are held, and the first BROKEN texts pglast cannot parse
    (each is skipped with a line that says why, where a count would hide it)."""
    held = [k for k in counts if shapes.get(k)]
    if top is None:
        return held
    broken = [k for k in held if isinstance(k, str)][:BROKEN]
    weight: dict[object, int] = {}
    for key in held:
        if not isinstance(key, str):
            weight[_unit(key)] = weight.get(_unit(key), 0) + counts[key]
    order = {u: i for i, u in enumerate(weight)}
    kept = set(sorted(weight, key=lambda u: (-weight[u], order[u]))[:top]) | set(broken)
    return [k for k in held if _unit(k) in kept]


KEPT = 4        # texts held per statement shape (read_queries_stream)


def shape(text: str) -> object:
    """What ``text`` is counted under: pglast's fingerprint (constants and comments aside); a PREPARE's or an
    EXECUTE's name too (the fingerprint leaves it out, and fold_executions pairs them by it: one body prepared
    under many names, one per pooled connection, would keep only KEPT of its PREPAREs); a text pglast cannot
    parse, itself."""
    from pglast.parser import ParseError, fingerprint

    try:
        found: object = int(fingerprint(text), 16)     # an int, not 16 hex characters: less held per shape
    except ParseError:
        return text
    named = PREPARED.match(text)
    if named is not None:
        name = named.group(2)
        return found, name if name.startswith('"') else name.lower()
    return found


def _progress(done: int, size: int | None, seen: int, distinct: int) -> str:
    of = f" of {size / 1048576:,.1f}" if size else ""
    return f"read {done / 1048576:,.1f}{of} MB: {seen:,} statements, {distinct:,} distinct shapes"


class _Reader:
    """The file's text a block at a time; one clear error for bytes that are not UTF-8 SQL (decode_queries')."""

    def __init__(self, source: BinaryIO, name: str) -> None:
        self.source, self.name, self.bytes = source, name, 0

    def texts(self) -> Iterator[str]:
        decoder = codecs.getincrementaldecoder("utf-8-sig")()
        while True:
            data = self.source.read(BLOCK)
            final = not data
            if b"\x00" in data:
                raise InputError(f"{self.name} is a binary file (it holds NUL bytes), not SQL text")
            pending = len(decoder.getstate()[0])      # bytes of a character cut at the previous block's end
            try:
                text = decoder.decode(data, final=final)
            except UnicodeDecodeError as exc:
                at = self.bytes - pending + exc.start
                raise InputError(f"{self.name} is not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at offset "
                                 f"{max(at, 0)}): convert it first, e.g. iconv -f latin1 -t utf-8") from None
            self.bytes += len(data)
            if text:
                yield text
            if final:
                return


def statements(blocks: Iterable[str]) -> Iterator[str]:
    """The statement texts of the blocks put together, as ``split_statements`` gives them for the whole text.

    Only the text after the last ``;`` the scanner sees (or from the statement it
    cannot scan yet: a quote that may close in the next block) waits for more.
    """
    rest = ""
    for block in blocks:
        rest += block
        done, rest = _complete(rest)
        yield from done
    yield from split_statements(rest)


def _complete(text: str) -> tuple[list[str], str]:
    """The statements of ``text`` up to its last ``;`` the scanner reads, and the text after it."""
    from pglast.parser import ParseError, scan

    try:
        tokens = scan(text)
    except ParseError as exc:
        loc = exc.args[1] if len(exc.args) > 1 and isinstance(exc.args[1], int) else 0
        if loc <= 0:
            return [], text
        try:
            tokens = scan(text[:loc])
        except ParseError:
            return [], text
    done: list[str] = []
    start = 0
    for tok in tokens:
        if tok.name == "ASCII_59":      # ';': what split_statements does, on the tokens at hand
            piece = text[start:tok.start].strip()
            if piece:
                done.append(piece)
            start = tok.end + 1
    return done, text[start:]
