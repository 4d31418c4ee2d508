-- title: Missed calls by hour of the week
-- Missed incoming calls over the last `days` days by local weekday (1 Monday … 7 Sunday) and
-- hour: when nobody is there to answer.
-- param: days (integer, default 90): how many days back
-- param: from (date, default none): the first day (local time); instead of `days`
-- param: to (date, default none): the last day (local time); default: today
SELECT CAST(strftime('%u', e.created_local) AS INTEGER) AS weekday,
       CAST(strftime('%H', e.created_local) AS INTEGER) AS hour,
       count(*) AS missed
FROM mirror_events e
WHERE e.kind = 'call' AND e.direction = 'missed_incoming'
  AND e.created_utc >= coalesce(date(:from, '-1 day'), strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-' || coalesce(:days, 90) || ' days'))
  AND (:from IS NULL OR e.created_local >= :from)
  AND (:to IS NULL OR (e.created_utc < date(:to, '+2 days') AND e.created_local < date(:to, '+1 day')))
GROUP BY weekday, hour
ORDER BY weekday, hour;
