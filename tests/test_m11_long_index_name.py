"""A long index name keeps its ``_pgtune_idx`` ending when cut to 63 bytes (u15, LOW).

Past NAMEDATALEN a name was cut and ended in a hash, so after a Prisma-layout
deploy (which writes no pgtune history) nothing named the index pgtune's: the
schema line that keeps the next ``prisma migrate dev`` from dropping it was
never proposed. The hash now stands before the ending.
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from pgtune import api
from pgtune.capture import read_catalog
from pgtune.prisma import advice as prisma_advice
from pgtune.prisma.schema import parse

SCHEMA = """
model OrganizationMembershipInvitationRecord {
  id                     String @id
  organizationIdentifier String
  invitedEmailAddress    String
}
"""


@pytest.mark.needs_hypopg
def test_a_cut_name_still_ends_in_pgtune_idx_and_is_known_as_pgtune_s(conn: psycopg.Connection[Any]) -> None:
    conn.execute('CREATE TABLE "_prisma_migrations" (id varchar(36) PRIMARY KEY, migration_name varchar(255))')
    conn.execute('CREATE TABLE "OrganizationMembershipInvitationRecord" (id text PRIMARY KEY, '
                 '"organizationIdentifier" text NOT NULL, "invitedEmailAddress" text NOT NULL)')
    conn.execute('INSERT INTO "OrganizationMembershipInvitationRecord" SELECT \'c\' || g, \'org\' || (g % 500), '
                 "'user' || g || '@mail.example' FROM generate_series(1, 50000) g")
    conn.execute('ANALYZE "OrganizationMembershipInvitationRecord"')
    conn.execute("SELECT pg_stat_statements_reset()")
    for i in range(30):
        conn.execute('SELECT id FROM "OrganizationMembershipInvitationRecord" WHERE "organizationIdentifier" = %s '
                     'AND "invitedEmailAddress" = %s', (f"org{i}", f"user{i}@mail.example"), prepare=True)
    result = api.suggest(conn, api.SuggestOptions(constraints=False))
    [ix] = [ix for ix in result.indexes.indexes if ix.table == "OrganizationMembershipInvitationRecord"]
    assert len(ix.name.encode()) == 63 and ix.name.endswith("_pgtune_idx"), ix.name
    conn.execute(ix.ddl)
    catalog = read_catalog(conn)
    found = prisma_advice.for_built(parse(SCHEMA), catalog.indexes, built=())
    assert [p.name for p in found] == [ix.name], found


def test_a_free_variant_of_pgtune_s_name_is_known_as_pgtune_s(conn: psycopg.Connection[Any]) -> None:
    """advisor._name takes ``…_pgtune_idx2`` where a relation holds ``…_pgtune_idx``: deployed through the Prisma
    layout (no pgtune history), it is pgtune's all the same, and needs its schema line as much."""
    conn.execute('CREATE TABLE "_prisma_migrations" (id varchar(36) PRIMARY KEY, migration_name varchar(255))')
    conn.execute('CREATE TABLE "OrganizationMembershipInvitationRecord" (id text PRIMARY KEY, '
                 '"organizationIdentifier" text NOT NULL, "invitedEmailAddress" text NOT NULL)')
    table = '"OrganizationMembershipInvitationRecord"'
    conn.execute(f'CREATE INDEX "Org_organizationIdentifier_pgtune_idx2" ON {table} ("organizationIdentifier")')
    conn.execute(f'CREATE INDEX "Org_invitedEmailAddress_pgtune_idx_old" ON {table} ("invitedEmailAddress")')
    found = prisma_advice.for_built(parse(SCHEMA), read_catalog(conn).indexes, built=())
    assert [p.name for p in found] == ["Org_organizationIdentifier_pgtune_idx2"], found
