-- title: Talk time per line
-- Calls and talk time per line or device (phone, app, fax line; not groups) over the last
-- `days` days: v2 counts every extension a call touched, classic the one that handled it;
-- `(none)` holds the calls no extension is known for.
-- param: days (integer, default 30): how many days back
-- param: from (date, default none): the first day (local time); instead of `days`
-- param: to (date, default none): the last day (local time); default: today
SELECT coalesce(x.extension_id, '(none)') AS extension,
       x.extension_alias AS name,
       x.user_name AS user,
       count(*) AS calls,
       sum(x.direction IN ('incoming', 'outgoing')) AS connected,
       round(coalesce(sum(c.duration_s), 0) / 60.0, 1) AS talk_minutes,
       round(coalesce(avg(CASE WHEN x.direction IN ('incoming', 'outgoing') THEN c.duration_s END), 0) / 60.0, 1)
           AS average_minutes
FROM event_extensions x
JOIN mirror_calls c ON c.event_id = x.event_id
WHERE x.kind = 'call' AND x.extension_type IS NOT 'group'
  AND x.created >= coalesce(date(:from, '-1 day'), strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-' || coalesce(:days, 30) || ' days'))
  AND (:from IS NULL OR x.created_local >= :from)
  AND (:to IS NULL OR (x.created < date(:to, '+2 days') AND x.created_local < date(:to, '+1 day')))
GROUP BY x.extension_id
ORDER BY talk_minutes DESC, extension;
