UPDATE messages SET status = 'unknown' WHERE status = 'unconfirmed';
PRAGMA writable_schema = ON;
UPDATE sqlite_schema
SET sql = replace(sql, '''unknown'', ''received'', ''unconfirmed'')', '''unknown'', ''received'')')
WHERE type = 'table' AND name = 'messages';
PRAGMA writable_schema = RESET;
