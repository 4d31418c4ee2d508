-- title: Missed calls per user
-- Missed incoming calls over the last `days` days per user they rang (v2: the owner of the
-- device or line; classic: the extension), and how many of those callers were not called
-- back afterwards.
-- param: days (integer, default 30): how many days back
-- param: from (date, default none): the first day (local time); instead of `days`
-- param: to (date, default none): the last day (local time); default: today
WITH missed AS (
    SELECT DISTINCT x.event_id, x.created, coalesce(x.user_name, x.user_id, x.extension_alias) AS user,
           s.number_key
    FROM event_extensions x
    LEFT JOIN mirror_event_endpoints s ON s.event_id = x.event_id AND s.role = 'source' AND s.position = 0
    WHERE x.kind = 'call' AND x.direction = 'missed_incoming'
      AND x.extension_id IS NOT NULL AND x.extension_type IS NOT 'group'
      AND x.created >= coalesce(date(:from, '-1 day'), strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-' || coalesce(:days, 30) || ' days'))
      AND (:from IS NULL OR x.created_local >= :from)
      AND (:to IS NULL OR (x.created < date(:to, '+2 days') AND x.created_local < date(:to, '+1 day')))
),
called AS (
    -- The last call we made to each number since the period began.
    SELECT t.number_key, max(o.created_utc) AS at
    FROM mirror_events o
    JOIN mirror_event_endpoints t ON t.event_id = o.id AND t.role = 'target' AND t.position = 0
    WHERE o.kind = 'call' AND o.direction IN ('outgoing', 'missed_outgoing')
      AND o.upstream_state = 'present' AND t.number_key IS NOT NULL
      AND o.created_utc >= coalesce(date(:from, '-1 day'), strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-' || coalesce(:days, 30) || ' days'))
    GROUP BY t.number_key
)
SELECT user,
       count(*) AS missed,
       sum(m.number_key IS NOT NULL AND (c.at IS NULL OR c.at <= m.created)) AS not_called_back
FROM missed m
LEFT JOIN called c ON c.number_key = m.number_key
GROUP BY user
ORDER BY missed DESC, user;
