-- A lead stored by one instance wakes every instance's router at once: each insert of
-- leads notifies 'leadrouter_work' when its transaction commits (one notification per
-- statement), and every instance listens (store::listen). Each still polls as a fallback.
CREATE FUNCTION leadrouter_leads_stored() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('leadrouter_work', 'leads');
    RETURN NULL;
END
$$;
CREATE TRIGGER leads_stored AFTER INSERT ON leads
    FOR EACH STATEMENT EXECUTE FUNCTION leadrouter_leads_stored();
