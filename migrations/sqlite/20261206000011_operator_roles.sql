-- Operator roles: 'admin' may do everything, 'viewer' may only look.
ALTER TABLE admin_users ADD COLUMN role TEXT NOT NULL DEFAULT 'admin';
