-- A message in doubt with no status report for UNKNOWN_SETTLE_SECS becomes `unconfirmed`.
ALTER TABLE messages DROP CONSTRAINT messages_status_check;
ALTER TABLE messages ADD CONSTRAINT messages_status_check
    CHECK (status IN ('queued', 'sending', 'sent', 'delivered', 'read', 'failed', 'unknown', 'received', 'unconfirmed'));
