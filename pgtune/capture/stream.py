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
from typing import BinaryIO

from .._text import Progress
from ..errors import InputError
from .workload import PREPARED, Statement, fold_executions, split_statements

BLOCK = 1 << 16          # bytes read at a time (the scanner holds ~50 bytes per byte it scans)
EVERY_S = 2.0            # at most one progress line this often


def read_queries_stream(source: BinaryIO, name: str, say: Progress | None = None,
                        size: int | None = None) -> list[Statement]:
    """The statements of ``source`` by shape with how often each appears (then EXECUTE folded into its PREPARE).

    ``size``: the file's length when known (for the progress lines). A log's
    statements differ in their constants (and comments) where pg_stat_statements
    would count one statement: they are folded by pglast's fingerprint, up to
    ``KEPT`` texts of a shape held with their counts (the values selection plans
    with), the rest counted onto them (u6: a 26 MB log of 300,000 literal-valued
    statements of 7 shapes was 300,000 statements to analyze, 1 GB and no answer
    in 10 minutes).
    """
    shapes: dict[object, dict[str, int]] = {}
    more: dict[object, int] = {}      # a shape's statements beyond its KEPT texts: counted, not held
    seen = 0
    read = _Reader(source, name)
    last = time.monotonic()
    for text in statements(read.texts()):
        key = shape(text)
        held = shapes.setdefault(key, {})
        if text in held or len(held) < KEPT:
            held[text] = held.get(text, 0) + 1
        else:
            more[key] = more.get(key, 0) + 1
        seen += 1
        if say is not None and time.monotonic() - last >= EVERY_S:
            last = time.monotonic()
            say(_progress(read.bytes, size, seen, len(shapes)))
    if say is not None and seen:
        say(_progress(read.bytes, size, seen, len(shapes)))
    out = []
    for key, held in shapes.items():
        extra, total = more.get(key, 0), sum(held.values())
        share = [n * extra // total for n in held.values()]
        share[0] += extra - sum(share)
        out += [Statement(query=text, queryid=None, calls=n + s)
                for (text, n), s in zip(held.items(), share, strict=True)]
    return fold_executions(out)


KEPT = 4        # texts held per statement shape (read_queries_stream)


def shape(text: str) -> object:
    """What ``text`` is counted under: pglast's fingerprint (constants and comments aside); a PREPARE's or an
    EXECUTE's name too (the fingerprint leaves it out, and fold_executions pairs them by it: one body prepared
    under many names, one per pooled connection, would keep only KEPT of its PREPAREs); a text pglast cannot
    parse, itself."""
    from pglast.parser import ParseError, fingerprint

    try:
        found = fingerprint(text)
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
