-- title: Top callers
-- Who called most in the last `days` days (answered and missed), by name where the number
-- belongs to a contact, with the talk time.
-- param: days (integer, default 90): how many days back
-- param: limit (integer, default 10): how many callers
-- param: from (date, default none): the first day (local time); instead of `days`
-- param: to (date, default none): the last day (local time); default: today
WITH top AS (
    SELECT s.number_key AS number_key,
           min(s.number_e164) AS number,
           count(*) AS calls,
           sum(e.direction = 'missed_incoming') AS missed,
           coalesce(sum(c.duration_s), 0) AS seconds
    FROM mirror_events e
    JOIN mirror_calls c ON c.event_id = e.id
    LEFT JOIN mirror_event_endpoints s ON s.event_id = e.id AND s.role = 'source' AND s.position = 0
    WHERE e.kind = 'call'
      AND e.direction IN ('incoming', 'missed_incoming')
      AND e.created_utc >= coalesce(date(:from, '-1 day'), strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-' || coalesce(:days, 90) || ' days'))
      AND (:from IS NULL OR e.created_local >= :from)
      AND (:to IS NULL OR (e.created_utc < date(:to, '+2 days') AND e.created_local < date(:to, '+1 day')))
    GROUP BY coalesce(s.number_key, s.number_e164)
    ORDER BY calls DESC, seconds DESC, number
    LIMIT coalesce(:limit, 10)
)
SELECT coalesce((SELECT k.formatted_name FROM mirror_contact_numbers n
                   JOIN mirror_contacts k ON k.uuid = n.contact_uuid AND k.upstream_state = 'present'
                  WHERE n.number_key = top.number_key ORDER BY k.formatted_name, k.uuid LIMIT 1),
                CASE WHEN number GLOB '[1-9]*' THEN '+' || number END, '(unknown)') AS caller,
       CASE WHEN number GLOB '[1-9]*' THEN '+' || number ELSE nullif(number, '') END AS number,
                                                     -- E.164 with +, as the exports write it
       calls,
       missed,
       round(seconds / 60.0, 1) AS talk_minutes
FROM top
ORDER BY calls DESC, seconds DESC, number;
