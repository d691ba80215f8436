"""p31 (a Civitai-shaped database on PostgreSQL 18): rollback of a pgtune folder dropped the indexes Prisma deployed.

The same advice was emitted twice: as pgtune's folder, then with --layout prisma, whose folders Prisma Migrate
deployed (its ledger, _prisma_migrations, records each "<stamp>_pgtune_p2_build_<index>"). `pgtune apply` of the
first folder found each index there, exactly as planned and named "…_pgtune_idx", took it for its own script run
by hand and adopted it; its rollback then dropped 17 indexes Prisma's ledger says its migrations built, under the
application's traffic (the image feed back to a 77 ms sequential scan). An index a pgtune Prisma-layout
migration deployed is now Prisma's: apply leaves it to it, and rollback leaves it in place.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg

from pgtune import api, plan

from .test_layouts import PRISMA_LEDGER, prisma_deploy, workload


def test_an_index_prisma_deployed_from_pgtunes_own_layout_is_not_adopted(conn: psycopg.Connection[Any],
                                                                         tmp_path: Path) -> None:
    conn.execute(PRISMA_LEDGER)             # a Prisma database: pgtune names its indexes …_pgtune_idx
    workload(conn)
    ours = api.suggest(conn, api.SuggestOptions(constraints=False), emit=api.EmitOptions(directory=tmp_path / "a"))
    assert ours.migration is not None
    names = [ix.name for p in ours.migration.phases for ix in p.indexes]
    assert names and all(n.endswith("_pgtune_idx") for n in names), names     # not vacuous
    prisma = tmp_path / "prisma" / "migrations"
    api.suggest(conn, api.SuggestOptions(constraints=False),
                emit=api.EmitOptions(directory=prisma, layout=plan.Layout.PRISMA))
    assert prisma_deploy(conn, prisma)
    built = {r[0] for r in conn.execute("SELECT indexname FROM pg_indexes WHERE indexname = ANY(%s)", (names,))}
    assert built == set(names)
    api.apply(conn, tmp_path / "a")
    api.rollback(conn, tmp_path / "a")
    kept = {r[0] for r in conn.execute("SELECT indexname FROM pg_indexes WHERE indexname = ANY(%s)", (names,))}
    assert kept == set(names), sorted(set(names) - kept)
