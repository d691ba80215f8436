-- Creates the schema pgtune keeps its history in, run only when it does not
-- exist yet: CREATE SCHEMA asks for CREATE on the database before it looks at
-- IF NOT EXISTS, so a role given its own schema by the owner (CREATE SCHEMA
-- pgtune AUTHORIZATION role, which pgtune's refusal advises) would be refused.
-- {schema} is bound by psycopg.sql.
CREATE /* pgtune */ SCHEMA IF NOT EXISTS {schema};
