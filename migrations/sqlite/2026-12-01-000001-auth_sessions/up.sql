-- One session per sign-in. Its refresh tokens (rotated on every use) and the access tokens issued
-- from it name it; revoking it stops them all.
CREATE TABLE sessions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP
);
CREATE INDEX sessions_user_idx ON sessions (user_id);

-- Every existing refresh token becomes its own session (same id), revoked when the token was.
INSERT INTO sessions (id, user_id, created_at, revoked_at)
    SELECT id, user_id, created_at, revoked_at FROM refresh_tokens;

CREATE TABLE refresh_tokens_new (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    expires_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    session_id BIGINT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE
);
INSERT INTO refresh_tokens_new (id, user_id, token_hash, expires_at, revoked_at, created_at, session_id)
    SELECT id, user_id, token_hash, expires_at, revoked_at, created_at, id FROM refresh_tokens;
DROP TABLE refresh_tokens;
ALTER TABLE refresh_tokens_new RENAME TO refresh_tokens;
CREATE INDEX refresh_tokens_user_idx ON refresh_tokens (user_id);
CREATE INDEX refresh_tokens_session_idx ON refresh_tokens (session_id);
