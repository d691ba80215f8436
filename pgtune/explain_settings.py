"""Settings one plan of a Round is made under in place of its session's: a row security policy's tenant.

A statement under row security is planned in its role's session, with a value
for each ``current_setting('app.x')`` its policies read (analyze.sessions).
One tenant's value prices only that tenant's rows: a scenario may name another
value for the setting beside its ``$n`` (``{"$1": "env7", "app.team_id": "1"}``),
and that plan alone is made with it; the session's value is given back after it,
so the Rounds that share the transaction (explain_script.Shared) plan as before.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import psycopg
from psycopg import sql


def params_of(values: Mapping[str, str | None] | None) -> Mapping[str, str | None] | None:
    """A scenario's values of its ``$n``: its other names are settings (``overrides``)."""
    if not values or all(k.startswith("$") for k in values):
        return values
    return {k: v for k, v in values.items() if k.startswith("$")}


def overrides(values: Mapping[str, str | None] | None, own: Mapping[str, str]) -> dict[str, str]:
    """The settings a scenario plans under in place of its session's: only those the session sets (each is given
    back after the plan) and only other values."""
    return {k: v for k, v in (values or {}).items()
            if not k.startswith("$") and k in own and v is not None and v != own[k]}


def calls(conn: psycopg.Connection[Any], settings: Mapping[str, str]) -> str:
    """``pg_catalog.set_config(…, true)`` calls for ``settings`` (quoted by psycopg), as one select list."""
    return ", ".join(f"pg_catalog.set_config({sql.Literal(name).as_string(conn)}, "
                     f"{sql.Literal(value).as_string(conn)}, true)" for name, value in sorted(settings.items()))


def resets(conn: psycopg.Connection[Any], scenarios: list[Mapping[str, str | None] | None],
           own: Mapping[str, str]) -> str:
    """The calls that give back the session's value of every setting a scenario overrides ('' : none does)."""
    return calls(conn, {name: own[name] for v in scenarios for name in overrides(v, own)})


def switch(override: str, current: str, reset: str) -> tuple[list[str], str]:
    """The calls before a plan made under ``override`` ('' : the session's own) when ``current`` is in force."""
    if override == current:
        return [], current
    return [override or reset], override
