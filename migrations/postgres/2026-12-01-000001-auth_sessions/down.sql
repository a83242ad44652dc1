UPDATE refresh_tokens t SET revoked_at = s.revoked_at
    FROM sessions s WHERE s.id = t.session_id AND t.revoked_at IS NULL AND s.revoked_at IS NOT NULL;
ALTER TABLE refresh_tokens DROP COLUMN session_id;
DROP TABLE sessions;
