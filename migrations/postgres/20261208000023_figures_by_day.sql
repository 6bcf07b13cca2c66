-- Day rows of the roll-up: for the kinds read over long periods by group (partner,
-- country, niche, source), one row per UTC day and group ('partner:day', …), the sum of
-- the day's half hours, kept by the roll-up whenever it writes one of them. A year by
-- partner then reads 365 rows a partner instead of 17,520. The half hours rolled before
-- this migration are summed here (their latencies joined; the roll-up merges them when it
-- next writes the day).
INSERT INTO figures (kind, bucket, key, received, delivered, rejected, duplicates, failed,
    returned, conversions, revenue_cents, lead_revenue_cents, cost_cents, latencies)
SELECT kind || ':day', bucket - bucket % 86400000, key, SUM(received), SUM(delivered),
    SUM(rejected), SUM(duplicates), SUM(failed), SUM(returned), SUM(conversions),
    SUM(revenue_cents), SUM(lead_revenue_cents), SUM(cost_cents),
    COALESCE(string_agg(NULLIF(latencies, ''), ' '), '')
FROM figures
WHERE kind IN ('partner', 'country', 'niche', 'source')
GROUP BY kind, bucket - bucket % 86400000, key;
