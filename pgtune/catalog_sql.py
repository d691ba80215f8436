"""Named catalog queries from the ``sql/`` folder (shipped as ``pgtune.sql``).

One question per file; the file's name is the query's name.
"""

from __future__ import annotations

from functools import cache
from importlib import resources


@cache
def load(name: str) -> str:
    """Return the text of ``sql/<name>.sql``."""
    return resources.files("pgtune.sql").joinpath(f"{name}.sql").read_text(encoding="utf-8")
