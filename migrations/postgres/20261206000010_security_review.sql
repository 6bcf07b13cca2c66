-- After the security review of the console, portal and data protection.

-- A mail's secret (an invitation link's token) is kept apart from its text, sealed with
-- LEADROUTER_SECRET_KEY, only until the mail is sent; lists show the text without it.
ALTER TABLE notifications ADD COLUMN secret TEXT;
-- The lead a mail quotes (a failing partner's answer echoing it), so that erasure and
-- retention clear the mail with the lead.
ALTER TABLE notifications ADD COLUMN lead_id BIGINT;
CREATE INDEX notifications_lead ON notifications (lead_id) WHERE lead_id IS NOT NULL;

-- A refused submission's contact, as keyed hashes of the e-mail and phone read from its
-- body however it was spelled (a form's %40, a phone with spaces), so that erasure finds
-- it by the person rather than by its text.
ALTER TABLE rejected_submissions ADD COLUMN email_hash TEXT;
ALTER TABLE rejected_submissions ADD COLUMN phone_hash TEXT;
CREATE INDEX rejected_submissions_email_hash ON rejected_submissions (email_hash)
    WHERE email_hash IS NOT NULL;
CREATE INDEX rejected_submissions_phone_hash ON rejected_submissions (phone_hash)
    WHERE phone_hash IS NOT NULL;


-- Invitation links mailed or recorded before this version are taken out of the stored
-- texts (an invitation not yet accepted can be sent again from the partner's page).
UPDATE notifications SET body = 'An invitation to the partner portal (the link is not kept).',
    html_body = '' WHERE kind = 'portal_invite';
