-- Finds where a statement's first keyword begins: a regular expression (for ~*)
-- for the blanks and comments (/* … */, -- …) before it, which drivers and ORMs
-- put in front of the text. A fragment, never run alone: catalog_sql.compose puts
-- it where a query names it, and the query concatenates the keywords it looks for.
'^\s*((/\*([^*]|\*+[^*/])*\*+/|--[^\n]*(\n|$))\s*)*'
