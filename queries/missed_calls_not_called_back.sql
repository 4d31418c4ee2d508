-- title: Missed calls not called back
-- Numbers whose incoming calls were missed in the last `days` days and that nobody called back
-- or heard from afterwards: no outgoing call to the number and no answered call from it since
-- the missed call. One row per number, newest first, with how often it tried.
-- param: days (integer, default 7): how many days back to look
SELECT max(m.created_local) AS last_missed,
       m.from_number AS number,
       m.from_name AS name,
       count(*) AS missed_calls
FROM calls m
WHERE m.direction = 'missed_incoming'
  AND m.location <> 'trash'
  AND m.from_number_key IS NOT NULL
  AND m.created >= strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-' || coalesce(:days, 7) || ' days')
  AND NOT EXISTS (
        SELECT 1
        FROM mirror_event_endpoints ep
        JOIN mirror_events later ON later.id = ep.event_id
        WHERE ep.number_key = m.from_number_key
          AND later.kind = 'call'
          AND later.created_utc > m.created
          AND ((ep.role = 'target' AND later.direction = 'outgoing')
               OR (ep.role = 'source' AND later.direction = 'incoming')))
GROUP BY m.from_number_key
ORDER BY last_missed DESC;
