-- title: Missed calls not called back
-- Numbers whose incoming calls were missed in the last `days` days and that nobody called back
-- or heard from afterwards: no outgoing call to the number and no answered call from it since
-- the missed call. One row per number, newest first, with how often it tried since.
-- param: days (integer, default 7): how many days back to look
WITH missed AS (
    SELECT s.number_key AS number_key, s.number_e164 AS number, e.created_utc AS at,
           e.created_local AS at_local
    FROM mirror_events e
    JOIN mirror_event_endpoints s ON s.event_id = e.id AND s.role = 'source' AND s.position = 0
    WHERE e.kind = 'call'
      AND e.direction = 'missed_incoming'
      AND e.location IS NOT 'trash'
      AND s.number_key IS NOT NULL
      AND e.created_utc >= strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-' || coalesce(:days, 7) || ' days')
),
last_contact AS (
    -- The last time we spoke with each number since the window began, in either direction.
    SELECT ep.number_key, max(e.created_utc) AS at
    FROM mirror_events e
    JOIN mirror_event_endpoints ep
      ON ep.event_id = e.id AND ep.position = 0
     AND ep.role = CASE e.direction WHEN 'outgoing' THEN 'target' ELSE 'source' END
    WHERE e.kind = 'call'
      AND e.direction IN ('incoming', 'outgoing')
      AND e.created_utc >= strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-' || coalesce(:days, 7) || ' days')
    GROUP BY ep.number_key
)
SELECT max(m.at_local) AS last_missed,
       min(m.number) AS number,
       (SELECT c.formatted_name FROM mirror_contact_numbers n
          JOIN mirror_contacts c ON c.uuid = n.contact_uuid AND c.upstream_state = 'present'
         WHERE n.number_key = m.number_key ORDER BY c.formatted_name, c.uuid LIMIT 1) AS name,
       count(*) AS missed_calls
FROM missed m
LEFT JOIN last_contact l ON l.number_key = m.number_key
WHERE l.at IS NULL OR m.at > l.at
GROUP BY m.number_key
ORDER BY last_missed DESC;
