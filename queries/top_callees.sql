-- title: Top callees
-- Whom we called most in the last `days` days (reached or not), by name where the number
-- belongs to a contact, with the talk time.
-- param: days (integer, default 90): how many days back
-- param: limit (integer, default 10): how many callees
SELECT coalesce(to_name, to_number, '(unknown)') AS callee,
       to_number AS number,
       count(*) AS calls,
       sum(direction = 'missed_outgoing') AS not_reached,
       round(coalesce(sum(duration_s), 0) / 60.0, 1) AS talk_minutes
FROM calls
WHERE direction IN ('outgoing', 'missed_outgoing')
  AND created >= strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-' || coalesce(:days, 90) || ' days')
GROUP BY coalesce(to_number_key, to_number)
ORDER BY calls DESC, talk_minutes DESC, callee
LIMIT coalesce(:limit, 10);
