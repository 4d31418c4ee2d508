-- title: Calls per day
-- Calls per local day over the last `days` days: answered incoming, outgoing, missed incoming,
-- outgoing calls nobody took, and the talk time in minutes.
-- param: days (integer, default 30): how many days back
SELECT date(created_local) AS day,
       sum(direction = 'incoming') AS incoming,
       sum(direction = 'outgoing') AS outgoing,
       sum(direction = 'missed_incoming') AS missed,
       sum(direction = 'missed_outgoing') AS not_reached,
       round(coalesce(sum(duration_s), 0) / 60.0, 1) AS talk_minutes
FROM calls
WHERE created >= strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-' || coalesce(:days, 30) || ' days')
GROUP BY day
ORDER BY day;
