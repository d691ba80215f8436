-- Finds the settings stored for roles and databases (ALTER ROLE … [IN DATABASE …]
-- SET, ALTER DATABASE … SET): role NULL means every role, database NULL every database.
SELECT /* pgtune */ r.rolname AS role,
       d.datname AS database,
       s.setconfig AS settings
FROM pg_catalog.pg_db_role_setting AS s
    LEFT JOIN pg_catalog.pg_roles AS r ON r.oid = s.setrole
    LEFT JOIN pg_catalog.pg_database AS d ON d.oid = s.setdatabase
ORDER BY r.rolname NULLS FIRST, d.datname NULLS FIRST;
