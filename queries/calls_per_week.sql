-- title: Calls per week
-- Calls per week (Monday to Sunday, local time) over the last `weeks` weeks: answered incoming,
-- outgoing, missed incoming, outgoing calls nobody took, and the talk time in hours.
-- param: weeks (integer, default 12): how many weeks back
-- param: from (date, default none): the first day (local time); instead of `weeks`
-- param: to (date, default none): the last day (local time); default: today
SELECT date(e.created_local, 'weekday 0', '-6 days') AS week_starting,
       sum(e.direction = 'incoming') AS incoming,
       sum(e.direction = 'outgoing') AS outgoing,
       sum(e.direction = 'missed_incoming') AS missed,
       sum(e.direction = 'missed_outgoing') AS not_reached,
       round(coalesce(sum(c.duration_s), 0) / 3600.0, 1) AS talk_hours
FROM mirror_events e
JOIN mirror_calls c ON c.event_id = e.id
WHERE e.kind = 'call'
  AND e.created_utc >= coalesce(date(:from, '-1 day'), strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-' || (7 * coalesce(:weeks, 12)) || ' days'))
  AND (:from IS NULL OR e.created_local >= :from)
  AND (:to IS NULL OR (e.created_utc < date(:to, '+2 days') AND e.created_local < date(:to, '+1 day')))
GROUP BY week_starting
ORDER BY week_starting;
