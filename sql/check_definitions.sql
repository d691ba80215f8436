-- Finds how the server prints a CHECK constraint of this name on a table and on
-- pgtune's probe copy of that table (where the planned one was just added, in a
-- transaction rolled back at once), NOT VALID left out: the same text is the
-- same rule, whatever spacing, casts or parentheses the plan's text had.
-- Parameters: name, table, probe (qualified names).
SELECT /* pgtune */ k.conrelid = %(probe)s::regclass AS probe,
       regexp_replace(pg_catalog.pg_get_constraintdef(k.oid), ' NOT VALID$', '') AS definition
FROM pg_catalog.pg_constraint AS k
WHERE k.conname = %(name)s
  AND k.contype = 'c'
  AND k.conrelid IN (%(probe)s::regclass, %(table)s::regclass);
