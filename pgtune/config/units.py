"""Sizes and durations as pg_settings stores them and as PostgreSQL accepts them back.

pg_settings gives a memory setting as a count of its ``unit`` (``work_mem``
4096 in ``kB``, ``shared_buffers`` 16384 in ``8kB``); pgtune computes in bytes
and writes values in the largest unit that divides them (``64MB``), which
``ALTER SYSTEM``, ``ALTER ROLE … SET`` and postgresql.conf all read.
"""

from __future__ import annotations

import math
import re

from ..errors import InputError

KB = 1024
MB = 1024 * KB
GB = 1024 * MB
TB = 1024 * GB

_MEMORY_UNITS = {"B": 1, "kB": KB, "MB": MB, "GB": GB, "TB": TB}
_TIME_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "min": 60_000.0, "h": 3_600_000.0, "d": 86_400_000.0}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(B|kB|KB|k|MB|M|GB|G|TB|T)?\s*$", re.IGNORECASE)


MEMORY_MINIMUM = 16 * MB   # a server's memory: below it the formulas give settings PostgreSQL refuses (p22)


def memory_floor(shown: str, n: int) -> str | None:
    """Why ``n`` bytes (given as ``shown``) is no server's memory; None when it is at least MEMORY_MINIMUM.
    The CLI's --memory and the library's ``memory`` say it in the same words."""
    if n >= MEMORY_MINIMUM:
        return None
    bare = " (a bare number is bytes)" if shown.strip().replace(".", "", 1).isdigit() else ""
    return f"{shown!r} is under 16MB{bare}: give the server's memory, e.g. 16GB, 512MB"


def check_memory(n: int) -> int:
    """``n``, a library caller's memory in bytes; InputError under the floor (the CLI's --memory refuses it too)."""
    why = memory_floor(f"{n:,} bytes", n)
    if why is not None:
        raise InputError(f"memory {why}")
    return n


def unit_bytes(unit: str | None) -> int | None:
    """Bytes in one pg_settings unit (``8kB`` → 8192, ``16MB`` → 16 MiB); None for a unit that is not memory."""
    if not unit:
        return None
    m = re.fullmatch(r"(\d*)(B|kB|MB|GB|TB)", unit)
    if m is None:
        return None
    return int(m.group(1) or 1) * _MEMORY_UNITS[m.group(2)]


def unit_ms(unit: str | None) -> float | None:
    """Milliseconds in one pg_settings time unit (``s`` → 1000); None for a unit that is not time."""
    return _TIME_UNITS_MS.get(unit or "")


def parse_size(text: str, option: str = "size") -> int:
    """``8GB``, ``512MB``, ``16g`` → bytes (a bare number is bytes); one clear error otherwise."""
    m = _SIZE.match(text)
    if m is None:
        raise InputError(f"invalid {option} {text!r}: use e.g. 16GB, 512MB")
    unit = (m.group(2) or "B").upper().rstrip("B") or "B"
    factor = {"B": 1, "K": KB, "M": MB, "G": GB, "T": TB}[unit]
    return int(float(m.group(1)) * factor)


def size(nbytes: int) -> str:
    """``nbytes`` as PostgreSQL writes a memory setting: the largest unit that divides it (kB at least)."""
    kb = max(1, math.ceil(nbytes / KB))
    for name, factor in (("TB", TB // KB), ("GB", GB // KB), ("MB", MB // KB)):
        if kb % factor == 0:
            return f"{kb // factor}{name}"
    return f"{kb}kB"


def human(nbytes: float) -> str:
    """A size for a person (``1.5 GB``), not for a setting."""
    for name, factor in (("TB", TB), ("GB", GB), ("MB", MB), ("kB", KB)):
        if abs(nbytes) >= factor:
            return f"{nbytes / factor:,.1f} {name}"
    return f"{nbytes:,.0f} B"


def round_up_mb(nbytes: float, *, power_of_two: bool = True) -> int:
    """``nbytes`` rounded up to whole MB, to a power of two MB by default (settings people read at a glance)."""
    mb = max(1, math.ceil(nbytes / MB))
    if power_of_two:
        mb = 1 << (mb - 1).bit_length()
    return mb * MB


def duration_ms(text: str) -> float:
    """``5min``, ``30s``, ``300`` (seconds, as checkpoint_timeout's unit) → ms; used for values pgtune wrote."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(us|ms|s|min|h|d)?\s*", text)
    if m is None:
        raise InputError(f"invalid duration {text!r}")
    return float(m.group(1)) * _TIME_UNITS_MS[m.group(2) or "ms"]
