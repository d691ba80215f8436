"""Array constants as the server prints them: their elements, an array literal of values, and the whole
elements of one pg_qualstats cut short (analyze.values values ``= ANY($n)`` and ``IN ($4, $5)`` from them)."""

from __future__ import annotations


def array_elements(text: str) -> list[str | None] | None:
    """The elements of a one-dimensional array literal (``{a,"b c",NULL}``: NULL is None); None for anything else.

    The server ends a quoted element at a comma or the brace and quotes any element holding a quote: a JSON
    object (``{"plan": "pro"}``, a quoted key then a colon) is no array literal (c19: its pieces valued a jsonb
    ``$1`` with 'plan')."""
    if not (text.startswith("{") and text.endswith("}")):
        return None
    out: list[str | None] = []
    i, body = 0, text[1:-1]
    while i < len(body):
        if body[i] == '"':
            j, piece = i + 1, []
            while j < len(body) and body[j] != '"':
                if body[j] == "\\" and j + 1 < len(body):
                    j += 1
                piece.append(body[j])
                j += 1
            out.append("".join(piece))
            i = j + 1
            if i < len(body) and body[i] != ",":
                return None          # a quoted key and its colon: JSON, not an array
        else:
            j = body.find(",", i)
            j = len(body) if j < 0 else j
            item = body[i:j].strip()
            if item.startswith("{") or '"' in item:
                return None          # more than one dimension, or not an array literal
            out.append(None if item.upper() == "NULL" else item)
            i = j
        if i < len(body) and body[i] == ",":
            i += 1
    return out


def array_literal(values: list[str]) -> str | None:
    """An array literal of ``values`` (``{"a","b"}``), each element quoted for array input."""
    if not values:
        return None
    return "{" + ",".join('"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"' for v in values) + "}"


QUALSTATS_KEEPS = 79      # bytes of a constant's text pg_qualstats keeps


def whole_array_cut_cast(text: str) -> bool:
    """``'{1352,910,…,17754}'::intege``: an array literal kept whole, its cast cut at pg_qualstats' 79 bytes.

    Without its ``[]`` the constant read as a scalar, and every position of an
    ``IN ($5, $6, …)`` list was valued with the whole array text: each plan of it
    failed on the server ("invalid input syntax for type integer", p18: 5 ERROR
    lines a suggest on a Cal.com-shaped workload, each an IN list of event types).
    """
    if len(text.encode()) < QUALSTATS_KEEPS or text.rstrip().endswith("[]") or not text.startswith("'{"):
        return False
    close = text.rfind("'")
    rest = text[close + 1:]
    return close > 1 and text[close - 1] == "}" and (rest in ("", ":") or rest.startswith("::")) \
        and array_elements(text[1:close].replace("''", "'")) is not None


def cut_array(text: str) -> list[str] | None:
    """The whole elements of an array constant pg_qualstats cut short; None for any other text.

    pg_qualstats keeps a constant's first 79 bytes: an ``IN`` list of three
    cuids (Prisma's ids, 25 characters) has no closing brace and no value came
    of it, so pgtune valued the list from pg_stats, with another tenant's ids
    than the one pg_qualstats gave the statement's other column (u10, Langfuse).
    The elements before the last comma are whole; a list position past them
    takes them in turn: a value the statement was seen with, beside the others.
    """
    if not text.startswith("'{") or text.rstrip().endswith("[]"):
        return None
    body = text[2:]
    end = body.rfind(",")
    while end > 0:
        head = body[:end]
        if head.count('"') % 2 == 0:           # not inside a quoted element
            found = array_elements("{" + head.replace("''", "'") + "}")
            if found and all(e is not None for e in found):
                return [e for e in found if e is not None]
        end = body.rfind(",", 0, end)
    return None
