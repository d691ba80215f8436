-- Why this session may not create a temporary object now, asked without trying
-- one (a refused CREATE is an ERROR line in the server's log): a standby, a
-- READ ONLY transaction (default_transaction_read_only), or no TEMPORARY
-- privilege on the database. NULL when it may. Run inside the transaction the
-- object would be made in: transaction_read_only is that transaction's.
SELECT /* pgtune */ CASE
    WHEN pg_catalog.pg_is_in_recovery() THEN 'the server is a standby'
    WHEN pg_catalog.current_setting('transaction_read_only') = 'on' THEN 'the transaction is READ ONLY'
    WHEN NOT pg_catalog.has_database_privilege(pg_catalog.current_database(), 'TEMPORARY')
        THEN 'role ' || pg_catalog.quote_ident(current_user::text) || ' may not create temporary tables here'
                 || ' (GRANT TEMPORARY ON DATABASE ' || pg_catalog.quote_ident(pg_catalog.current_database()) || ' TO '
                 || pg_catalog.quote_ident(current_user::text) || ';)'
    END AS refused;
