-- title: Failed faxes
-- Faxes whose sending failed in the last `days` days, with the recipient and the reason.
-- param: days (integer, default 90): how many days back
-- param: from (date, default none): the first day (local time); instead of `days`
-- param: to (date, default none): the last day (local time); default: today
WITH failed AS (
    SELECT id FROM mirror_events
    WHERE kind = 'fax' AND status = 'failed'
      AND created_utc >= coalesce(date(:from, '-1 day'), strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-' || coalesce(:days, 90) || ' days'))
      AND (:from IS NULL OR created_local >= :from)
      AND (:to IS NULL OR (created_utc < date(:to, '+2 days') AND created_local < date(:to, '+1 day')))
)
SELECT f.id,
       f.created_local AS sent_at,
       coalesce(f.to_name, f.to_number, '(unknown)') AS recipient,
       f.to_number AS number,
       f.page_count AS pages,
       coalesce(f.fail_reason, '(no reason given)') AS reason
FROM failed JOIN faxes f ON f.id = failed.id
ORDER BY f.created DESC;
