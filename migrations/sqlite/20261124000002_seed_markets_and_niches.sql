-- The seven markets and two niches of the partner integration guide. Operators add more
-- through the admin API; these rows are data, not code.
INSERT INTO markets (slug, iso_code, name, aliases, phone_region, phone_code, default_timezone, created_at) VALUES
    ('germany', 'DE', 'Germany', '["deutschland","deu","federal republic of germany"]', 'DE', 49, 'Europe/Berlin', 1795478400000),
    ('austria', 'AT', 'Austria', '["österreich","oesterreich","osterreich","aut"]', 'AT', 43, 'Europe/Vienna', 1795478400000),
    ('spain', 'ES', 'Spain', '["españa","espana","esp","kingdom of spain"]', 'ES', 34, 'Europe/Madrid', 1795478400000),
    ('canada', 'CA', 'Canada', '["can"]', 'CA', 1, 'America/Toronto', 1795478400000),
    ('italy', 'IT', 'Italy', '["italia","ita"]', 'IT', 39, 'Europe/Rome', 1795478400000),
    ('uk', 'GB', 'United Kingdom', '["united kingdom","great britain","britain","england","scotland","wales","northern ireland","gbr","u.k."]', 'GB', 44, 'Europe/London', 1795478400000),
    ('norway', 'NO', 'Norway', '["norge","noreg","nor"]', 'NO', 47, 'Europe/Oslo', 1795478400000);

INSERT INTO niches (slug, name, created_at) VALUES
    ('forex', 'Forex', 1795478400000),
    ('recovery', 'Recovery', 1795478400000);
