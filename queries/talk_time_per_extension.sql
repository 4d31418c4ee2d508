-- title: Talk time per extension
-- Calls and talk time per extension (phone, app, group) over the last `days` days.
-- param: days (integer, default 30): how many days back
SELECT coalesce(e.extension_id, '(none)') AS extension,
       x.alias AS name,
       count(*) AS calls,
       sum(e.direction IN ('incoming', 'outgoing')) AS connected,
       round(coalesce(sum(c.duration_s), 0) / 60.0, 1) AS talk_minutes,
       round(coalesce(avg(CASE WHEN e.direction IN ('incoming', 'outgoing') THEN c.duration_s END), 0) / 60.0, 1)
           AS average_minutes
FROM mirror_events e
JOIN mirror_calls c ON c.event_id = e.id
LEFT JOIN mirror_extensions x ON x.extension_id = e.extension_id
WHERE e.kind = 'call'
  AND e.created_utc >= strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-' || coalesce(:days, 30) || ' days')
GROUP BY e.extension_id
ORDER BY talk_minutes DESC, extension;
