-- A partner's page counts the deliveries it answered as duplicates lately: from an index of
-- the duplicates alone (few), instead of reading every delivery of the partner.
CREATE INDEX deliveries_duplicates ON deliveries (partner_id, completed_at)
    WHERE status = 'duplicate';
