-- title: Talk time per user
-- Who talked how long over the last `days` days: calls answered and made per user (v2: the
-- owner of the device or line; classic: the extension), with the talk time.
-- param: days (integer, default 30): how many days back
-- param: from (date, default none): the first day (local time); instead of `days`
-- param: to (date, default none): the last day (local time); default: today
WITH per_call AS (
    SELECT DISTINCT x.event_id, coalesce(x.user_name, x.user_id, x.extension_alias) AS user,
           x.direction, c.duration_s
    FROM event_extensions x
    JOIN mirror_calls c ON c.event_id = x.event_id
    WHERE x.kind = 'call' AND x.direction IN ('incoming', 'outgoing')
      AND x.extension_id IS NOT NULL AND x.extension_type IS NOT 'group'
      AND x.created >= coalesce(date(:from, '-1 day'), strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-' || coalesce(:days, 30) || ' days'))
      AND (:from IS NULL OR x.created_local >= :from)
      AND (:to IS NULL OR (x.created < date(:to, '+2 days') AND x.created_local < date(:to, '+1 day')))
)
SELECT user,
       sum(direction = 'incoming') AS answered,
       sum(direction = 'outgoing') AS made,
       round(coalesce(sum(duration_s), 0) / 60.0, 1) AS talk_minutes,
       round(coalesce(avg(duration_s), 0) / 60.0, 1) AS average_minutes
FROM per_call
GROUP BY user
ORDER BY talk_minutes DESC, user;
