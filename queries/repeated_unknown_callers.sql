-- title: Unknown numbers that call repeatedly
-- Numbers that are in no contact and called at least `min_calls` times in the last `days` days
-- (answered or missed): candidates for the phone book, or for a block list.
-- param: days (integer, default 30): how many days back
-- param: min_calls (integer, default 3): the fewest calls to be listed
SELECT min(s.number_e164) AS number,
       count(*) AS calls,
       sum(e.direction = 'missed_incoming') AS missed,
       min(e.created_local) AS first_call,
       max(e.created_local) AS last_call
FROM mirror_events e
JOIN mirror_event_endpoints s ON s.event_id = e.id AND s.role = 'source' AND s.position = 0
WHERE e.kind = 'call'
  AND e.direction IN ('incoming', 'missed_incoming')
  AND s.number_key IS NOT NULL
  AND e.created_utc >= strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-' || coalesce(:days, 30) || ' days')
  AND NOT EXISTS (SELECT 1 FROM mirror_contact_numbers n
                   JOIN mirror_contacts k ON k.uuid = n.contact_uuid AND k.upstream_state = 'present'
                  WHERE n.number_key = s.number_key)
GROUP BY s.number_key
HAVING count(*) >= coalesce(:min_calls, 3)
ORDER BY calls DESC, last_call DESC;
