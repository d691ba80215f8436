"""What a column's or table's name says: free text, an identifier, an enum, a migration tool's own table.

Names are read as words (``brandingLogo`` → branding, logo; ``refresh_token`` →
refresh, token; ``signatureImageAsBase64`` → signature, image, as, base, 64), so
``paid`` is no ``id`` and ``userAgent`` is an agent string whatever its case.
"""

from __future__ import annotations

import re


def vocabulary(text: str) -> frozenset[str]:
    """The whitespace-separated words of ``text``: long word lists stay readable."""
    return frozenset(text.split())


# A word of any of these makes a column free text, an identifier, a secret, a document or a
# presentation detail (a logo, a colour, a time zone): the application writes values the data has not
# shown yet, so no value rule of any kind holds on it.
FREE_TEXT_WORDS = vocabulary("""
    id ids uuid guid cuid key keys identifier ref reference external
    email emails mail phone mobile fax address street city zip zipcode postal postcode country region
    name names username nickname title subtitle label caption heading
    body content text texts comment comments note notes message messages description desc summary bio about
    details detail reason remark remarks feedback answer question subject
    token tokens hash digest secret password passwd salt signature signatures otp code codes nonce
    certificate cert credential credentials session cookie
    url urls uri link links href path paths slug domain host hostname redirect referrer referer endpoint webhook
    callback ip ips agent device browser os fingerprint
    json jsonb payload metadata meta data blob html markdown css svg xml template
    logo image images avatar icon banner picture photo thumbnail favicon color colour font theme style branding brand
    timezone tz locale language lang format pattern mask query search filter
    file filename mime extension version tag tags
""")
# Endings that say the same inside a one-word compound (``fullname``, ``useragent``, ``avatarurl``); short,
# ambiguous ones (``id``: paid, valid) are words only.
FREE_TEXT_ENDINGS = ("name", "url", "uri", "email", "mail", "token", "hash", "address", "agent", "text", "path",
                     "secret", "password", "json", "html", "slug", "phone", "signature", "comment", "description",
                     "message", "content", "title", "label", "color", "colour", "logo", "image", "avatar", "icon",
                     "uuid", "timezone", "locale")
# The last word of an enum-like column's name: a closed set of states the application defines.
# Open vocabularies (provider, source, channel, platform, currency, country) are not among them.
ENUM_WORDS = vocabulary("""
    status state type kind role tier plan cycle level category mode visibility priority frequency interval
    stage phase
""")

# Tables that migration tools and extensions own: the application never writes them, its tools do.
TOOL_TABLES = frozenset({
    "_prisma_migrations", "flyway_schema_history", "schema_migrations", "ar_internal_metadata",
    "knex_migrations", "knex_migrations_lock", "__EFMigrationsHistory", "alembic_version", "django_migrations",
    "SequelizeMeta", "SequelizeData", "kysely_migration", "kysely_migration_lock", "__drizzle_migrations",
    "goose_db_version", "typeorm_metadata", "mikro_orm_migrations", "pgmigrations", "databasechangelog",
    "databasechangeloglock", "spatial_ref_sys", "part_config", "part_config_sub",
})
# The schemas where migration and extension tools keep their tables.
TOOL_SCHEMAS = frozenset({"drizzle", "graphile_migrate", "partman", "_timescaledb_catalog", "_timescaledb_config",
                          "cron", "pgboss", "graphile_worker", "sqitch"})

_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")


def words(name: str) -> list[str]:
    """The words of a name, lower case: camelCase, PascalCase, snake_case, kebab-case and digits split."""
    return [w.lower() for w in _WORD.findall(name)]


def is_free_text(name: str) -> bool:
    """Does any word of the name say free text, an identifier, a secret, a document or a presentation detail?"""
    parts = words(name)
    return any(w in FREE_TEXT_WORDS for w in parts) or "".join(parts).endswith(FREE_TEXT_ENDINGS)


def is_enum_like(name: str) -> bool:
    """Does the name end with a word that names a closed set of states (status, type, role, tier…)?"""
    parts = words(name)
    return bool(parts) and parts[-1] in ENUM_WORDS


def is_tool_table(schema: str, table: str) -> bool:
    """A migration tool's or an extension's own table (``_prisma_migrations``, ``flyway_schema_history``…)."""
    return table in TOOL_TABLES or schema in TOOL_SCHEMAS
