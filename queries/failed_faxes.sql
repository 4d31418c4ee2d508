-- title: Failed faxes
-- Faxes whose sending failed in the last `days` days, with the recipient and the reason.
-- param: days (integer, default 90): how many days back
SELECT id,
       created_local AS sent_at,
       coalesce(to_name, to_number, '(unknown)') AS recipient,
       to_number AS number,
       page_count AS pages,
       coalesce(fail_reason, '(no reason given)') AS reason
FROM faxes
WHERE status = 'failed'
  AND created >= strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-' || coalesce(:days, 90) || ' days')
ORDER BY created DESC;
