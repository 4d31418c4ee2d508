-- title: Top callers
-- Who called most in the last `days` days (answered and missed), by name where the number
-- belongs to a contact, with the talk time.
-- param: days (integer, default 90): how many days back
-- param: limit (integer, default 10): how many callers
SELECT coalesce(from_name, from_number, '(unknown)') AS caller,
       from_number AS number,
       count(*) AS calls,
       sum(direction = 'missed_incoming') AS missed,
       round(coalesce(sum(duration_s), 0) / 60.0, 1) AS talk_minutes
FROM calls
WHERE direction IN ('incoming', 'missed_incoming')
  AND created >= strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-' || coalesce(:days, 90) || ' days')
GROUP BY coalesce(from_number_key, from_number)
ORDER BY calls DESC, talk_minutes DESC, caller
LIMIT coalesce(:limit, 10);
