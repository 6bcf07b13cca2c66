-- E-mail through an outbox: a notification is written with the event that causes it (its
-- dedupe key makes a repeated event queue nothing new), then sent by the mailer with a
-- lease and retries. Addresses Postmark reports inactive are suppressed.
ALTER TABLE notifications ADD COLUMN dedupe_key TEXT;
ALTER TABLE notifications ADD COLUMN html_body TEXT NOT NULL DEFAULT '';
ALTER TABLE notifications ADD COLUMN bcc TEXT;
ALTER TABLE notifications ADD COLUMN attempts BIGINT NOT NULL DEFAULT 0;
ALTER TABLE notifications ADD COLUMN next_attempt_at BIGINT;
ALTER TABLE notifications ADD COLUMN error_code BIGINT;
CREATE UNIQUE INDEX notifications_dedupe ON notifications (dedupe_key);
CREATE INDEX notifications_due ON notifications (status, next_attempt_at);

CREATE TABLE suppressed_recipients (
    email  TEXT PRIMARY KEY,
    reason TEXT NOT NULL,
    at     BIGINT NOT NULL
);

-- When a partner's current failure streak began (cleared by a delivery): one "failing"
-- mail per streak. And whether it wants a daily summary.
ALTER TABLE partners ADD COLUMN failing_since BIGINT;
ALTER TABLE partners ADD COLUMN daily_summary SMALLINT NOT NULL DEFAULT 0;
