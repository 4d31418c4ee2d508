-- title: Failed faxes
-- Faxes whose sending failed in the last `days` days, with the recipient and the reason.
-- param: days (integer, default 90): how many days back
WITH failed AS (
    SELECT id FROM mirror_events
    WHERE kind = 'fax' AND status = 'failed'
      AND created_utc >= strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-' || coalesce(:days, 90) || ' days')
)
SELECT f.id,
       f.created_local AS sent_at,
       coalesce(f.to_name, f.to_number, '(unknown)') AS recipient,
       f.to_number AS number,
       f.page_count AS pages,
       coalesce(f.fail_reason, '(no reason given)') AS reason
FROM failed JOIN faxes f ON f.id = failed.id
ORDER BY f.created DESC;
