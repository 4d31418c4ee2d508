-- title: Calls per group
-- Calls that came in through a group (v2 `connectionIds`; the classic API does not say) over
-- the last `days` days: answered, missed, and the talk time.
-- param: days (integer, default 30): how many days back
-- param: from (date, default none): the first day (local time); instead of `days`
-- param: to (date, default none): the last day (local time); default: today
SELECT x.extension_alias AS "group",
       count(*) AS calls,
       sum(x.direction = 'incoming') AS answered,
       sum(x.direction = 'missed_incoming') AS missed,
       round(coalesce(sum(c.duration_s), 0) / 60.0, 1) AS talk_minutes
FROM event_extensions x
JOIN mirror_calls c ON c.event_id = x.event_id
WHERE x.kind = 'call' AND x.extension_type = 'group'
  AND x.created >= coalesce(date(:from, '-1 day'), strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-' || coalesce(:days, 30) || ' days'))
  AND (:from IS NULL OR x.created_local >= :from)
  AND (:to IS NULL OR (x.created < date(:to, '+2 days') AND x.created_local < date(:to, '+1 day')))
GROUP BY x.extension_id
ORDER BY calls DESC, "group";
