-- A message in doubt with no status report for UNKNOWN_SETTLE_SECS becomes `unconfirmed`.
-- SQLite cannot alter a CHECK constraint; widening an IN list changes nothing stored, so the table
-- definition is edited in place (the procedure of "ALTER TABLE", section 7, of SQLite's manual)
-- instead of rebuilding the table, whose rows other tables reference with ON DELETE CASCADE.
PRAGMA writable_schema = ON;
UPDATE sqlite_schema
SET sql = replace(sql, '''unknown'', ''received'')', '''unknown'', ''received'', ''unconfirmed'')')
WHERE type = 'table' AND name = 'messages';
PRAGMA writable_schema = RESET;
