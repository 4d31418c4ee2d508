-- title: Calls per day
-- Calls per local day over the last `days` days: answered incoming, outgoing, missed incoming,
-- outgoing calls nobody took, and the talk time in minutes. (Reads the tables behind the
-- `calls` view, through an index that holds every column it needs, to stay fast on big mirrors.)
-- param: days (integer, default 30): how many days back
-- param: from (date, default none): the first day (local time); instead of `days`
-- param: to (date, default none): the last day (local time); default: today
SELECT date(e.created_local) AS day,
       sum(e.direction = 'incoming') AS incoming,
       sum(e.direction = 'outgoing') AS outgoing,
       sum(e.direction = 'missed_incoming') AS missed,
       sum(e.direction = 'missed_outgoing') AS not_reached,
       round(coalesce(sum(c.duration_s), 0) / 60.0, 1) AS talk_minutes
FROM mirror_events e
JOIN mirror_calls c ON c.event_id = e.id
WHERE e.kind = 'call'
  AND e.created_utc >= coalesce(date(:from, '-1 day'), strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-' || coalesce(:days, 30) || ' days'))
  AND (:from IS NULL OR e.created_local >= :from)
  AND (:to IS NULL OR (e.created_utc < date(:to, '+2 days') AND e.created_local < date(:to, '+1 day')))
GROUP BY day
ORDER BY day;
