CREATE TABLE refresh_tokens_old (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    expires_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL
);
INSERT INTO refresh_tokens_old (id, user_id, token_hash, expires_at, revoked_at, created_at)
    SELECT t.id, t.user_id, t.token_hash, t.expires_at, COALESCE(t.revoked_at, s.revoked_at), t.created_at
    FROM refresh_tokens t JOIN sessions s ON s.id = t.session_id;
DROP TABLE refresh_tokens;
ALTER TABLE refresh_tokens_old RENAME TO refresh_tokens;
CREATE INDEX refresh_tokens_user_idx ON refresh_tokens (user_id);
DROP TABLE sessions;
