-- Finds the statement_timeout a migration tool's session starts with here (the server's, this database's,
-- the login role's: pg_settings.reset_val, in ms) and the roles whose own setting for this database (or all)
-- sets another: a concurrent build alone in a Prisma or golang-migrate file runs under it, and can SET none.
-- And the largest heap of the tables built on (a concurrent build reads its table twice), and the non-zero
-- statement_timeout each of their owners sets for itself (this database's setting, else its own): the owner
-- is the role that usually runs the migrations (Prisma's DATABASE_URL), whoever runs pgtune (p19).
SELECT /* pgtune */
       (SELECT s.reset_val::bigint FROM pg_catalog.pg_settings AS s WHERE s.name = 'statement_timeout') AS ms,
       (SELECT pg_catalog.string_agg(DISTINCT CASE WHEN d.setrole = 0 THEN 'database ' || pg_catalog.current_database()
                                                   ELSE 'role ' || r.rolname END || ': ' || c.value, ', ')
        FROM pg_catalog.pg_db_role_setting AS d
        LEFT JOIN pg_catalog.pg_roles AS r ON r.oid = d.setrole
        CROSS JOIN LATERAL (SELECT pg_catalog.split_part(x, '=', 2) AS value
                            FROM pg_catalog.unnest(d.setconfig) AS x
                            WHERE x LIKE 'statement\_timeout=%%') AS c
        WHERE d.setdatabase IN (0, (SELECT oid FROM pg_catalog.pg_database
                                    WHERE datname = pg_catalog.current_database()))
          AND c.value NOT IN ('0', '')) AS set_by,
       (SELECT coalesce(pg_catalog.max(pg_catalog.pg_relation_size(cl.oid)), 0)
        FROM pg_catalog.pg_class AS cl
        JOIN pg_catalog.pg_namespace AS n ON n.oid = cl.relnamespace
        JOIN ROWS FROM (pg_catalog.unnest(%(schemas)s::text[]), pg_catalog.unnest(%(tables)s::text[]))
             AS t(schema_name, table_name)
          ON t.schema_name = n.nspname AND t.table_name = cl.relname) AS heap_bytes,
       (SELECT pg_catalog.array_agg(o.rolname || '=' || o.value ORDER BY o.rolname)
        FROM (SELECT DISTINCT cl.relowner
              FROM pg_catalog.pg_class AS cl
              JOIN pg_catalog.pg_namespace AS n ON n.oid = cl.relnamespace
              JOIN ROWS FROM (pg_catalog.unnest(%(schemas)s::text[]), pg_catalog.unnest(%(tables)s::text[]))
                   AS t(schema_name, table_name)
                ON t.schema_name = n.nspname AND t.table_name = cl.relname) AS own
        JOIN pg_catalog.pg_roles AS r ON r.oid = own.relowner
        CROSS JOIN LATERAL (SELECT r.rolname, pg_catalog.split_part(x, '=', 2) AS value
                            FROM pg_catalog.pg_db_role_setting AS d, pg_catalog.unnest(d.setconfig) AS x
                            WHERE d.setrole = own.relowner
                              AND d.setdatabase IN (0, (SELECT oid FROM pg_catalog.pg_database
                                                        WHERE datname = pg_catalog.current_database()))
                              AND x LIKE 'statement\_timeout=%%'
                            ORDER BY d.setdatabase DESC
                            LIMIT 1) AS o
        WHERE o.value NOT IN ('0', '')) AS owner_timeouts;
