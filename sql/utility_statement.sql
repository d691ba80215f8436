-- Finds a utility statement in pg_stat_statements (s.query): session chatter,
-- maintenance, DDL, and EXPLAIN (someone's EXPLAIN ANALYZE in psql is not the
-- workload). Such a statement never takes a slot of --top. A fragment, never run
-- alone: catalog_sql.compose puts it where a query names it.
s.query ~* ({statement_start} || '(explain|set|reset|show|begin|start|commit|end|rollback|abort|savepoint|release|execute|deallocate|discard|vacuum|analyze|checkpoint|listen|unlisten|notify|lock|copy|create|alter|drop|grant|revoke|comment|truncate|reindex|cluster|refresh|security|load|do|call|declare|fetch|move|close)\M')
