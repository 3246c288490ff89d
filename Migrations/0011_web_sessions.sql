-- Browser sessions: the cookie holds a random token, the table only its SHA-256. Each session
-- has its own CSRF token for the forms it is shown, and, on a tablet, the machine it is at.
CREATE TABLE web_session (
    token_sha256    text PRIMARY KEY CHECK (token_sha256 ~ '^[0-9a-f]{64}$'),
    user_id         bigint NOT NULL REFERENCES app_user (id),
    csrf_token      text NOT NULL CHECK (length(csrf_token) >= 32),
    machine_id      bigint REFERENCES machine (id),
    remote_address  text,
    created_at      timestamptz NOT NULL,
    last_seen_at    timestamptz NOT NULL,
    expires_at      timestamptz NOT NULL CHECK (expires_at > created_at)
);
CREATE INDEX web_session_user_idx ON web_session (user_id);
CREATE INDEX web_session_expiry_idx ON web_session (expires_at);
