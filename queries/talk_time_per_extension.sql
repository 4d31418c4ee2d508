-- title: Talk time per extension
-- Calls and talk time per extension (phone, app, group) over the last `days` days.
-- param: days (integer, default 30): how many days back
SELECT coalesce(extension, '(none)') AS extension,
       extension_alias AS name,
       count(*) AS calls,
       sum(direction IN ('incoming', 'outgoing')) AS connected,
       round(coalesce(sum(duration_s), 0) / 60.0, 1) AS talk_minutes,
       round(coalesce(avg(CASE WHEN direction IN ('incoming', 'outgoing') THEN duration_s END), 0) / 60.0, 1)
           AS average_minutes
FROM calls
WHERE created >= strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-' || coalesce(:days, 30) || ' days')
GROUP BY extension
ORDER BY talk_minutes DESC, extension;
