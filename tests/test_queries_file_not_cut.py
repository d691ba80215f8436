"""p15: a --queries file's text that does not parse is not "cut at track_activity_query_size".

A new user gave a Python file to --queries by mistake: its 17 kB of text failed to parse, and because it was
longer than track_activity_query_size the skip said the server had cut it and to raise that setting. A file's
text is whole; only pg_stat_statements' is the server's.
"""

from __future__ import annotations

from typing import Any

import psycopg

from pgtune.capture import read_queries_file

from .helpers import suggest


def test_a_files_unparsable_text_is_not_called_truncated(conn: psycopg.Connection[Any]) -> None:
    text = '"""A module."""\nimport os\n\n' + "".join(f"def f{i}(x):\n    return x + {i}\n\n" for i in range(120))
    advice = suggest(conn, statements=read_queries_file(text))
    assert advice.skipped, advice
    for skip in advice.skipped:
        assert "track_activity_query_size" not in skip.reason, skip.reason
