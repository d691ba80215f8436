-- Each hypothetical index of this session (HypoPG's name) and HypoPG's forecast of its size in bytes.
-- {sizes} and {hypothetical} are hypopg_relation_size and hypopg, named with HypoPG's schema.
SELECT /* pgtune */ h.indexname, {sizes}(h.indexrelid) FROM {hypothetical}() h
