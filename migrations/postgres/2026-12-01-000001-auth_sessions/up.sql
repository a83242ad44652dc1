-- One session per sign-in. Its refresh tokens (rotated on every use) and the access tokens issued
-- from it name it; revoking it stops them all.
CREATE TABLE sessions (
    id BIGSERIAL PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP
);
CREATE INDEX sessions_user_idx ON sessions (user_id);

-- Every existing refresh token becomes its own session (same id), revoked when the token was.
INSERT INTO sessions (id, user_id, created_at, revoked_at)
    SELECT id, user_id, created_at, revoked_at FROM refresh_tokens;
SELECT setval(pg_get_serial_sequence('sessions', 'id'), COALESCE((SELECT MAX(id) FROM sessions), 0) + 1, false);

ALTER TABLE refresh_tokens ADD COLUMN session_id BIGINT REFERENCES sessions (id) ON DELETE CASCADE;
UPDATE refresh_tokens SET session_id = id;
ALTER TABLE refresh_tokens ALTER COLUMN session_id SET NOT NULL;
CREATE INDEX refresh_tokens_session_idx ON refresh_tokens (session_id);
