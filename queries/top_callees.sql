-- title: Top callees
-- Whom we called most in the last `days` days (reached or not), by name where the number
-- belongs to a contact, with the talk time.
-- param: days (integer, default 90): how many days back
-- param: limit (integer, default 10): how many callees
WITH top AS (
    SELECT s.number_key AS number_key,
           min(s.number_e164) AS number,
           count(*) AS calls,
           sum(e.direction = 'missed_outgoing') AS not_reached,
           coalesce(sum(c.duration_s), 0) AS seconds
    FROM mirror_events e
    JOIN mirror_calls c ON c.event_id = e.id
    LEFT JOIN mirror_event_endpoints s ON s.event_id = e.id AND s.role = 'target' AND s.position = 0
    WHERE e.kind = 'call'
      AND e.direction IN ('outgoing', 'missed_outgoing')
      AND e.created_utc >= strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-' || coalesce(:days, 90) || ' days')
    GROUP BY coalesce(s.number_key, s.number_e164)
    ORDER BY calls DESC, seconds DESC, number
    LIMIT coalesce(:limit, 10)
)
SELECT coalesce((SELECT k.formatted_name FROM mirror_contact_numbers n
                   JOIN mirror_contacts k ON k.uuid = n.contact_uuid AND k.upstream_state = 'present'
                  WHERE n.number_key = top.number_key ORDER BY k.formatted_name, k.uuid LIMIT 1),
                nullif(number, ''), '(unknown)') AS callee,
       nullif(number, '') AS number,
       calls,
       not_reached,
       round(seconds / 60.0, 1) AS talk_minutes
FROM top
ORDER BY calls DESC, seconds DESC, number;
