-- title: Unknown numbers that call repeatedly
-- Numbers that are in no contact and called at least `min_calls` times in the last `days` days
-- (answered or missed): candidates for the phone book, or for a block list.
-- param: days (integer, default 30): how many days back
-- param: min_calls (integer, default 3): the fewest calls to be listed
SELECT from_number AS number,
       count(*) AS calls,
       sum(direction = 'missed_incoming') AS missed,
       min(created_local) AS first_call,
       max(created_local) AS last_call
FROM calls c
WHERE direction IN ('incoming', 'missed_incoming')
  AND from_number_key IS NOT NULL
  AND created >= strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-' || coalesce(:days, 30) || ' days')
  AND NOT EXISTS (SELECT 1 FROM mirror_contact_numbers n
                   JOIN mirror_contacts k ON k.uuid = n.contact_uuid AND k.upstream_state = 'present'
                  WHERE n.number_key = c.from_number_key)
GROUP BY from_number_key
HAVING count(*) >= coalesce(:min_calls, 3)
ORDER BY calls DESC, last_call DESC;
