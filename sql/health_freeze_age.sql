-- Finds how many transactions old each user table's oldest unfrozen row may
-- be (age(pg_class.relfrozenxid)), beside the age at which autovacuum must
-- freeze it (autovacuum_freeze_max_age, or the table's own setting), and the
-- database's oldest (age(pg_database.datfrozenxid)).
SELECT /* pgtune */ n.nspname AS schema,
       c.relname AS table,
       pg_catalog.age(c.relfrozenxid)::int8 AS age,
       coalesce((SELECT o.option_value::int8 FROM pg_catalog.pg_options_to_table(c.reloptions) AS o
                 WHERE o.option_name = 'autovacuum_freeze_max_age'),
                pg_catalog.current_setting('autovacuum_freeze_max_age')::int8) AS freeze_max_age,
       (SELECT pg_catalog.age(d.datfrozenxid)::int8 FROM pg_catalog.pg_database AS d
        WHERE d.datname = pg_catalog.current_database()) AS database_age
FROM pg_catalog.pg_class AS c
    JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'm')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg\_%'
ORDER BY age DESC, n.nspname, c.relname;
