-- Partner rules (API.md "Partner rules"): the conditions on a lead a partner buys by.
ALTER TABLE partners ADD COLUMN filters TEXT NOT NULL DEFAULT '[]';
