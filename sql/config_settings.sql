-- Finds every server setting in force with where it came from: its value in
-- its unit, the context that says how a change takes effect (postmaster: a
-- restart; sighup: a reload), and whether a change already waits for a restart.
SELECT /* pgtune */ s.name,
       s.setting,
       s.unit,
       s.vartype,
       s.source,
       s.context,
       s.boot_val,
       s.reset_val,
       s.pending_restart,
       pg_catalog.current_setting(s.name) AS shown
FROM pg_catalog.pg_settings AS s
ORDER BY s.name;
