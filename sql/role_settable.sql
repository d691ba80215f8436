-- Finds whether this session may SET ROLE to the role a target was planned under at emit (its row security):
-- SET ROLE asks the session user's membership. NULL: no such role any more.
SELECT /* pgtune */ pg_catalog.pg_has_role(session_user, r.oid, 'MEMBER') AS can_set
FROM pg_catalog.pg_roles AS r
WHERE r.rolname = %(role)s;
