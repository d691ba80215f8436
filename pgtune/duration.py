"""Durations as PostgreSQL writes them (``500ms``, ``5s``, ``2min``, ``1h``, ``7d``; a bare number is ms).

Every timeout option of every command takes this one form, and only a value
that matches it is ever pasted into a ``SET … = '…'``.
"""

from __future__ import annotations

import re

from .errors import InputError

_DURATION = re.compile(r"^(\d+)\s*(ms|s|min|h|d)?$")
_MS = {None: 1, "ms": 1, "s": 1000, "min": 60_000, "h": 3_600_000, "d": 86_400_000}


def check_timeout(value: str, option: str = "timeout") -> str:
    """``value`` if it is a duration pgtune can paste into ``SET`` safely; else one clear error."""
    if not _DURATION.match(value.strip()):
        raise InputError(f"invalid {option} {value!r}: use e.g. 5s, 500ms, 2min")
    return value.strip()


def to_ms(value: str, option: str = "timeout") -> int:
    """The duration in milliseconds (``30s`` → 30000; a bare number is already ms)."""
    m = _DURATION.match(check_timeout(value, option))
    assert m is not None
    return int(m.group(1)) * _MS[m.group(2)]
