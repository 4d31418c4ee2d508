-- title: Calls per week
-- Calls per week (Monday to Sunday, local time) over the last `weeks` weeks: answered incoming,
-- outgoing, missed incoming, outgoing calls nobody took, and the talk time in hours.
-- param: weeks (integer, default 12): how many weeks back
SELECT date(created_local, 'weekday 0', '-6 days') AS week_starting,
       sum(direction = 'incoming') AS incoming,
       sum(direction = 'outgoing') AS outgoing,
       sum(direction = 'missed_incoming') AS missed,
       sum(direction = 'missed_outgoing') AS not_reached,
       round(coalesce(sum(duration_s), 0) / 3600.0, 1) AS talk_hours
FROM calls
WHERE created >= strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-' || (7 * coalesce(:weeks, 12)) || ' days')
GROUP BY week_starting
ORDER BY week_starting;
